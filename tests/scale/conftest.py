"""Fixtures for running jwt-guard's shared state at scale: Redis Cluster, Sentinel, breakers.

The Cluster and the Sentinel group start once per test module (a few
seconds each); every test uses its own key prefix, so tests never see each
other's keys.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import pytest

from jwt_guard_core.sessions import RefreshTokenService
from tests.redis_server import redis_client, redis_cluster, redis_sentinel, redis_server
from tests.sessions.conftest import FactoryIssuer, guarded_verifier
from tests.signing.conftest import file_store, key_dir, make_manager

__all__ = [
    "file_store",
    "guarded_verifier",
    "key_dir",
    "make_manager",
    "redis_client",
    "redis_cluster",
    "redis_sentinel",
    "redis_server",
]


@pytest.fixture
def prefix() -> str:
    return f"t{secrets.token_hex(4)}"


@pytest.fixture
def make_sessions(keyring: Any, clock: Any) -> Callable[..., RefreshTokenService]:
    """``make_sessions(store, **options)``: a RefreshTokenService on the fake clock."""

    def _make(store: Any, **options: Any) -> RefreshTokenService:
        options.setdefault("access_tokens", FactoryIssuer(keyring, clock))
        options.setdefault("clock", clock)
        return RefreshTokenService(store, **options)

    return _make
