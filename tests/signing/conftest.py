"""Fixtures for the signing side: stores, managers on a fake clock, event capture."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from jwt_guard_core import GuardConfig, StaticKeySet, Verifier
from jwt_guard_core.encoding import b64url_encode
from jwt_guard_core.signing import FileKeyStore, KeyManager, TokenIssuer
from jwt_guard_core.signing.keystore import KeyStore
from tests.factories import FakeClock
from tests.redis_server import redis_client, redis_server

__all__ = ["redis_client", "redis_server"]

PASSPHRASE = "correct horse battery staple 42"
ISSUER = "https://auth.example"
AUDIENCE = "https://api.example"


@pytest.fixture
def key_dir(tmp_path: Path) -> Path:
    """A key directory that does not exist yet (the store creates it 0700)."""
    return tmp_path / "keys"


@pytest.fixture
def file_store(key_dir: Path) -> FileKeyStore:
    return FileKeyStore(key_dir, passphrase=PASSPHRASE)


@pytest.fixture
def make_manager(file_store: FileKeyStore, clock: FakeClock) -> Callable[..., KeyManager]:
    """``make_manager(store=None, **options)``: a KeyManager on the fake clock."""

    def _make(store: KeyStore | None = None, **options: Any) -> KeyManager:
        options.setdefault("clock", clock)
        return KeyManager(store if store is not None else file_store, **options)

    return _make


@pytest.fixture
def manager(make_manager: Callable[..., KeyManager]) -> KeyManager:
    return make_manager()


@pytest.fixture
def issuer(manager: KeyManager) -> TokenIssuer:
    return TokenIssuer(manager, issuer=ISSUER, audience=AUDIENCE)


def verifier_from_jwks(
    manager: KeyManager, clock: FakeClock, algorithms: list[str] | None = None
) -> Verifier:
    """A verifier that knows only the manager's current public JWKS (as a remote one would)."""
    return Verifier(
        GuardConfig(
            algorithms=algorithms or [manager.algorithm],
            keys=StaticKeySet.from_jwks(manager.jwks()),
            issuer=ISSUER,
            audience=AUDIENCE,
            expected_type="at+jwt",
            clock=clock,
        )
    )


def secret_forms(key: Any) -> list[bytes]:
    """Encodings of a private key or secret that must never appear anywhere public."""
    if isinstance(key, bytes):
        return [
            key,
            key.hex().encode(),
            b64url_encode(key).encode(),
            base64.b64encode(key),
            repr(key)[2:-1].encode(),
        ]
    der = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    forms = [der, pem, base64.b64encode(der)[:64], b"PRIVATE KEY"]
    scalars: list[int] = []
    if isinstance(key, ec.EllipticCurvePrivateKey):
        scalars = [key.private_numbers().private_value]
    elif isinstance(key, rsa.RSAPrivateKey):
        numbers = key.private_numbers()
        scalars = [numbers.d, numbers.p, numbers.q]
    elif isinstance(key, ed25519.Ed25519PrivateKey):
        raw = key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        forms += [raw, raw.hex().encode(), b64url_encode(raw).encode()]
    for value in scalars:
        raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
        forms += [raw, b64url_encode(raw).encode(), format(value, "x").encode()]
    return forms


def assert_no_secret(data: bytes | str, keys: list[Any]) -> None:
    blob = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    for key in keys:
        for form in secret_forms(key):
            assert form not in blob, "private key material found"
