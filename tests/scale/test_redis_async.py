"""The asyncio session store on a real Redis Cluster and through Sentinel.

The async store names its keys as the sync store does, hash tag included, so
on a Cluster each script's keys share one slot and a sync and an async
process share one store; through Sentinel it follows the primary.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from jwt_guard_core import ConfigurationError
from jwt_guard_core.sessions import (
    AsyncRedisSessionStore,
    InvalidRefreshToken,
    RedisSessionStore,
    RefreshTokenService,
    RevocationService,
    hash_refresh_token,
)
from tests.factories import NOW, FakeClock
from tests.redis_server import RedisClusterGroup, SentinelGroup


async def test_cluster_keys_are_hash_tagged_as_the_sync_stores(
    redis_cluster: RedisClusterGroup,
    prefix: str,
    make_sessions: Callable[..., RefreshTokenService],
    clock: FakeClock,
) -> None:
    sync_store = RedisSessionStore(redis_cluster.url, prefix=prefix)
    astore = AsyncRedisSessionStore(redis_cluster.url, prefix=prefix)
    client = redis_cluster.client()
    try:
        revocation = RevocationService(sync_store, astore=astore, clock=clock)
        sessions = make_sessions(sync_store, astore=astore, revocation=revocation)
        tokens = await sessions.aissue("user-1")
        await revocation.arevoke_jti("j1", expires_at=NOW + 600)
        tagged = [
            f"{{{prefix}}}:rt:{hash_refresh_token(tokens.refresh_token)}",
            f"{{{prefix}}}:fam:{tokens.family_id}",
            f"{{{prefix}}}:subfam:user-1",
            f"{{{prefix}}}:deny:j1",
        ]
        assert all(client.exists(key) for key in tagged)
        assert {client.keyslot(key) for key in tagged} == {client.keyslot(prefix)}
        # One store for both paths: the sync side sees the async rotation.
        newer = await sessions.arefresh(tokens.refresh_token)
        with pytest.raises(InvalidRefreshToken) as caught:
            sessions.refresh(tokens.refresh_token)
        assert caught.value.reason == "refresh_token_reused"
        with pytest.raises(InvalidRefreshToken) as caught:
            await sessions.arefresh(newer.refresh_token)
        assert caught.value.reason == "refresh_family_revoked"
        assert sync_store.revocation_state("j1", None, now=NOW).jti_denied
        # Rate-limit keys are spread, as the sync store spreads them.
        for n in range(8):
            await astore.add_failure(f"198.51.100.{n}", now=NOW, window=60, keep=10)
        assert await astore.recent_failures("198.51.100.3", now=NOW, window=60) == (NOW,)
        slots = {client.keyslot(f"{{{prefix}:fail:198.51.100.{n}}}") for n in range(8)}
        assert len(slots) > 1
        reserved = await asyncio.gather(
            *(astore.reserve("c", now=NOW, window=60, limit=3) for _ in range(6))
        )
        assert sorted(r.admitted for r in reserved) == [False] * 3 + [True] * 3
    finally:
        await astore.aclose()
        sync_store._client.close()
        client.close()


def test_replicas_are_refused_with_a_cluster_client(redis_cluster: RedisClusterGroup) -> None:
    with pytest.raises(ConfigurationError) as caught:
        AsyncRedisSessionStore(redis_cluster.url, replicas=1)
    assert caught.value.setting == "replicas"


async def test_through_sentinel_the_async_store_follows_the_primary(
    redis_sentinel: SentinelGroup, prefix: str, make_sessions: Callable[..., Any]
) -> None:
    astore = AsyncRedisSessionStore(redis_sentinel.url, prefix=prefix)
    sync_store = RedisSessionStore(redis_sentinel.url, prefix=prefix)
    try:
        sessions = make_sessions(sync_store, astore=astore, reuse_interval=5)
        tokens = await sessions.aissue("user-1")
        outcomes = await asyncio.gather(
            *(sessions.arefresh(tokens.refresh_token) for _ in range(4)), return_exceptions=True
        )
        assert sum(not isinstance(o, BaseException) for o in outcomes) == 1
        assert {o.reason for o in outcomes if isinstance(o, InvalidRefreshToken)} == {
            "refresh_token_spent"
        }
    finally:
        await astore.aclose()
        sync_store._client.close()
