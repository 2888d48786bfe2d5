"""Decisions of the remote key set, as plain functions over plain data.

:mod:`jwt_guard_core.remote` does the I/O (sync and async); everything it
decides about a URL, a redirect, a response's headers or body lives here, so
both paths share one implementation and the rules can be read in one place.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from . import events
from .encoding import DecodeError, parse_json_object
from .keys import KeyRejected, VerificationKey, build_key_index, key_from_jwk

__all__ = [
    "FetchError",
    "ParsedJWKS",
    "backoff_delay",
    "check_content_type",
    "check_redirect",
    "check_url",
    "is_loopback_host",
    "parse_discovery",
    "parse_jwks",
    "retry_after_seconds",
    "ttl_from_headers",
]

BACKOFF_BASE = 1.0
BACKOFF_MAX = 60.0
RETRY_AFTER_MAX = 300.0
MAX_REDIRECTS = 3
_KID_LIMIT = 64


class FetchError(Exception):
    """A fetch failed. ``reason`` is a stable machine code for events and ``health()``.

    ``url`` is where it failed (set by the I/O layer); ``retry_after``
    carries the server's own hint (``Retry-After`` on 429 or 503), which
    lengthens the backoff.
    """

    def __init__(self, reason: str, message: str, *, retry_after: float | None = None) -> None:
        self.reason = reason
        self.message = message
        self.retry_after = retry_after
        self.url: str | None = None
        super().__init__(f"{reason}: {message}")


def short(text: str, limit: int = _KID_LIMIT) -> str:
    """Attacker-chosen strings (a kid) are truncated before they reach a log line."""
    return text if len(text) <= limit else text[:limit] + "..."


# --- URLs ------------------------------------------------------------------------


def is_loopback_host(host: str) -> bool:
    """``localhost``, 127.0.0.0/8 and ``::1``: traffic that never leaves the machine."""
    name = host.strip("[]").lower().rstrip(".")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_url(url: object, *, allow_http: bool) -> str | None:
    """Why ``url`` may not be fetched, or ``None`` when it may.

    Plain http lets anyone on the path swap the keys and so mint tokens; it
    is refused except for loopback hosts or with an explicit ``allow_http``.
    Credentials in the URL would end up in logs and events.
    """
    if not isinstance(url, str) or not url:
        return f"{url!r} is not a URL string"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return f"{url!r} is not a valid URL"
    if parts.scheme not in ("https", "http"):
        return f"{url!r} must be an https URL"
    if not parts.hostname:
        return f"{url!r} has no host"
    if parts.username is not None or parts.password is not None:
        return "the URL must not carry credentials (user:password@)"
    if parts.fragment:
        return f"{url!r} must not have a fragment"
    if parts.scheme == "http" and not allow_http and not is_loopback_host(parts.hostname):
        return (
            f"{url!r} uses plain http; key sets must come over https (http is accepted only for "
            "loopback hosts, or with allow_http=True)"
        )
    return None


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default


def check_redirect(from_url: str, location: str | None, *, allow_http: bool) -> str:
    """The absolute target of a redirect, or :class:`FetchError` when it is refused.

    Only a redirect to the same origin (scheme, host and port) is followed: a
    key set that can be redirected elsewhere can be replaced by whoever
    controls the other host, and an https-to-http hop would undo TLS.
    """
    if not location:
        raise FetchError("bad_redirect", "a redirect without a Location header")
    target = urljoin(from_url, location)
    problem = check_url(target, allow_http=allow_http)
    if problem is not None:
        raise FetchError("redirect_refused", f"redirect to an unusable URL: {problem}")
    if _origin(target) != _origin(from_url):
        raise FetchError(
            "redirect_refused",
            f"redirect from {_origin_text(from_url)} to another origin {_origin_text(target)} "
            "is refused",
        )
    return target


def _origin_text(url: str) -> str:
    scheme, host, port = _origin(url)
    return f"{scheme}://{host}:{port}"


# --- response headers ----------------------------------------------------------------


def check_content_type(value: str | None) -> None:
    """Refuse a body that does not say it is JSON.

    A login page, an HTML error page from a proxy or a captive portal is
    caught here with a clear message instead of as a JSON syntax error.
    """
    media = (value or "").split(";", 1)[0].strip().lower()
    if media in ("application/json", "application/jwk-set+json") or (
        media.startswith("application/") and media.endswith("+json")
    ):
        return
    raise FetchError(
        "bad_content_type",
        f"content type {short(media or 'missing', 80)!r} is not JSON "
        "(application/json or application/jwk-set+json)",
    )


def _cache_directives(value: str) -> dict[str, str | None]:
    result: dict[str, str | None] = {}
    for item in value.split(","):
        name, sep, arg = item.strip().partition("=")
        if name:
            result[name.strip().lower()] = arg.strip().strip('"') if sep else None
    return result


def _http_date(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def ttl_from_headers(headers: Mapping[str, str], *, min_ttl: float, max_ttl: float) -> float:
    """How long a response may be cached, from ``Cache-Control``/``Expires``.

    ``max-age`` (minus ``Age``) wins over ``Expires`` (RFC 9111 section
    5.3); ``Expires`` is read against the response's own ``Date`` so a skewed
    local clock does not matter. ``no-store``/``no-cache`` and missing or
    unusable headers give ``min_ttl``. The result is always clamped to
    ``[min_ttl, max_ttl]``: a provider cannot make us refetch on every
    request, nor pin a key set for a year.
    """
    ttl: float | None = None
    directives = _cache_directives(headers.get("cache-control", ""))
    if "no-store" in directives or "no-cache" in directives:
        ttl = 0.0
    elif directives.get("max-age") is not None:
        try:
            ttl = float(int(directives["max-age"] or ""))
        except ValueError:
            ttl = None
        if ttl is not None:
            with contextlib.suppress(ValueError):
                ttl -= max(0, int(headers.get("age", "0")))
    if ttl is None and "expires" in headers:
        expires = _http_date(headers.get("expires"))
        date = _http_date(headers.get("date"))
        # An unparsable Expires means "already expired" (RFC 9111 section 5.3).
        ttl = 0.0 if expires is None or date is None else expires - date
    if ttl is None or not math.isfinite(ttl):
        ttl = min_ttl
    return min(max(ttl, min_ttl), max_ttl)


def retry_after_seconds(value: str | None) -> float | None:
    """A ``Retry-After`` header in seconds (delta form only), capped."""
    if not value:
        return None
    try:
        seconds = int(value.strip())
    except ValueError:
        return None
    return float(min(max(seconds, 0), RETRY_AFTER_MAX))


def backoff_delay(failures: int, *, hint: float | None = None) -> float:
    """Seconds to wait before the next attempt after ``failures`` failures in a row.

    Exponential with jitter (half fixed, half random), so a fleet of
    verifiers that lost the provider together do not come back in lockstep.
    """
    base = min(BACKOFF_MAX, BACKOFF_BASE * 2.0 ** min(max(failures - 1, 0), 16))
    delay = base / 2 + random.random() * base / 2  # noqa: S311 - jitter, not a secret
    if hint is not None:
        delay = max(delay, hint)
    return delay


# --- bodies ------------------------------------------------------------------


def parse_document(body: bytes, what: str) -> dict[str, Any]:
    """A JSON object from a response body, or :class:`FetchError`."""
    try:
        # RFC 8259 allows insignificant whitespace before the value.
        return parse_json_object(body.lstrip(b" \t\r\n"))
    except DecodeError as exc:
        raise FetchError("bad_json", f"the {what} is not a JSON object: {exc}") from None


@dataclass(frozen=True)
class ParsedJWKS:
    """The usable keys of a fetched set, and labels of the keys that were skipped."""

    keys: tuple[VerificationKey, ...]
    skipped: frozenset[str]


def parse_jwks(
    body: bytes,
    *,
    url: str,
    max_keys: int,
    already_skipped: frozenset[str] = frozenset(),
) -> ParsedJWKS:
    """Parse a JWKS body with the same hygiene as :class:`StaticKeySet`.

    Unlike a static set, one bad key does not fail the whole set: providers
    publish encryption keys, keys for algorithms we do not accept, or a key
    being retired in an odd format, and refusing all keys for that would be
    an outage. Each skipped key is reported with a ``jwks_key_skipped``
    event (once, not on every refresh). Two keys sharing a kid are both
    dropped: which one a token means is ambiguous, and picking one is how a
    planted key gets used. A set whose keys were all skipped is a failed
    fetch, so cached keys keep serving.
    """
    doc = parse_document(body, "JWKS")
    raw_keys = doc.get("keys")
    if not isinstance(raw_keys, list):
        raise FetchError("bad_jwks", 'the JWKS has no "keys" list')
    if len(raw_keys) > max_keys:
        raise FetchError(
            "too_many_keys", f"the JWKS has {len(raw_keys)} keys; at most {max_keys} are accepted"
        )
    parsed: list[VerificationKey] = []
    skipped: set[str] = set()

    def skip(label: str, problem: str, kid: str | None, level: int = logging.WARNING) -> None:
        skipped.add(label)
        if label not in already_skipped:
            events.emit(
                "jwks_key_skipped",
                level=level,
                reason="key_rejected",
                message=f"a key in the remote JWKS was skipped: {problem}",
                url=url,
                kid=short(kid) if kid is not None else None,
                problem=problem,
            )

    for index, jwk in enumerate(raw_keys):
        kid = jwk.get("kid") if isinstance(jwk, dict) else None
        label = f"kid:{short(kid)}" if isinstance(kid, str) else f"#{index}"
        try:
            parsed.append(key_from_jwk(jwk, private_members="refuse", allow_hmac=False))
        except KeyRejected as exc:
            # Keycloak, Entra and others publish their encryption keys in the
            # same set: expected, so INFO (still once), not a warning.
            expected = isinstance(jwk, dict) and jwk.get("use") == "enc"
            level = logging.INFO if expected else logging.WARNING
            skip(label, str(exc), kid if isinstance(kid, str) else None, level)

    counts: dict[str, int] = {}
    for key in parsed:
        if key.kid is not None:
            counts[key.kid] = counts.get(key.kid, 0) + 1
    duplicates = {kid for kid, n in counts.items() if n > 1}
    for kid in sorted(duplicates):
        skip(f"kid:{short(kid)}", f"{counts[kid]} keys share this kid; all are dropped", kid)
    usable = [k for k in parsed if k.kid not in duplicates]

    if raw_keys and not usable:
        raise FetchError("no_usable_keys", "no key in the JWKS passed the key checks")
    try:
        keys = build_key_index(usable)
    except KeyRejected as exc:  # pragma: no cover - duplicates and HMAC are removed above
        raise FetchError("bad_jwks", str(exc)) from None
    return ParsedJWKS(keys=keys, skipped=frozenset(skipped))


def parse_discovery(body: bytes, *, issuer: str, allow_http: bool, member: str = "jwks_uri") -> str:
    """The ``jwks_uri`` (or another URL ``member``) of a provider's metadata document.

    OpenID Connect Discovery 1.0 section 4.3: the document's ``issuer`` must
    be identical to the issuer it was fetched for, or a document served by
    one tenant (or an attacker's path on a shared host) could name the keys
    of another.
    """
    doc = parse_document(body, "discovery document")
    found = doc.get("issuer")
    if found != issuer:
        shown = short(found, 120) if isinstance(found, str) else repr(type(found).__name__)
        raise FetchError(
            "issuer_mismatch",
            f"the discovery document is for issuer {shown!r}, not the configured {issuer!r} "
            "(the comparison is exact, trailing slash included)",
        )
    url = doc.get(member)
    problem = check_url(url, allow_http=allow_http)
    if problem is not None:
        raise FetchError("bad_discovery", f"{member}: {problem}")
    assert isinstance(url, str)
    return url
