"""FailureRateLimiter: failed verifications per client in a sliding window, 429 over the limit."""

from __future__ import annotations

import logging
import sqlite3

import pytest

from jwt_guard_core import ConfigurationError, TokenError
from jwt_guard_core.errors import RateLimited, StateUnavailable
from jwt_guard_core.http import error_response
from jwt_guard_core.sessions import (
    FailureRateLimiter,
    MemorySessionStore,
    RevocationService,
    SQLiteSessionStore,
)
from tests.factories import claims, named, sign
from tests.sessions.ratelimit_fixtures import check_reservations


@pytest.fixture
def good(keyring):
    return sign({"alg": "RS256", "kid": "rsa-1"}, claims(), keyring.rsa)


@pytest.fixture
def bad(keyring):
    # Signed by a key the verifier does not know: a bad_signature rejection.
    return sign({"alg": "HS256", "kid": "rsa-1"}, claims(), keyring.secret)


def test_stores_reserve_until_the_limit_and_release_frees_a_slot(backend_store, clock):
    check_reservations(backend_store, clock())


def _fail(limiter, verifier, token, client="10.0.0.1"):
    with pytest.raises(TokenError) as caught:
        limiter.verify(verifier, token, client=client)
    return caught.value


def test_client_over_the_limit_is_refused_with_429_and_retry_after(
    backend_store, make_verifier, bad, clock, recorded_events
):
    limiter = FailureRateLimiter(backend_store, limit=3, window=60, clock=clock)
    verifier = make_verifier()
    for _ in range(3):
        assert _fail(limiter, verifier, bad).reason == "alg_not_allowed"
        clock.advance(10)
    refused = _fail(limiter, verifier, bad)
    assert isinstance(refused, RateLimited)
    assert refused.reason == "rate_limited"
    assert refused.status == 429
    # The oldest failure (30 s ago) leaves the 60 s window in 30 s.
    assert refused.retry_after == 30
    response = error_response(refused)
    assert response.status == 429
    assert response.headers == {"Retry-After": "30"}
    assert response.body["error"] == "too_many_requests"
    (event,) = named(recorded_events, "rate_limited")
    assert event.level == logging.WARNING
    assert event.fields["client"] == "10.0.0.1"
    assert event.fields["retry_after"] == 30


def test_window_slides_rather_than_resetting_at_a_bucket_edge(
    backend_store, make_verifier, bad, good, clock
):
    limiter = FailureRateLimiter(backend_store, limit=3, window=60, clock=clock)
    verifier = make_verifier()
    clock.advance(50)
    for _ in range(3):
        _fail(limiter, verifier, bad)
        clock.advance(4)
    # 62 s in: a fixed one-minute bucket would have reset; the window has not.
    assert isinstance(_fail(limiter, verifier, good), RateLimited)
    clock.advance(60 - 12 + 1)
    # One failure left the window: exactly one more attempt is allowed.
    assert limiter.verify(verifier, good, client="10.0.0.1").subject == "user-1"
    _fail(limiter, verifier, bad)
    assert isinstance(_fail(limiter, verifier, good), RateLimited)


def test_successes_never_count_nor_reset_the_failures(
    backend_store, make_verifier, bad, good, clock
):
    limiter = FailureRateLimiter(backend_store, limit=2, window=60, clock=clock)
    verifier = make_verifier()
    for _ in range(50):
        assert limiter.verify(verifier, good, client="10.0.0.1").subject == "user-1"
    _fail(limiter, verifier, bad)
    for _ in range(5):
        limiter.verify(verifier, good, client="10.0.0.1")
    _fail(limiter, verifier, bad)
    # Over the limit even a valid token waits: mixing in a good token earns
    # no extra guesses.
    assert isinstance(_fail(limiter, verifier, good), RateLimited)


def test_limit_is_per_client(backend_store, make_verifier, bad, good, clock):
    limiter = FailureRateLimiter(backend_store, limit=1, window=60, clock=clock)
    verifier = make_verifier()
    _fail(limiter, verifier, bad, client="10.0.0.1")
    assert isinstance(_fail(limiter, verifier, good, client="10.0.0.1"), RateLimited)
    assert limiter.verify(verifier, good, client="10.0.0.2").subject == "user-1"


def test_an_outage_rejection_is_not_counted_as_a_failure(make_verifier, good, clock):
    def down():
        raise OSError("key store unreachable")

    store = MemorySessionStore()
    limiter = FailureRateLimiter(store, limit=1, window=60, clock=clock)
    verifier = make_verifier(
        revocation=RevocationService(MemorySessionStore(), emergency_epoch_source=down)
    )
    for _ in range(3):
        assert isinstance(_fail(limiter, verifier, good), StateUnavailable)
    assert store.recent_failures("10.0.0.1", now=clock(), window=60) == ()


def test_store_keeps_at_most_limit_failures_per_client(tmp_path, make_verifier, bad, clock):
    store = SQLiteSessionStore(tmp_path / "rl.db")
    limiter = FailureRateLimiter(store, limit=5, window=60, clock=clock)
    for _ in range(40):
        limiter.record_failure("10.0.0.1")
        clock.advance(0.1)
    conn = sqlite3.connect(store.path)
    try:
        (count,) = conn.execute("SELECT count(*) FROM jwt_guard_failures").fetchone()
    finally:
        conn.close()
    assert count == 5
    store.close()


def test_long_client_keys_are_truncated_and_empty_ones_refused(clock):
    store = MemorySessionStore()
    limiter = FailureRateLimiter(store, limit=1, clock=clock)
    limiter.record_failure("x" * 10_000)
    with pytest.raises(RateLimited):
        limiter.check("x" * 256 + "different tail")
    with pytest.raises(ConfigurationError):
        limiter.check("")


async def test_async_verification_is_limited_the_same_way(
    backend_store, make_verifier, bad, good, clock
):
    limiter = FailureRateLimiter(backend_store, limit=1, window=60, clock=clock)
    verifier = make_verifier()
    with pytest.raises(TokenError) as first:
        await limiter.averify(verifier, bad, client="10.0.0.1")
    assert first.value.reason == "alg_not_allowed"
    with pytest.raises(RateLimited):
        await limiter.averify(verifier, good, client="10.0.0.1")
    assert (await limiter.averify(verifier, good, client="10.0.0.2")).subject == "user-1"


@pytest.mark.parametrize(
    ("options", "setting"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 2.5}, "limit"),
        ({"window": 0}, "window"),
        ({"window": float("nan")}, "window"),
        ({"window": 86401}, "window"),
        ({"fail_open": 1}, "fail_open"),
        ({"clock": "now"}, "clock"),
    ],
)
def test_bad_settings_are_refused_naming_the_setting(options, setting):
    with pytest.raises(ConfigurationError) as caught:
        FailureRateLimiter(MemorySessionStore(), **options)
    assert caught.value.setting == setting
