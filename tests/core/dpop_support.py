"""DPoP test helpers: client keys as JWKs, proofs signed by tests.factories.sign, requests."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from jwt_guard_core import TokenError, VerifiedToken, Verifier
from jwt_guard_core.dpop import DPoPRequest, access_token_hash, jwk_thumbprint
from jwt_guard_core.encoding import b64url_encode
from tests.factories import NOW, claims, sign

URL = "https://api.example/orders"
DPOP_ALG_CASES = [
    ("ES256", "p256"),
    ("ES384", "p384"),
    ("EdDSA", "ed25519"),
    ("Ed25519", "ed25519"),
    ("PS256", "rsa"),
    ("RS256", "rsa"),
]


def _b64_int(value: int, size: int | None = None) -> str:
    return b64url_encode(value.to_bytes(size or (value.bit_length() + 7) // 8, "big"))


def public_jwk(private_key: Any) -> dict[str, Any]:
    """The public JWK of ``private_key``, built here without any hygiene check."""
    public = private_key.public_key()
    if isinstance(public, rsa.RSAPublicKey):
        numbers = public.public_numbers()
        return {"kty": "RSA", "n": _b64_int(numbers.n), "e": _b64_int(numbers.e)}
    if isinstance(public, ec.EllipticCurvePublicKey):
        size = (public.curve.key_size + 7) // 8
        crv = {256: "P-256", 384: "P-384", 521: "P-521"}[public.curve.key_size]
        point = public.public_numbers()
        return {"kty": "EC", "crv": crv, "x": _b64_int(point.x, size), "y": _b64_int(point.y, size)}
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    crv = "Ed25519" if isinstance(public, ed25519.Ed25519PublicKey) else "Ed448"
    return {"kty": "OKP", "crv": crv, "x": b64url_encode(raw)}


@dataclass
class Client:
    """A DPoP client: one key pair, making proofs for requests."""

    key: Any
    alg: str
    jwk: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.jwk = public_jwk(self.key)

    @property
    def jkt(self) -> str:
        return jwk_thumbprint(self.jwk)

    def proof(
        self,
        access_token: str | None,
        *,
        htm: str = "GET",
        htu: str = URL,
        iat: float = NOW,
        header: dict[str, Any] | None = None,
        drop: tuple[str, ...] = (),
        signer: Any = None,
        sign_alg: str | None = None,
        **claims: Any,
    ) -> str:
        """A signed proof; ``header`` entries override (``None`` drops), ``drop`` removes claims."""
        head: dict[str, Any] = {"typ": "dpop+jwt", "alg": self.alg, "jwk": self.jwk}
        for name, value in (header or {}).items():
            if value is None:
                head.pop(name, None)
            else:
                head[name] = value
        body: dict[str, Any] = {
            "jti": secrets.token_urlsafe(16),
            "htm": htm,
            "htu": htu,
            "iat": int(iat) if type(iat) in (int, float) else iat,
        }
        if access_token is not None:
            body["ath"] = access_token_hash(access_token)
        body.update(claims)
        for name in drop:
            body.pop(name, None)
        return sign(
            head, body, signer if signer is not None else self.key, alg=sign_alg or self.alg
        )


def issue_token(keyring: Any, verifier: Verifier, **extra: Any) -> tuple[str, VerifiedToken]:
    """An RS256 access token with ``extra`` claims: (raw token, what the verifier made of it)."""
    raw = sign({"alg": "RS256", "kid": "rsa-1"}, claims(**extra), keyring.rsa)
    return raw, verifier.verify(raw)


def dpop_request(
    *proofs: str,
    method: str = "GET",
    scheme: str = "https",
    host: str = "api.example",
    path: str = "/orders",
    authorization_scheme: str | None = "DPoP",
    headers: dict[str, str] | None = None,
) -> DPoPRequest:
    return DPoPRequest(
        method=method,
        scheme=scheme,
        host=host,
        path=path,
        authorization_scheme=authorization_scheme,
        proofs=tuple(proofs),
        headers=headers or {},
    )


def refused(
    call: Any, cls: type[TokenError], reason: str, *, error: str, status: int = 401
) -> TokenError:
    """Assert ``call()`` raises exactly ``cls`` with ``reason``, RFC ``error``, ``status``."""
    with pytest.raises(TokenError) as info:
        call()
    assert type(info.value) is cls
    assert info.value.reason == reason
    assert info.value.error == error
    assert info.value.status == status
    return info.value
