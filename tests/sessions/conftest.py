"""Fixtures for sessions: one store per backend, a token issuer on the fake clock, events.

``backend_store`` is parametrized over memory, SQLite and Redis (a real
``redis-server`` from :mod:`tests.redis_server`), so a test that takes it
runs once per backend.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from jwt_guard_core import Verifier
from jwt_guard_core.sessions import (
    MemorySessionStore,
    RedisSessionStore,
    RefreshTokenService,
    RevocationService,
    SQLiteSessionStore,
)
from tests.factories import FakeClock, KeyRing, claims, sign
from tests.redis_server import RedisServer, redis_client, redis_server

__all__ = ["redis_client", "redis_server"]

BACKENDS = ("memory", "sqlite", "redis")


def make_store(kind: str, tmp_path: Path, server: RedisServer | None) -> Any:
    if kind == "memory":
        return MemorySessionStore()
    if kind == "sqlite":
        return SQLiteSessionStore(tmp_path / "sessions.db")
    assert server is not None
    client = server.client(socket_timeout=5)
    client.flushall()
    return RedisSessionStore(client, prefix=f"test:{secrets.token_hex(4)}")


@pytest.fixture(params=BACKENDS)
def backend_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """A fresh store of each backend in turn."""
    server = request.getfixturevalue("redis_server") if request.param == "redis" else None
    store = make_store(request.param, tmp_path, server)
    try:
        yield store
    finally:
        if isinstance(store, SQLiteSessionStore):
            store.close()
        elif isinstance(store, RedisSessionStore):
            store._client.close()


class FactoryIssuer:
    """Issues RS256 access tokens with ``tests.factories.sign`` at the fake clock."""

    def __init__(self, keyring: KeyRing, clock: FakeClock, lifetime: int = 900) -> None:
        self.keyring = keyring
        self.clock = clock
        self.lifetime = lifetime
        self.issued: list[dict[str, Any]] = []

    def issue_access_token(
        self,
        subject: str,
        *,
        scopes: Iterable[str] = (),
        claims: Mapping[str, Any] | None = None,
    ) -> str:
        now = int(self.clock())
        payload = _claims(
            sub=subject,
            iat=now,
            nbf=now,
            exp=now + self.lifetime,
            jti=secrets.token_hex(16),
            scope=" ".join(scopes) or None,
            **(claims or {}),
        )
        self.issued.append(payload)
        return sign({"alg": "RS256", "kid": "rsa-1", "typ": "at+jwt"}, payload, self.keyring.rsa)


_claims = claims


@pytest.fixture
def access_issuer(keyring: KeyRing, clock: FakeClock) -> FactoryIssuer:
    return FactoryIssuer(keyring, clock)


@pytest.fixture
def make_sessions(
    access_issuer: FactoryIssuer, clock: FakeClock
) -> Callable[..., RefreshTokenService]:
    """``make_sessions(store, **options)``: a RefreshTokenService on the fake clock."""

    def _make(store: Any, **options: Any) -> RefreshTokenService:
        options.setdefault("access_tokens", access_issuer)
        options.setdefault("clock", clock)
        return RefreshTokenService(store, **options)

    return _make


@pytest.fixture
def guarded_verifier(
    make_verifier: Callable[..., Verifier], clock: FakeClock
) -> Callable[[RevocationService], Verifier]:
    """``guarded_verifier(revocation)``: the test verifier with a revocation check."""

    def _make(revocation: RevocationService) -> Verifier:
        return make_verifier(revocation=revocation)

    return _make
