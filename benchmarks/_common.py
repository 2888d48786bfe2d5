"""Shared by the benchmark scripts: keys, tokens, interleaved timing, tables, versions."""

from __future__ import annotations

import gc
import os
import platform
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, ClassVar

import jwt as pyjwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from jwt_guard_core.keys import key_from_public_key, key_from_secret  # noqa: E402

ISSUER = "https://issuer.example"
AUDIENCE = "https://api.example"
LEEWAY = 10


@dataclass
class Key:
    """One benchmark case: an algorithm and a fresh key pair (or HMAC secret)."""

    name: str
    alg: str
    private: Any
    issuer: str = ISSUER
    audience: str = AUDIENCE
    kid: str = "bench-1"
    verification: Any = field(init=False)

    def __post_init__(self) -> None:
        if isinstance(self.private, bytes):
            self.verification = key_from_secret(self.private, algorithm=self.alg, kid=self.kid)
        else:
            self.verification = key_from_public_key(
                self.private.public_key(), kid=self.kid, algorithms=[self.alg]
            )

    @property
    def public(self) -> Any:
        """The public key object (the secret for HMAC)."""
        return self.private if isinstance(self.private, bytes) else self.private.public_key()

    @property
    def public_pem(self) -> bytes:
        if isinstance(self.private, bytes):
            return self.private
        return self.public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    @property
    def public_jwk(self) -> dict[str, Any]:
        if isinstance(self.private, bytes):
            from jwt_guard_core.encoding import b64url_encode

            return {"kty": "oct", "k": b64url_encode(self.private), "kid": self.kid}
        return {**dict(self.verification.public_jwk), "alg": self.alg, "use": "sig"}


class _Keys:
    """The cases of the issue's table, each key generated on first use."""

    FACTORIES: ClassVar[dict[str, tuple[str, Callable[[], Any]]]] = {
        "RS256-2048": ("RS256", lambda: rsa.generate_private_key(65537, 2048)),
        "RS256-3072": ("RS256", lambda: rsa.generate_private_key(65537, 3072)),
        "PS256": ("PS256", lambda: rsa.generate_private_key(65537, 2048)),
        "ES256": ("ES256", lambda: ec.generate_private_key(ec.SECP256R1())),
        "EdDSA": ("EdDSA", ed25519.Ed25519PrivateKey.generate),
        "HS256": ("HS256", lambda: secrets.token_bytes(32)),
    }

    def __init__(self) -> None:
        self._made: dict[str, Key] = {}

    def get(self, name: str) -> Key:
        if name not in self._made:
            alg, factory = self.FACTORIES[name]
            self._made[name] = Key(name, alg, factory())
        return self._made[name]


KEYS = _Keys()
CASES = tuple(_Keys.FACTORIES)


def claims_for(key: Key, *, now: float | None = None, jti: str | None = None) -> dict[str, Any]:
    """A usual access token's claims: iss, aud, sub, iat, nbf, exp, jti, scope."""
    issued = int(time.time() if now is None else now)
    return {
        "iss": key.issuer,
        "aud": key.audience,
        "sub": "user-1234",
        "iat": issued,
        "nbf": issued,
        "exp": issued + 900,
        "jti": jti or secrets.token_hex(16),
        "scope": "orders:read profile",
    }


def token_for(key: Key, **options: Any) -> str:
    """A token signed with ``key`` (by PyJWT), ``kid`` and ``typ`` in the header."""
    return pyjwt.encode(
        claims_for(key, **options),
        key.private,
        algorithm=key.alg,
        headers={"kid": key.kid, "typ": "JWT"},
    )


def interleaved(
    contenders: dict[str, Callable[[], Any]], *, rounds: int, number: int
) -> dict[str, float]:
    """Median microseconds per call of each contender, over interleaved rounds.

    Each round runs every contender ``number`` times in turn, so a change in
    machine load hits all of them alike; the median of the rounds drops the
    outliers a busy neighbour causes.
    """
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for fn in contenders.values():
        fn()  # warm caches and lazy imports
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(rounds):
            for name, fn in contenders.items():
                started = time.perf_counter()
                for _ in range(number):
                    fn()
                samples[name].append((time.perf_counter() - started) / number * 1e6)
    finally:
        if gc_was_enabled:
            gc.enable()
    return {name: statistics.median(values) for name, values in samples.items()}


def header(title: str) -> str:
    return f"\n## {title}\n"


def version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def environment() -> str:
    """Python, OS, CPU count and the versions of every library compared."""
    import ssl

    lines = [
        f"Python {platform.python_version()} ({platform.python_implementation()}), "
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
        f"{ssl.OPENSSL_VERSION}",
        "jwt-guard (this tree), "
        + ", ".join(
            f"{name} {version(name)}"
            for name in (
                "cryptography",
                "PyJWT",
                "Authlib",
                "joserfc",
                "python-jose",
                "jwcrypto",
                "redis",
                "httpx",
            )
        ),
    ]
    return "\n".join(lines)
