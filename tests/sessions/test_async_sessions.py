"""Async sessions: login, rotation, reuse, races, logout and the rate limit, awaited.

Every test runs against each async store: memory (inline), SQLite (in a
worker thread) and Redis through redis.asyncio (a real ``redis-server``).
The decisions are the sync path's (:mod:`jwt_guard_core.sessions.steps`);
these tests check that awaiting them gives the same outcomes, events and
errors, and that the event loop keeps running while SQLite waits.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from jwt_guard_core import ConfigurationError, RateLimited, StateUnavailable
from jwt_guard_core.sessions import (
    AsyncRedisSessionStore,
    AsyncSessionStore,
    CookiePolicy,
    FailureRateLimiter,
    InvalidRefreshToken,
    MemorySessionStore,
    RedisSessionStore,
    RefreshTokenService,
    RevocationService,
    SQLiteSessionStore,
)
from jwt_guard_core.sessions.endpoints import SessionEndpoints, SessionRequest
from tests.factories import FakeClock, named
from tests.redis_server import RedisServer, redis_server

__all__ = ["redis_server"]

CLIENT = "192.0.2.7"


class World:
    """A sync store, its async face, and the services over both."""

    def __init__(
        self, store: Any, astore: Any, make_sessions: Callable[..., RefreshTokenService], clock: Any
    ) -> None:
        self.store = store
        self.astore = astore
        self.revocation = RevocationService(store, astore=astore, clock=clock)
        self.sessions = make_sessions(store, astore=astore, revocation=self.revocation)
        self.limiter = FailureRateLimiter(store, astore=astore, limit=3, window=60, clock=clock)
        self.endpoints = SessionEndpoints(
            refresh_tokens=self.sessions,
            revocation=self.revocation,
            policy=CookiePolicy(refresh_path="/auth/refresh"),
            mode="json",
            clock=clock,
            access_max_age=900,
            limiter=self.limiter,
        )


@pytest.fixture(params=["memory", "sqlite", "redis"])
async def world(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    make_sessions: Callable[..., RefreshTokenService],
    clock: FakeClock,
) -> AsyncIterator[World]:
    if request.param == "memory":
        store: Any = MemorySessionStore()
        astore: Any = AsyncSessionStore(store)
    elif request.param == "sqlite":
        store = SQLiteSessionStore(tmp_path / "sessions.db")
        astore = AsyncSessionStore(store)
    else:
        server: RedisServer = request.getfixturevalue("redis_server")
        server.client().flushall()
        prefix = f"test:{secrets.token_hex(4)}"
        store = RedisSessionStore(server.url, prefix=prefix)
        astore = AsyncRedisSessionStore(server.url, prefix=prefix)
    try:
        yield World(store, astore, make_sessions, clock)
    finally:
        if isinstance(astore, AsyncRedisSessionStore):
            await astore.aclose()
            store._client.close()
        elif isinstance(store, SQLiteSessionStore):
            store.close()


def body(data: dict[str, Any]) -> SessionRequest:
    raw = json.dumps(data).encode()
    return SessionRequest("application/json", lambda: raw, {})


async def check(username: str, password: str) -> tuple[str, tuple[str, ...]] | None:
    await asyncio.sleep(0)
    return ("user-1", ("orders:read",)) if password == "right" else None


async def test_login_then_refresh_rotates_the_token(world: World) -> None:
    reply = await world.endpoints.alogin(
        body({"username": "alice", "password": "right"}), client=CLIENT, check=check
    )
    assert reply.status == 200
    assert reply.body is not None
    first = reply.body["refresh_token"]
    rotated = await world.endpoints.arefresh(
        body({"refresh_token": first}), csrf_failure=lambda: None
    )
    assert rotated.status == 200
    assert rotated.body is not None
    assert rotated.body["refresh_token"] != first
    assert rotated.body["scope"] == "orders:read"


async def test_a_replayed_token_revokes_its_family_and_its_access_tokens(
    world: World, recorded_events: list[Any]
) -> None:
    tokens = await world.sessions.aissue("user-1")
    newer = await world.sessions.arefresh(tokens.refresh_token)
    with pytest.raises(InvalidRefreshToken) as caught:
        await world.sessions.arefresh(tokens.refresh_token)
    assert caught.value.reason == "refresh_token_reused"
    (event,) = named(recorded_events, "refresh_token_reuse")
    assert event.fields["family_id"] == tokens.family_id
    # The thief's newer token died with the victim's.
    with pytest.raises(InvalidRefreshToken) as caught:
        await world.sessions.arefresh(newer.refresh_token)
    assert caught.value.reason == "refresh_family_revoked"
    # The session's access tokens are denied (the sid rule), read through the async face.
    claims = {"sub": "user-1", "sid": tokens.family_id, "iat": 1, "jti": "j1"}
    assert await world.revocation.acheck(claims) == "session"


@pytest.mark.parametrize("contenders", [2, 8])
async def test_concurrent_refreshes_of_one_token_have_exactly_one_winner(
    world: World, make_sessions: Callable[..., RefreshTokenService], contenders: int
) -> None:
    sessions = make_sessions(world.store, astore=world.astore, reuse_interval=5)
    for _ in range(5):
        tokens = await sessions.aissue("user-1")
        outcomes = await asyncio.gather(
            *(sessions.arefresh(tokens.refresh_token) for _ in range(contenders)),
            return_exceptions=True,
        )
        losers = [o for o in outcomes if isinstance(o, InvalidRefreshToken)]
        assert len(outcomes) - len(losers) == 1
        assert {o.reason for o in losers} == {"refresh_token_spent"}


async def test_a_sync_and_an_async_caller_share_one_store(world: World) -> None:
    tokens = world.sessions.issue("user-1")
    newer = await world.sessions.arefresh(tokens.refresh_token)
    with pytest.raises(InvalidRefreshToken) as caught:
        world.sessions.refresh(tokens.refresh_token)
    assert caught.value.reason == "refresh_token_reused"
    with pytest.raises(InvalidRefreshToken) as caught:
        await world.sessions.arefresh(newer.refresh_token)
    assert caught.value.reason == "refresh_family_revoked"


async def test_logout_everywhere_ends_every_session_of_the_subject(
    world: World, clock: FakeClock
) -> None:
    first = await world.sessions.aissue("user-1")
    second = await world.sessions.aissue("user-1")
    other = await world.sessions.aissue("user-2")
    clock.advance(1)
    assert await world.sessions.arevoke_subject("user-1") == 2
    for tokens in (first, second):
        with pytest.raises(InvalidRefreshToken) as caught:
            await world.sessions.arefresh(tokens.refresh_token)
        assert caught.value.reason == "refresh_family_revoked"
    assert (await world.sessions.arefresh(other.refresh_token)).subject == "user-2"
    # Access tokens issued before: by their session id, and by the subject's time rule.
    issued_before = {"sub": "user-1", "iat": clock() - 1, "jti": "j2"}
    assert await world.revocation.acheck({**issued_before, "sid": first.family_id}) == "session"
    assert await world.revocation.acheck(issued_before) == "subject"
    assert await world.revocation.acheck({**issued_before, "sub": "user-2"}) is None


async def test_logout_revokes_the_access_token_and_the_session(world: World) -> None:
    tokens = await world.sessions.aissue("user-1")
    reply = await world.endpoints.alogout(
        body({"refresh_token": tokens.refresh_token}), access=None, csrf_failure=lambda: None
    )
    assert reply.status == 204
    with pytest.raises(InvalidRefreshToken) as caught:
        await world.sessions.arefresh(tokens.refresh_token)
    assert caught.value.reason == "refresh_family_revoked"
    await world.revocation.arevoke_token({"jti": "j3", "exp": 2_000_000_000})
    assert await world.revocation.acheck({"jti": "j3", "sub": "user-1"}) == "jti"


async def test_wrong_passwords_are_rate_limited_right_ones_are_forgotten(
    world: World, clock: FakeClock
) -> None:
    wrong = body({"username": "alice", "password": "wrong"})
    right = body({"username": "alice", "password": "right"})
    for _ in range(3):
        assert (await world.endpoints.alogin(right, client=CLIENT, check=check)).status == 200
    for _ in range(3):
        reply = await world.endpoints.alogin(wrong, client=CLIENT, check=check)
        assert reply.status == 400
        assert reply.body == {
            "error": "invalid_grant",
            "error_description": "The credentials are invalid.",
        }
    refused = await world.endpoints.alogin(right, client=CLIENT, check=check)
    assert refused.status == 429
    assert refused.headers["Retry-After"] == "60"
    with pytest.raises(RateLimited):
        async with world.limiter.aattempt(CLIENT):
            pass
    clock.advance(61)
    assert (await world.endpoints.alogin(right, client=CLIENT, check=check)).status == 200


async def test_a_parallel_burst_of_wrong_passwords_gets_no_more_than_the_limit(
    world: World,
) -> None:
    wrong = body({"username": "alice", "password": "wrong"})
    replies = await asyncio.gather(
        *(world.endpoints.alogin(wrong, client=CLIENT, check=check) for _ in range(10))
    )
    statuses = sorted(r.status for r in replies)
    assert statuses == [400] * 3 + [429] * 7


async def test_a_redis_outage_is_a_503_on_the_async_path(
    make_sessions: Callable[..., RefreshTokenService],
    recorded_events: list[Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A port nothing listens on: every await fails like a Redis restart.
    with socket_nobody_listens() as url:
        astore = AsyncRedisSessionStore(url)
        sessions = make_sessions(MemorySessionStore(), astore=astore)
        with pytest.raises(StateUnavailable) as caught:
            await sessions.arefresh("A" * 43)
        assert caught.value.reason == "session_store_unavailable"
        assert len(named(recorded_events, "session_store_unavailable")) == 1
        assert "the Redis session store is unavailable (ConnectionError)" in caplog.text
        await astore.aclose()


class socket_nobody_listens:
    """A ``redis://`` URL of a loopback port just freed: connections are refused."""

    def __enter__(self) -> str:
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        return f"redis://127.0.0.1:{port}/0"

    def __exit__(self, *exc: object) -> None:
        return None


# -- the event loop is never blocked by SQLite


class ThreadRecordingStore(SQLiteSessionStore):
    """The SQLite store, noting which thread each spend ran on."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.spend_threads: list[int] = []

    def spend(self, token_hash: str, *, now: float) -> Any:
        self.spend_threads.append(threading.get_ident())
        return super().spend(token_hash, now=now)


async def test_sqlite_work_runs_off_the_event_loop_thread(
    tmp_path: Path, make_sessions: Callable[..., RefreshTokenService]
) -> None:
    store = ThreadRecordingStore(tmp_path / "sessions.db")
    try:
        sessions = make_sessions(store)
        tokens = await sessions.aissue("user-1")
        await sessions.arefresh(tokens.refresh_token)
        assert store.spend_threads
        assert threading.get_ident() not in store.spend_threads
    finally:
        store.close()


async def test_the_loop_keeps_running_while_sqlite_waits_for_a_lock(
    tmp_path: Path, make_sessions: Callable[..., RefreshTokenService]
) -> None:
    path = tmp_path / "sessions.db"
    store = SQLiteSessionStore(path)
    try:
        sessions = make_sessions(store)
        tokens = await sessions.aissue("user-1")
        # Another process's writer holds the lock: the refresh must wait for it.
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        refresh = asyncio.ensure_future(sessions.arefresh(tokens.refresh_token))
        ticks = 0
        # Were the refresh waiting on the loop's own thread, no tick would run
        # until SQLite's busy timeout gave up (and the refresh would fail).
        while ticks < 200 and not refresh.done():
            ticks += 1
            await asyncio.sleep(0)
        assert ticks == 200
        assert not refresh.done()
        holder.execute("COMMIT")
        holder.close()
        rotated = await refresh
        assert rotated.refresh_token != tokens.refresh_token
    finally:
        store.close()


# -- the asyncio Redis store's own rules


def test_the_async_redis_store_refuses_what_it_cannot_use(
    redis_server: RedisServer, make_sessions: Callable[..., RefreshTokenService]
) -> None:
    import redis
    import redis.asyncio

    with pytest.raises(ConfigurationError) as caught:
        AsyncRedisSessionStore("http://127.0.0.1:6379")
    assert caught.value.setting == "redis"
    assert "the Redis URL is not valid" in str(caught.value)
    with pytest.raises(ConfigurationError) as caught:
        AsyncRedisSessionStore(redis.Redis())  # type: ignore[arg-type]
    assert "give a redis.asyncio.Redis" in str(caught.value)
    with pytest.raises(ConfigurationError) as caught:
        AsyncRedisSessionStore(redis.asyncio.Redis(decode_responses=True))
    assert "decode_responses=False" in str(caught.value)
    with pytest.raises(ConfigurationError) as caught:
        AsyncRedisSessionStore(redis_server.url, prefix="")
    assert caught.value.setting == "prefix"
    # An async store where a sync one belongs, and the other way round.
    astore = AsyncRedisSessionStore(redis_server.url)
    with pytest.raises(ConfigurationError) as caught:
        make_sessions(astore)
    assert caught.value.setting == "store"
    store = MemorySessionStore()
    with pytest.raises(ConfigurationError) as caught:
        make_sessions(store, astore=store)
    assert caught.value.setting == "astore"


async def test_an_unreplicated_spend_is_a_503_and_is_taken_back(
    redis_server: RedisServer, make_sessions: Callable[..., RefreshTokenService]
) -> None:
    # A lone server has no replica to confirm the write: WAIT 1 gets 0.
    server = redis_server
    server.client().flushall()
    store = RedisSessionStore(server.url, prefix="wait")
    astore = AsyncRedisSessionStore(server.url, prefix="wait", replicas=1, replica_timeout=0.05)
    try:
        sessions = make_sessions(store, astore=astore)
        tokens = sessions.issue("user-1")
        with pytest.raises(StateUnavailable) as caught:
            await sessions.arefresh(tokens.refresh_token)
        assert caught.value.reason == "session_store_unavailable"
        # The spend was undone on the primary: the client's retry is a first use.
        assert sessions.refresh(tokens.refresh_token).subject == "user-1"
    finally:
        await astore.aclose()
        store._client.close()


class ThreadRecordingRedisStore(RedisSessionStore):
    """The Redis store, noting the thread of each write and read."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.write_threads: list[int] = []

    def deny_jti(self, jti: str, *, expires_at: float, now: float) -> None:
        self.write_threads.append(threading.get_ident())
        super().deny_jti(jti, expires_at=expires_at, now=now)


async def test_the_revocation_mirror_reads_inline_and_writes_off_the_loop(
    redis_server: RedisServer, clock: FakeClock
) -> None:
    from jwt_guard_core.sessions import RedisRevocationMirror

    server = redis_server
    server.client().flushall()
    store = ThreadRecordingRedisStore(server.url, prefix="mirror")
    mirror = RedisRevocationMirror(store, background=False)
    try:
        revocation = RevocationService(mirror, clock=clock)
        await revocation.arevoke_jti("j-mirror", expires_at=clock() + 600)
        # The write reached Redis from a worker thread, not the loop's.
        assert store.write_threads
        assert threading.get_ident() not in store.write_threads
        mirror.sync()
        assert await revocation.acheck({"jti": "j-mirror"}) == "jti"
    finally:
        mirror.close()
        store._client.close()


def test_settings_open_each_backends_async_face(
    tmp_path: Path, redis_server: RedisServer, access_issuer: Any
) -> None:
    from jwt_guard_core.sessions import sessions_from_settings

    redis = sessions_from_settings(
        {"BACKEND": "redis", "REDIS_URL": redis_server.url, "REDIS_PREFIX": "app:s"},
        access_tokens=access_issuer,
    )
    try:
        assert isinstance(redis.astore, AsyncRedisSessionStore)
        assert repr(redis.astore) == "AsyncRedisSessionStore(prefix='app:s')"
        # One breaker for both clients of one server.
        assert redis.astore.breaker is redis.store.breaker
        assert redis.refresh_tokens.astore is redis.astore
        assert redis.revocation.astore is redis.astore
    finally:
        redis.store._client.close()
    sqlite = sessions_from_settings(
        {"BACKEND": "sqlite", "SQLITE_PATH": str(tmp_path / "s.db")}, access_tokens=access_issuer
    )
    try:
        assert isinstance(sqlite.astore, AsyncSessionStore)
        assert sqlite.astore.store is sqlite.store
    finally:
        sqlite.store.close()
    marker: list[Any] = []
    custom = sessions_from_settings(
        {"BACKEND": "mine"},
        access_tokens=access_issuer,
        more={"mine": MemorySessionStore},
        amore={"mine": lambda store: marker.append(store) or AsyncSessionStore(store)},
    )
    assert marker == [custom.store]
