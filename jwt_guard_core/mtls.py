"""Certificate-bound access tokens (RFC 8705 section 3) behind a TLS-terminating proxy.

A token bound to a client certificate carries ``cnf["x5t#S256"]``, the
base64url SHA-256 of the certificate's DER encoding. The application does
not see the TLS handshake; the proxy that terminates TLS passes the client
certificate in a request header, and only a header named in the settings is
ever read (a header the client could set itself would let anyone claim any
certificate: the proxy must overwrite it on every request).

Formats:

* ``pem``: the certificate as PEM, with newlines, spaces or tabs between
  lines (nginx's old ``$ssl_client_cert`` folds with tabs);
* ``url_encoded_pem``: PEM percent-encoded, as nginx's
  ``$ssl_client_escaped_cert`` and AWS ALB's ``X-Amzn-Mtls-Clientcert`` send it;
* ``xfcc``: Envoy's ``x-forwarded-client-cert``. ``Cert=`` (the URL-encoded
  PEM) is parsed and hashed when present; otherwise ``Hash=`` (hex SHA-256
  of the DER, Envoy's default) is trusted as computed by the proxy. When
  both are present they must agree. Exactly one element is accepted:
  configure Envoy with ``forward_client_cert_details: SANITIZE_SET`` so the
  header describes the client of this hop and nothing a client sent.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from . import events
from .encoding import b64url_encode
from .errors import CertificateBindingError, ConfigurationError

__all__ = [
    "CERTIFICATE_FORMATS",
    "CertificateBindingError",
    "MTLSPolicy",
    "bound_certificate_thumbprint",
    "certificate_thumbprint",
    "check_certificate_binding",
]

CERTIFICATE_FORMATS = ("pem", "url_encoded_pem", "xfcc")
_PEM_BODY = re.compile(
    r"-----BEGIN CERTIFICATE-----(?P<body>[A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----"
)
_HEX_SHA256 = re.compile(r"[0-9A-Fa-f]{64}\Z")
_HEADER_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+\Z")
_MAX_HEADER = 32 * 1024


def _malformed(detail: str) -> CertificateBindingError:
    return CertificateBindingError(detail, reason="mtls_header_malformed")


def _thumbprint_of_pem(text: str) -> str:
    match = _PEM_BODY.search(text)
    if match is None:
        raise _malformed("the certificate header holds no PEM certificate")
    try:
        der = base64.b64decode("".join(match.group("body").split()), validate=True)
        cert = x509.load_der_x509_certificate(der)
    except (binascii.Error, ValueError):
        raise _malformed("the certificate header holds an unreadable certificate") from None
    return b64url_encode(hashlib.sha256(cert.public_bytes(Encoding.DER)).digest())


def _xfcc_pairs(value: str) -> list[dict[str, str]]:
    """Split an XFCC value into elements of key/value pairs (quoted values may hold , ; =)."""
    elements: list[dict[str, str]] = []
    pairs: dict[str, str] = {}
    key, buf, quoted, escaped, in_value = "", [], False, False, False
    for ch in value + ",":
        if quoted:
            if escaped:
                buf.append(ch)
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                quoted = False
            else:
                buf.append(ch)
        elif ch == '"' and in_value and not buf:
            quoted = True
        elif ch == "=" and not in_value:
            key, buf, in_value = "".join(buf).strip(), [], True
        elif ch in ";,":
            if in_value or "".join(buf).strip():
                if not in_value or not key or key in pairs:
                    raise _malformed("the XFCC header is not key=value pairs")
                pairs[key] = "".join(buf).strip()
            key, buf, in_value = "", [], False
            if ch == ",":
                elements.append(pairs)
                pairs = {}
        else:
            buf.append(ch)
    if quoted:
        raise _malformed("the XFCC header has an unterminated quote")
    return elements


def _thumbprint_of_xfcc(value: str) -> str:
    elements = _xfcc_pairs(value)
    if len(elements) != 1:
        raise _malformed("the XFCC header must describe exactly one client (use SANITIZE_SET)")
    (pairs,) = elements
    from_hash: str | None = None
    if "Hash" in pairs:
        if _HEX_SHA256.match(pairs["Hash"]) is None:
            raise _malformed("the XFCC Hash is not a hex SHA-256")
        from_hash = b64url_encode(bytes.fromhex(pairs["Hash"]))
    if "Cert" in pairs:
        from_cert = _thumbprint_of_pem(unquote(pairs["Cert"]))
        if from_hash is not None and from_hash != from_cert:
            raise _malformed("the XFCC Hash and Cert disagree")
        return from_cert
    if from_hash is None:
        raise _malformed("the XFCC header has neither Cert nor Hash")
    return from_hash


def certificate_thumbprint(value: str, fmt: str) -> str:
    """The RFC 8705 ``x5t#S256`` of the certificate in a proxy header ``value`` of format ``fmt``.

    Raises :class:`CertificateBindingError` (``mtls_header_malformed``) for
    a value that holds no readable certificate.
    """
    if len(value) > _MAX_HEADER:
        raise _malformed("the certificate header is too large")
    if fmt == "pem":
        return _thumbprint_of_pem(value)
    if fmt == "url_encoded_pem":
        return _thumbprint_of_pem(unquote(value))
    if fmt == "xfcc":
        return _thumbprint_of_xfcc(value)
    raise ConfigurationError(
        "mtls_certificate_format", f"{fmt!r} is not one of {CERTIFICATE_FORMATS}"
    )


def bound_certificate_thumbprint(claims: Mapping[str, Any]) -> str | None:
    """The ``cnf["x5t#S256"]`` a token is bound to, or ``None`` for an unbound token."""
    cnf = claims.get("cnf")
    if not isinstance(cnf, Mapping) or "x5t#S256" not in cnf:
        return None
    value = cnf["x5t#S256"]
    if not isinstance(value, str) or not value:
        raise CertificateBindingError("cnf x5t#S256 is not a string", reason="mtls_bad_cnf")
    return value


def _reported(error: CertificateBindingError) -> CertificateBindingError:
    events.emit(
        "certificate_binding_rejected",
        level=logging.WARNING if error.reason == "mtls_certificate_mismatch" else logging.INFO,
        reason=error.reason,
        message=f"certificate-bound token rejected: {error.detail}",
        status=error.status,
    )
    return error


def _confirm(claims: Mapping[str, Any], thumbprint: str | None) -> None:
    expected = bound_certificate_thumbprint(claims)
    if expected is None:
        return
    if thumbprint is None:
        raise CertificateBindingError(
            "the token is certificate-bound but no client certificate was presented",
            reason="mtls_certificate_missing",
        )
    if not hmac.compare_digest(expected.encode("utf-8", "replace"), thumbprint.encode("ascii")):
        raise CertificateBindingError(reason="mtls_certificate_mismatch")


def check_certificate_binding(claims: Mapping[str, Any], thumbprint: str | None) -> None:
    """Refuse a certificate-bound token unless ``thumbprint`` (of the client's certificate) matches.

    ``thumbprint`` is ``None`` when no certificate was passed (or mTLS is not
    configured): a bound token is then refused, since its binding cannot be
    confirmed. An unbound token passes whatever ``thumbprint`` is. Every
    refusal is also a ``certificate_binding_rejected`` security event.
    """
    try:
        _confirm(claims, thumbprint)
    except CertificateBindingError as error:
        raise _reported(error) from None


@dataclass(frozen=True)
class MTLSPolicy:
    """Where the proxy puts the client certificate: ``header`` name and its ``format``.

    ``format`` is ``"pem"``, ``"url_encoded_pem"`` (nginx
    ``$ssl_client_escaped_cert``) or ``"xfcc"`` (Envoy).
    """

    header: str
    format: str = "url_encoded_pem"

    def __post_init__(self) -> None:
        if not isinstance(self.header, str) or _HEADER_NAME.match(self.header) is None:
            raise ConfigurationError(
                "mtls_certificate_header", f"{self.header!r} is not a header name"
            )
        if self.format not in CERTIFICATE_FORMATS:
            raise ConfigurationError(
                "mtls_certificate_format",
                f"{self.format!r} is not one of {', '.join(CERTIFICATE_FORMATS)}",
            )

    def thumbprint(self, values: Sequence[str]) -> str | None:
        """The client certificate's thumbprint from every value of :attr:`header`, or ``None``.

        No value (or an empty one) means no certificate; more than one value
        is refused, since the proxy sets the header exactly once.
        """
        present = [v for v in values if v.strip()]
        if not present:
            return None
        if len(present) > 1:
            raise _malformed("the certificate header appears more than once")
        return certificate_thumbprint(present[0].strip(), self.format)

    def check(self, claims: Mapping[str, Any], values: Sequence[str]) -> str | None:
        """Check a token's certificate binding; return the certificate thumbprint, if any.

        A certificate-bound token needs a certificate with that thumbprint;
        an unbound token passes (a malformed header is refused only when a
        bound token needs it).
        """
        try:
            if bound_certificate_thumbprint(claims) is None:
                return None
            thumbprint = self.thumbprint(values)
            _confirm(claims, thumbprint)
        except CertificateBindingError as error:
            raise _reported(error) from None
        return thumbprint
