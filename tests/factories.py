"""Test helpers: keys, a fake clock and a low-level signer.

``sign`` builds a compact JWS from raw header and payload bytes, so tests can
produce tokens no well-behaved library would (duplicate header members,
non-UTF-8 JSON, odd base64) and still give them a valid signature.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from jwt_guard_core import SecurityEvent
from jwt_guard_core.encoding import b64url_encode

ISSUER = "https://issuer.example"
AUDIENCE = "https://api.example"
NOW = 1_800_000_000.0

# Every algorithm with the KeyRing attribute holding its key; EdDSA on both curves.
ALGORITHM_CASES = [
    ("HS256", "secret"),
    ("HS384", "secret"),
    ("HS512", "secret"),
    ("RS256", "rsa"),
    ("RS384", "rsa"),
    ("RS512", "rsa"),
    ("PS256", "rsa"),
    ("PS384", "rsa"),
    ("PS512", "rsa"),
    ("ES256", "p256"),
    ("ES384", "p384"),
    ("ES512", "p521"),
    ("EdDSA", "ed25519"),
    ("EdDSA", "ed448"),
    ("Ed25519", "ed25519"),
]
ALGORITHM_CASE_IDS = [f"{alg}-{attr}" for alg, attr in ALGORITHM_CASES]


class FakeClock:
    """An injectable clock: ``config.clock = clock``; move it with ``advance``."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


_HASH = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}


def raw_signature(alg: str, key: Any, signing_input: bytes) -> bytes:
    """Sign ``signing_input`` the way RFC 7518 says ``alg`` does."""
    if alg.startswith("HS"):
        return hmac.new(key, signing_input, getattr(hashlib, "sha" + alg[2:])).digest()
    if alg.startswith("RS"):
        return key.sign(signing_input, padding.PKCS1v15(), _HASH[alg[2:]]())
    if alg.startswith("PS"):
        h = _HASH[alg[2:]]()
        return key.sign(signing_input, padding.PSS(padding.MGF1(h), h.digest_size), h)
    if alg.startswith("ES"):
        size = {"ES256": 32, "ES384": 48, "ES512": 66}[alg]
        r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(_HASH[alg[2:]]())))
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")
    if alg in ("EdDSA", "Ed25519") or alg.startswith("ML-DSA"):
        return key.sign(signing_input)
    raise ValueError(alg)


def _segment(part: dict[str, Any] | bytes | str) -> str:
    if isinstance(part, str):
        return part  # already encoded, used as given
    if isinstance(part, dict):
        part = json.dumps(part, separators=(",", ":")).encode()
    return b64url_encode(part)


def sign(
    header: dict[str, Any] | bytes | str,
    payload: dict[str, Any] | bytes | str,
    key: Any,
    alg: str | None = None,
) -> str:
    """A compact JWS over ``header`` and ``payload`` (dicts, raw bytes, or encoded text)."""
    if alg is None:
        assert isinstance(header, dict)
        alg = header["alg"]
    signing_input = f"{_segment(header)}.{_segment(payload)}"
    sig = raw_signature(alg, key, signing_input.encode("ascii"))
    return f"{signing_input}.{b64url_encode(sig)}"


def claims(**overrides: Any) -> dict[str, Any]:
    """A valid claim set at ``NOW``; ``None`` values drop a claim."""
    base: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "user-1",
        "iat": int(NOW) - 60,
        "nbf": int(NOW) - 60,
        "exp": int(NOW) + 600,
        "jti": "jti-1",
        "scope": "orders:read profile",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def public_pem(private_key: Any) -> bytes:
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@dataclass
class KeyRing:
    """One private key per algorithm family, generated once per test session."""

    rsa: rsa.RSAPrivateKey = field(default_factory=lambda: rsa.generate_private_key(65537, 2048))
    p256: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    p384: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP384R1())
    )
    p521: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP521R1())
    )
    ed25519: ed25519.Ed25519PrivateKey = field(default_factory=ed25519.Ed25519PrivateKey.generate)
    ed448: ed448.Ed448PrivateKey = field(default_factory=ed448.Ed448PrivateKey.generate)
    secret: bytes = b"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

    def for_alg(self, alg: str) -> Any:
        if alg.startswith("HS"):
            return self.secret
        if alg[:2] in ("RS", "PS"):
            return self.rsa
        return {
            "ES256": self.p256,
            "ES384": self.p384,
            "ES512": self.p521,
            "EdDSA": self.ed25519,
            "Ed25519": self.ed25519,
        }[alg]


def named(events: list[SecurityEvent], name: str) -> list[SecurityEvent]:
    """The events called ``name``, in order."""
    return [e for e in events if e.name == name]
