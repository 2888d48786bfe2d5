"""Helpers for the adapters' INTROSPECTION and JWE settings tests.

The settings dicts the tests start from, and nested JWE made for the test
decryption key (fixtures in ``tests/beyond_jws_fixtures.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from jwt_guard_core.jwe import encrypt_nested
from jwt_guard_core.keys import key_from_public_key
from tests.core.introspection_server import CLIENT_ID, AuthServer

SECRET_ENV = "JWT_GUARD_TEST_INTROSPECTION_SECRET"
OPAQUE = "2YotnFZFEjr1zCsicMWpAA"
INACTIVE = "revoked-opaque-token-77"
DOWN_PATH = "/introspect-down"
JWE_ALG, JWE_ENC = "ECDH-ES+A256KW", "A256GCM"


def introspection_settings(server: AuthServer, **changes: Any) -> dict[str, Any]:
    """An INTROSPECTION dict for ``server`` (``None`` in ``changes`` drops a key)."""
    value: dict[str, Any] = {
        "ENDPOINT": server.url,
        "CLIENT_ID": CLIENT_ID,
        "CLIENT_SECRET_ENV": SECRET_ENV,
        **changes,
    }
    return {k: v for k, v in value.items() if v is not None}


def jwe_settings(key_file: Path, **changes: Any) -> dict[str, Any]:
    """A JWE dict decrypting with ``key_file`` (``None`` in ``changes`` drops a key)."""
    value: dict[str, Any] = {
        "KEYS": str(key_file),
        "ALGORITHMS": [JWE_ALG],
        "ENCRYPTION": [JWE_ENC],
        **changes,
    }
    return {k: v for k, v in value.items() if v is not None}


def encrypt(jws: str, key: ec.EllipticCurvePrivateKey) -> str:
    """``jws`` as a nested JWE for the holder of ``key`` (no kid: the only key decrypts it)."""
    public = key_from_public_key(key.public_key()).public_jwk
    assert public is not None
    recipient = {m: public[m] for m in ("kty", "crv", "x", "y")}
    return encrypt_nested(jws, recipient, JWE_ALG, JWE_ENC)


def tampered(jwe: str) -> str:
    """The same JWE with its tag changed: it no longer decrypts."""
    head, _, tag = jwe.rpartition(".")
    flipped = ("B" if tag[0] == "A" else "A") + tag[1:]
    return f"{head}.{flipped}"
