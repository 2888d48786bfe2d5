"""Shared by the adapters' DPoP, mTLS and step-up tests: challenges, certificates."""

from __future__ import annotations

import datetime
import hashlib
from urllib.parse import quote

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from jwt_guard_core.encoding import b64url_encode

ALGS = 'algs="ES256 ES384 EdDSA Ed25519 PS256 RS256"'
BEARER = 'Bearer realm="api"'
DPOP = f'DPoP realm="api", {ALGS}'
METADATA_URL = "https://api.example/.well-known/oauth-protected-resource"
METADATA = {"resource": "https://api.example", "authorization_servers": ["https://issuer.example"]}


def challenge(scheme: str, error: str | None = None, *, algs: bool = True, extra: str = "") -> str:
    """One challenge: ``scheme realm="api"[, error=...][, extra][, algs=...]``."""
    parts = [f'{scheme} realm="api"']
    if error is not None:
        parts.append(f'error="{error}"')
    if extra:
        parts.append(extra)
    if scheme == "DPoP" and algs:
        parts.append(ALGS)
    return ", ".join(parts)


def _certificate(common_name: str) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    start = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )


CERT = _certificate("client-1")
OTHER_CERT = _certificate("client-2")
CERT_HEADER = quote(CERT.public_bytes(serialization.Encoding.PEM).decode())
OTHER_CERT_HEADER = quote(OTHER_CERT.public_bytes(serialization.Encoding.PEM).decode())
CERT_THUMBPRINT = b64url_encode(
    hashlib.sha256(CERT.public_bytes(serialization.Encoding.DER)).digest()
)
