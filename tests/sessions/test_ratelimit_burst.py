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


def slow_verifier(
    make_verifier: Callable[..., Verifier], clock: FakeClock, gate: Gate, *, revoked: bool
) -> Verifier:
    """A verifier whose revocation lookup, its slow last step, waits at ``gate``."""

    def emergency_epoch() -> float | None:
        gate.enter()
        # An epoch after the token's iat revokes it.
        return clock() + 1 if revoked else None

    revocation = RevocationService(
        MemorySessionStore(), emergency_epoch_source=emergency_epoch, clock=clock
    )
    return make_verifier(revocation=revocation)


@pytest.fixture
def token(keyring: KeyRing) -> str:
    return sign({"alg": "RS256", "kid": "rsa-1"}, claims(), keyring.rsa)


@pytest.mark.parametrize(("revoked", "outcome"), [(True, "revoked"), (False, "verified")])
def test_a_parallel_burst_of_verifications_gets_at_most_limit_checks(
    two_stores: list[Any],
    make_verifier: Callable[..., Verifier],
    token: str,
    clock: FakeClock,
    revoked: bool,
    outcome: str,
) -> None:
    # In flight, every attempt counts: nobody knows yet whether it is a
    # guess. The failures stay counted; the successes are forgotten.
    gate = Gate(BURST)
    verifier = slow_verifier(make_verifier, clock, gate, revoked=revoked)
    limiters = _limiters(two_stores, clock)

    def verify(i: int) -> str:
        try:
            limiters[i % 2].verify(verifier, token, client=CLIENT)
        except RateLimited as exc:
            return f"{exc.reason} {exc.retry_after}"
        except TokenError as exc:
            return exc.reason
        return "verified"

    outcomes = Counter(burst(gate, BURST, verify))
    assert gate.reached == LIMIT
    assert outcomes == {outcome: LIMIT, "rate_limited 60": BURST - LIMIT}
    kept = two_stores[1].recent_failures(CLIENT, now=clock(), window=60)
    assert len(kept) == (LIMIT if revoked else 0)


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
