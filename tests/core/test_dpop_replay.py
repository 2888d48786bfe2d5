"""DPoP jti replay stores (memory, SQLite, a real Redis): atomic, expiring, bounded, fail closed."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable

import pytest
import redis

from jwt_guard_core import ConfigurationError, StateUnavailable
from jwt_guard_core.challenges import ChallengeOptions, challenge_response
from jwt_guard_core.dpop import (
    DPoPPolicy,
    InvalidDPoPProof,
    MemoryReplayStore,
    RedisReplayStore,
    ReplayStore,
    SQLiteReplayStore,
)
from jwt_guard_core.sessions import StoreUnavailable
from tests.core.dpop_support import Client, dpop_request, issue_token
from tests.factories import NOW
from tests.redis_server import RedisServer, redis_client, redis_server  # noqa: F401

BACKENDS = ["memory", "sqlite", "redis"]


@pytest.fixture
def make_store(tmp_path, redis_server: RedisServer) -> Callable[[str], ReplayStore]:  # noqa: F811
    made: list[redis.Redis] = []

    def _make(kind: str) -> ReplayStore:
        if kind == "memory":
            return MemoryReplayStore()
        if kind == "sqlite":
            return SQLiteReplayStore(tmp_path / "dpop.db")
        client = redis_server.client()
        client.flushall()
        made.append(client)
        return RedisReplayStore(client)

    yield _make
    for client in made:
        client.close()


@pytest.mark.parametrize("kind", BACKENDS)
def test_a_key_is_new_once_then_seen_until_it_expires(make_store, kind):
    store = make_store(kind)
    assert isinstance(store, ReplayStore)
    assert store.first_use("k1", expires_at=NOW + 60, now=NOW) is True
    assert store.first_use("k1", expires_at=NOW + 60, now=NOW + 30) is False
    assert store.first_use("k2", expires_at=NOW + 60, now=NOW + 30) is True
    if kind != "redis":  # Redis expires by its own clock: see the TTL test below
        assert store.first_use("k1", expires_at=NOW + 120, now=NOW + 60) is True
        assert store.first_use("k1", expires_at=NOW + 120, now=NOW + 61) is False


@pytest.mark.parametrize("kind", BACKENDS)
def test_of_concurrent_uses_of_one_key_exactly_one_wins(make_store, kind):
    store = make_store(kind)
    barrier = threading.Barrier(8)
    results: list[bool] = []
    lock = threading.Lock()

    def use() -> None:
        barrier.wait()
        outcome = store.first_use("same", expires_at=NOW + 60, now=NOW)
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 7 + [True]


def _eight_first_uses_at_once(store: SQLiteReplayStore) -> list[str]:
    barrier = threading.Barrier(8)
    results: list[str] = []

    def use() -> None:
        barrier.wait()
        try:
            results.append(repr(store.first_use("same", expires_at=NOW + 60, now=NOW)))
        except StoreUnavailable as exc:
            results.append(repr(exc))

    threads = [threading.Thread(target=use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(results)


def test_a_fresh_sqlite_store_taking_concurrent_first_uses_never_fails(tmp_path):
    # Each store's first connections open together: switching the file to WAL
    # while a sibling connection held the write lock failed at once ("database
    # is locked", a 503 for a valid proof) in about one fresh store in fifteen.
    for attempt in range(30):
        store = SQLiteReplayStore(tmp_path / f"dpop-{attempt}.db")
        try:
            assert _eight_first_uses_at_once(store) == ["False"] * 7 + ["True"], attempt
        finally:
            store.close()


def test_two_sqlite_stores_on_one_file_share_what_they_saw(tmp_path):
    first = SQLiteReplayStore(tmp_path / "dpop.db")
    second = SQLiteReplayStore(tmp_path / "dpop.db")
    assert first.first_use("k", expires_at=NOW + 60, now=NOW)
    assert not second.first_use("k", expires_at=NOW + 60, now=NOW)
    assert (tmp_path / "dpop.db").stat().st_mode & 0o077 == 0


def test_sqlite_purges_expired_rows(tmp_path):
    store = SQLiteReplayStore(tmp_path / "dpop.db")
    for i in range(300):
        store.first_use(f"old-{i}", expires_at=NOW + 1, now=NOW)
    count = "SELECT COUNT(*) FROM jwt_guard_dpop_jti WHERE key LIKE 'old-%'"
    conn = sqlite3.connect(tmp_path / "dpop.db")
    try:
        assert conn.execute(count).fetchone()[0] == 300
        for i in range(256):  # the 512th write sweeps
            store.first_use(f"new-{i}", expires_at=NOW + 100, now=NOW + 50)
        assert conn.execute(count).fetchone()[0] == 0
    finally:
        conn.close()


def test_redis_keys_expire_with_the_proof_window(redis_client):  # noqa: F811
    store = RedisReplayStore(redis_client, prefix="app:dpop")
    assert store.first_use("k", expires_at=NOW + 66, now=NOW)
    ttl = redis_client.pttl("app:dpop:k")
    assert 65_000 < ttl <= 66_000
    assert redis_client.keys("*") == [b"app:dpop:k"]


def test_memory_store_refuses_new_entries_when_full_rather_than_forget_live_ones():
    store = MemoryReplayStore(max_entries=2)
    assert store.first_use("a", expires_at=NOW + 10, now=NOW)
    assert store.first_use("b", expires_at=NOW + 20, now=NOW)
    with pytest.raises(StoreUnavailable):
        store.first_use("c", expires_at=NOW + 10, now=NOW)
    assert not store.first_use("a", expires_at=NOW + 10, now=NOW + 1)
    assert store.first_use("c", expires_at=NOW + 30, now=NOW + 10)  # "a" expired
    assert len(store) == 2


# -- through the policy


@pytest.fixture
def client(keyring) -> Client:
    return Client(keyring.p256, "ES256")


@pytest.fixture
def bound(keyring, make_verifier, client):
    return issue_token(keyring, make_verifier(), cnf={"jkt": client.jkt})


@pytest.mark.parametrize("kind", BACKENDS)
async def test_acheck_uses_each_backend_and_refuses_the_replay(
    make_store, kind, bound, client, clock
):
    raw, token = bound
    policy = DPoPPolicy(replay_store=make_store(kind), clock=clock)
    proof = client.proof(raw)
    assert (await policy.acheck(dpop_request(proof), token, raw)).bound
    with pytest.raises(InvalidDPoPProof) as info:
        await policy.acheck(dpop_request(proof), token, raw)
    assert info.value.reason == "dpop_replayed"
    with pytest.raises(InvalidDPoPProof) as info:
        policy.check(dpop_request(proof), token, raw)
    assert info.value.reason == "dpop_replayed"


def _unreachable_redis() -> RedisReplayStore:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return RedisReplayStore(f"redis://127.0.0.1:{port}/0")


@pytest.mark.parametrize("kind", ["redis", "sqlite", "full-memory"])
async def test_an_unavailable_store_fails_closed_with_503(kind, tmp_path, bound, client, clock):
    raw, token = bound
    if kind == "redis":
        store: ReplayStore = _unreachable_redis()
    elif kind == "sqlite":
        directory = tmp_path / "gone"
        directory.mkdir()
        store = SQLiteReplayStore(directory / "dpop.db")
        directory.rmdir()
    else:
        store = MemoryReplayStore(max_entries=1)
        store.first_use("x", expires_at=NOW + 600, now=NOW)
    policy = DPoPPolicy(replay_store=store, clock=clock)
    with pytest.raises(StateUnavailable) as info:
        policy.check(dpop_request(client.proof(raw)), token, raw)
    assert info.value.reason == "dpop_replay_unavailable"
    assert info.value.status == 503
    with pytest.raises(StateUnavailable) as info:
        await policy.acheck(dpop_request(client.proof(raw)), token, raw)
    assert info.value.reason == "dpop_replay_unavailable"
    response = challenge_response(info.value, ChallengeOptions.for_policy(policy))
    assert response.status == 503
    assert "WWW-Authenticate" not in response.headers
    assert response.headers["Retry-After"] == "5"


@pytest.mark.parametrize(
    ("build", "setting"),
    [
        (lambda tmp: MemoryReplayStore(max_entries=0), "max_entries"),
        (lambda tmp: SQLiteReplayStore(":memory:"), "path"),
        (lambda tmp: SQLiteReplayStore(tmp / "missing" / "x.db"), "path"),
        (lambda tmp: SQLiteReplayStore(tmp / "x.db", timeout=0), "timeout"),
        (lambda tmp: RedisReplayStore("http://x"), "redis"),
        (lambda tmp: RedisReplayStore(object()), "redis"),  # type: ignore[arg-type]
        (lambda tmp: RedisReplayStore("redis://127.0.0.1:1/0", prefix=""), "prefix"),
    ],
)
def test_bad_store_settings_name_the_setting(tmp_path, build, setting):
    with pytest.raises(ConfigurationError) as info:
        build(tmp_path)
    assert info.value.setting == setting
