"""The request URL a DPoP proof's ``htu`` is compared with (RFC 9449 section 4.3).

The comparison ignores the query and fragment and applies the syntax- and
scheme-based normalization of RFC 3986 section 6.2.2 and 6.2.3 to both
sides: lower-case scheme and host, the scheme's default port dropped, an
empty path read as ``/``, percent-encoding in one canonical form (a path the
framework already decoded and the same path as the client encoded it compare
equal).

Behind a TLS-terminating proxy the application sees ``http://backend:8000``
while the client signed ``https://api.example``. Forwarded headers fix that,
but only the ones the settings name: a header a client can set itself would
otherwise let it choose the URL its proof is checked against.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import quote, unquote, urlsplit

from ..errors import ConfigurationError

__all__ = ["FORWARDED_PARTS", "RequestURL", "normalize_htu"]

FORWARDED_PARTS = frozenset({"proto", "host", "port", "prefix"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
# RFC 3986 section 3.3: pchar minus "%", plus "/"; everything else is encoded.
_PATH_SAFE = "/:@!$&'()*+,;=-._~"
# RFC 3986 section 3.2.2: an IP literal or a reg-name (IDNs arrive as punycode).
_REG_NAME = r"[A-Za-z0-9\-._~!$&'()*+,;=%]+"
_HOST = re.compile(rf"(\[[0-9A-Fa-f:.]+\]|{_REG_NAME})(?::([0-9]{{1,5}}))?\Z")
_HOSTNAME = re.compile(rf"{_REG_NAME}|[0-9A-Fa-f:.]+")
_HEADER_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+\Z")


def _canonical_path(path: str) -> str:
    decoded = unquote(path, errors="surrogateescape")
    try:
        raw = decoded.encode("utf-8", "surrogateescape")  # undecodable bytes, as they came
    except UnicodeEncodeError:
        raw = decoded.encode("utf-8", "surrogatepass")  # a lone surrogate from the framework
    return quote(raw, safe=_PATH_SAFE)


def _authority(scheme: str, host: str, port: int | None) -> str:
    host = host.lower()
    if port is None or _DEFAULT_PORTS.get(scheme) == port:
        return host
    return f"{host}:{port}"


def _split_host(value: str) -> tuple[str, int | None] | None:
    match = _HOST.match(value.strip())
    if match is None:
        return None
    host, port = match.groups()
    if port is None:
        return host, None
    number = int(port)
    return (host, number) if 0 < number < 65536 else None


def normalize_htu(htu: str) -> str | None:
    """``htu`` in comparison form, or ``None`` when it is not an absolute http(s) URI."""
    try:
        parts = urlsplit(htu)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname or parts.username is not None:
        return None
    host = parts.hostname
    if _HOSTNAME.fullmatch(host) is None:
        return None
    if ":" in host:  # urlsplit drops the brackets of an IPv6 literal
        host = f"[{host}]"
    return f"{scheme}://{_authority(scheme, host, port)}{_canonical_path(parts.path or '/')}"


@dataclass(frozen=True)
class RequestURL:
    """How the application reconstructs the URL the client called.

    Args:
        forwarded_headers: which request headers a trusted reverse proxy
            sets, by part: ``{"proto": "X-Forwarded-Proto", "host":
            "X-Forwarded-Host", "port": "X-Forwarded-Port", "prefix":
            "X-Forwarded-Prefix"}``. Empty (the default): only the request's
            own scheme, ``Host`` and path count. When a proxy appends to a
            header, the last (right-most) value is the one it set, and is
            the one used.
    """

    forwarded_headers: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        names = dict(self.forwarded_headers)
        for part, header in names.items():
            if part not in FORWARDED_PARTS:
                raise ConfigurationError(
                    "dpop_forwarded_headers",
                    f"unknown part {part!r}; use {', '.join(sorted(FORWARDED_PARTS))}",
                )
            if not isinstance(header, str) or _HEADER_NAME.match(header) is None:
                raise ConfigurationError(
                    "dpop_forwarded_headers", f"{part}: {header!r} is not a header name"
                )
        object.__setattr__(self, "forwarded_headers", {p: h.lower() for p, h in names.items()})

    def _forwarded(self, part: str, headers: Mapping[str, str]) -> str | None:
        name = self.forwarded_headers.get(part)
        if name is None:
            return None
        value = headers.get(name)
        if value is None:
            return None
        last = value.split(",")[-1].strip()
        return last or None

    def build(self, *, scheme: str, host: str, path: str, headers: Mapping[str, str]) -> str | None:
        """The request's URL in comparison form, or ``None`` when its parts are unusable.

        ``headers`` maps lower-case header names to values; only the names
        configured in :attr:`forwarded_headers` are read.
        """
        scheme = (self._forwarded("proto", headers) or scheme).lower()
        if scheme not in _DEFAULT_PORTS:
            return None
        split = _split_host(self._forwarded("host", headers) or host)
        if split is None:
            return None
        hostname, port = split
        forwarded_port = self._forwarded("port", headers)
        if forwarded_port is not None:
            if not forwarded_port.isdigit() or not 0 < int(forwarded_port) < 65536:
                return None
            port = int(forwarded_port)
        prefix = self._forwarded("prefix", headers) or ""
        full_path = prefix.rstrip("/") + (path if path.startswith("/") else "/" + path)
        return f"{scheme}://{_authority(scheme, hostname, port)}{_canonical_path(full_path)}"
