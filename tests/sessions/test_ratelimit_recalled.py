"""A token the verifier recalls skips the rate limiter's reservation, and nothing else.

``FailureRateLimiter.verify`` reserves an attempt (a store write) before a
verification and forgets it after a success (a second write). A token the
verifier's cache holds was accepted before and cannot be a guess, so it is
only checked against the limit (one read); a failure found on it is counted
afterwards. Every backend; the store is inspected in the middle of the
verification (the revocation check's epoch source looks), so what is
reserved is observed, not timed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

from jwt_guard_core import TokenError, Verifier
from jwt_guard_core.errors import RateLimited, StateUnavailable
from jwt_guard_core.sessions import (
    FailureRateLimiter,
    MemorySessionStore,
    RedisSessionStore,
    RevocationService,
)
from tests.factories import FakeClock, KeyRing, claims, named, sign
from tests.redis_server import start_redis_server

CLIENT = "203.0.113.9"
LIMIT = 3
HEADER = {"alg": "RS256", "kid": "rsa-1"}


class Watch:
    """An emergency-epoch source that records the client's stored entries when consulted."""

    def __init__(self, store: Any, clock: FakeClock) -> None:
        self.store = store
        self.clock = clock
        self.seen: list[int] = []
        self.epoch: float | None = None

    def __call__(self) -> float | None:
        entries = self.store.recent_failures(CLIENT, now=self.clock(), window=60)
        self.seen.append(len(entries))
        return self.epoch


@pytest.fixture
def setup(
    backend_store: Any, make_verifier: Callable[..., Verifier], clock: FakeClock
) -> tuple[FailureRateLimiter, Verifier, Watch]:
    watch = Watch(backend_store, clock)
    revocation = RevocationService(MemorySessionStore(), emergency_epoch_source=watch, clock=clock)
    verifier = make_verifier(revocation=revocation)
    limiter = FailureRateLimiter(backend_store, limit=LIMIT, window=60, clock=clock)
    return limiter, verifier, watch


@pytest.fixture
def token(keyring: KeyRing) -> str:
    return sign(HEADER, claims(), keyring.rsa)


def test_a_first_seen_token_is_reserved_and_a_recalled_one_is_not(setup, token):
    limiter, verifier, watch = setup
    assert not verifier.recalls(token)
    limiter.verify(verifier, token, client=CLIENT)
    assert verifier.recalls(token)
    limiter.verify(verifier, token, client=CLIENT)
    # In flight: one reserved entry the first time, none the second.
    assert watch.seen == [1, 0]
    assert len(watch.store.recent_failures(CLIENT, now=limiter._clock(), window=60)) == 0


async def test_averify_skips_the_reservation_for_a_recalled_token(setup, token):
    limiter, verifier, watch = setup
    await limiter.averify(verifier, token, client=CLIENT)
    await limiter.averify(verifier, token, client=CLIENT)
    assert watch.seen == [1, 0]


def _exhaust(limiter: FailureRateLimiter, verifier: Verifier, token: str) -> None:
    head, body, signature = token.split(".")
    flipped = ("B" if signature[10] == "A" else "A").join((signature[:10], signature[11:]))
    forged = f"{head}.{body}.{flipped}"
    for _ in range(LIMIT):
        with pytest.raises(TokenError) as caught:
            limiter.verify(verifier, forged, client=CLIENT)
        assert caught.value.reason == "bad_signature"


def test_a_client_over_the_limit_is_refused_even_with_a_recalled_token(setup, token):
    limiter, verifier, _ = setup
    limiter.verify(verifier, token, client=CLIENT)
    _exhaust(limiter, verifier, token)
    assert verifier.recalls(token)
    with pytest.raises(RateLimited) as caught:
        limiter.verify(verifier, token, client=CLIENT)
    assert caught.value.reason == "rate_limited"
    assert caught.value.retry_after == 60


async def test_async_a_client_over_the_limit_is_refused_with_a_recalled_token(setup, token):
    limiter, verifier, _ = setup
    await limiter.averify(verifier, token, client=CLIENT)
    _exhaust(limiter, verifier, token)
    with pytest.raises(RateLimited) as caught:
        await limiter.averify(verifier, token, client=CLIENT)
    assert caught.value.reason == "rate_limited"


@pytest.mark.parametrize("run", ["sync", "async"])
async def test_a_recalled_token_refused_now_counts_one_failure(setup, token, clock, run):
    limiter, verifier, watch = setup
    limiter.verify(verifier, token, client=CLIENT)
    watch.epoch = clock() + 1  # an emergency rotation after the token was issued

    async def again() -> Any:
        if run == "sync":
            return limiter.verify(verifier, token, client=CLIENT)
        return await limiter.averify(verifier, token, client=CLIENT)

    with pytest.raises(TokenError) as caught:
        await again()
    assert caught.value.reason == "revoked"
    assert len(watch.store.recent_failures(CLIENT, now=clock(), window=60)) == 1
    # The refusal dropped it from the cache: next time it is reserved again.
    assert not verifier.recalls(token)


def test_recalls_is_a_look_at_the_cache_only(make_verifier, token, clock):
    verifier = make_verifier()
    assert not verifier.recalls(token)
    verifier.verify(token)
    assert verifier.recalls(token)
    assert not verifier.recalls(token + "x")
    assert not verifier.recalls(None)  # type: ignore[arg-type]
    assert not verifier.recalls("é" + token)
    uncached = make_verifier(token_cache_size=0)
    uncached.verify(token)
    assert not uncached.recalls(token)
    clock.advance(3600 * 24)  # past exp
    assert not verifier.recalls(token)


@pytest.fixture
def stopped_redis_store(tmp_path: Any) -> Any:
    """A Redis store whose server is stopped once the test has used it."""
    server = start_redis_server(tmp_path / "redis")
    client = server.quick_client()
    try:
        yield RedisSessionStore(client, prefix="recalled"), server
    finally:
        client.close()
        server.stop()


@pytest.mark.parametrize("fail_open", [True, False])
def test_a_recalled_token_with_the_store_down_follows_fail_open(
    stopped_redis_store, make_verifier, token, clock, recorded_events, fail_open
):
    store, server = stopped_redis_store
    verifier = make_verifier()
    limiter = FailureRateLimiter(store, limit=LIMIT, window=60, fail_open=fail_open, clock=clock)
    limiter.verify(verifier, token, client=CLIENT)
    server.stop()
    if fail_open:
        assert limiter.verify(verifier, token, client=CLIENT).subject == "user-1"
    else:
        with pytest.raises(StateUnavailable) as caught:
            limiter.verify(verifier, token, client=CLIENT)
        assert caught.value.reason == "rate_limit_unavailable"
    (event,) = named(recorded_events, "rate_limit_unavailable")
    assert event.level == logging.ERROR


def test_a_recalled_token_refused_while_the_store_is_down_keeps_its_own_error(
    stopped_redis_store, make_verifier, token, clock, recorded_events
):
    store, server = stopped_redis_store
    epoch: list[float] = []
    revocation = RevocationService(
        MemorySessionStore(),
        emergency_epoch_source=lambda: epoch[0] if epoch else None,
        clock=clock,
    )
    verifier = make_verifier(revocation=revocation)
    limiter = FailureRateLimiter(store, limit=LIMIT, window=60, clock=clock)
    limiter.verify(verifier, token, client=CLIENT)
    server.stop()
    epoch.append(clock() + 1)
    with pytest.raises(TokenError) as caught:
        limiter.verify(verifier, token, client=CLIENT)
    assert caught.value.reason == "revoked"
    # The read and the failure's write both met the outage.
    assert len(named(recorded_events, "rate_limit_unavailable")) == 2
