"""A parallel burst gets no more guesses than the limit, on every backend.

The attempt is reserved in the store before the expensive step (the
password check, the token's revocation check), so a hundred simultaneous
requests cannot all pass a check that none of them has yet failed. The
expensive step here blocks on an event instead of sleeping: the burst is
released only once every request has either reached it or been answered,
so the counts are exact, not a matter of timing.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from jwt_guard_core import TokenError, Verifier
from jwt_guard_core.errors import RateLimited
from jwt_guard_core.sessions import (
    FailureRateLimiter,
    MemorySessionStore,
    RedisSessionStore,
    RefreshTokenService,
    RevocationService,
    SQLiteSessionStore,
)
from tests.factories import FakeClock, KeyRing, claims, sign
from tests.sessions.conftest import BACKENDS
from tests.sessions.ratelimit_fixtures import Gate, burst, credentials, login_endpoints

BURST = 60
LIMIT = 10
CLIENT = "203.0.113.7"


@pytest.fixture(params=BACKENDS)
def two_stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[list[Any]]:
    """Two handles on one rate-limit state: what two workers of one deployment share.

    Memory: one store (a process has one). SQLite: two store objects, each
    with its own connections, on one file. Redis: two clients, one prefix.
    """
    if request.param == "memory":
        store = MemorySessionStore()
        yield [store, store]
    elif request.param == "sqlite":
        stores = [SQLiteSessionStore(tmp_path / "rl.db") for _ in range(2)]
        yield stores
        for sqlite_store in stores:
            sqlite_store.close()
    else:
        server = request.getfixturevalue("redis_server")
        prefix = f"test:{secrets.token_hex(4)}"
        clients = [server.client(socket_timeout=10) for _ in range(2)]
        yield [RedisSessionStore(client, prefix=prefix) for client in clients]
        for client in clients:
            client.close()


def _limiters(stores: list[Any], clock: FakeClock) -> list[FailureRateLimiter]:
    return [FailureRateLimiter(store, limit=LIMIT, window=60, clock=clock) for store in stores]


def test_a_parallel_login_burst_gets_at_most_limit_password_checks(
    two_stores: list[Any],
    make_sessions: Callable[..., RefreshTokenService],
    clock: FakeClock,
) -> None:
    endpoints = [
        login_endpoints(make_sessions, clock, limiter) for limiter in _limiters(two_stores, clock)
    ]
    gate = Gate(BURST)

    def check(username: str, password: str) -> tuple[str, tuple[str, ...]] | None:
        gate.enter()  # the slow password hash
        return ("user-1", ()) if password == "right" else None

    def login(i: int) -> int:
        request = credentials("alice", f"guess-{i}")
        return endpoints[i % 2].login(request, client=CLIENT, check=check).status

    statuses = Counter(burst(gate, BURST, login))
    assert gate.reached == LIMIT
    assert statuses == {400: LIMIT, 429: BURST - LIMIT}
    # The failures are recorded: even the right password now waits.
    later = endpoints[0].login(credentials("alice", "right"), client=CLIENT, check=check)
    assert later.status == 429
    assert later.headers["Retry-After"] == "60"


@pytest.fixture
def token(keyring: KeyRing) -> str:
    return sign({"alg": "RS256", "kid": "rsa-1"}, claims(), keyring.rsa)


def test_a_parallel_burst_of_failing_verifications_gets_at_most_limit_checks(
    two_stores: list[Any],
    make_verifier: Callable[..., Verifier],
    token: str,
    clock: FakeClock,
) -> None:
    gate = Gate(BURST)

    def emergency_epoch() -> float:
        gate.enter()  # the slow part of verification (a revocation lookup)
        return clock() + 1  # every token issued before now is revoked

    verifier = make_verifier(
        revocation=RevocationService(
            MemorySessionStore(), emergency_epoch_source=emergency_epoch, clock=clock
        )
    )
    limiters = _limiters(two_stores, clock)

    def verify(i: int) -> Any:
        return limiters[i % 2].verify(verifier, token, client=CLIENT)

    results = burst(gate, BURST, verify)
    assert all(isinstance(r, TokenError) for r in results)
    assert gate.reached == LIMIT
    assert Counter(r.reason for r in results) == {"revoked": LIMIT, "rate_limited": BURST - LIMIT}
    assert all(r.retry_after == 60 for r in results if isinstance(r, RateLimited))


def test_successes_in_a_burst_are_forgotten_once_they_finish(
    two_stores: list[Any],
    make_verifier: Callable[..., Verifier],
    token: str,
    clock: FakeClock,
) -> None:
    # In flight, an attempt counts (nobody knows yet whether it is a guess);
    # once it succeeds it is forgotten and leaves the whole budget.
    gate = Gate(BURST)

    def emergency_epoch() -> None:
        gate.enter()
        return None

    verifier = make_verifier(
        revocation=RevocationService(
            MemorySessionStore(), emergency_epoch_source=emergency_epoch, clock=clock
        )
    )
    limiters = _limiters(two_stores, clock)
    results = burst(gate, BURST, lambda i: limiters[i % 2].verify(verifier, token, client=CLIENT))
    assert gate.reached == LIMIT
    assert Counter(type(r).__name__ for r in results) == {
        "VerifiedToken": LIMIT,
        "RateLimited": BURST - LIMIT,
    }
    assert two_stores[1].recent_failures(CLIENT, now=clock(), window=60) == ()
    assert limiters[1].verify(verifier, token, client=CLIENT).subject == "user-1"


async def test_async_attempts_are_reserved_before_the_work(
    two_stores: list[Any], clock: FakeClock
) -> None:
    limiters = _limiters(two_stores, clock)
    release = asyncio.Event()
    reached = 0

    async def guess(i: int) -> str:
        nonlocal reached
        try:
            async with limiters[i % 2].aattempt(CLIENT) as attempt:
                reached += 1
                await release.wait()
                attempt.fail()
        except RateLimited as exc:
            return exc.reason
        return "failed"

    tasks = [asyncio.create_task(guess(i)) for i in range(BURST)]
    while reached + sum(t.done() for t in tasks) < BURST:
        await asyncio.sleep(0)
    release.set()
    outcomes = Counter(await asyncio.gather(*tasks))
    assert reached == LIMIT
    assert outcomes == {"failed": LIMIT, "rate_limited": BURST - LIMIT}
