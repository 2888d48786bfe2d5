"""Redis stops mid-test: revocation fails closed (503) by default, or open with an event.

Each test starts its own real redis-server (the session one is shared and
must stay up) and terminates it half-way through.
"""

from __future__ import annotations

import logging

import pytest

from jwt_guard_core import TokenRevoked
from jwt_guard_core.errors import StateUnavailable
from jwt_guard_core.http import error_response
from jwt_guard_core.sessions import (
    FailureRateLimiter,
    RedisSessionStore,
    RevocationService,
)
from tests.factories import NOW, claims, named, sign
from tests.redis_server import start_redis_server


@pytest.fixture
def own_redis(tmp_path):
    server = start_redis_server(tmp_path)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def store(own_redis):
    client = own_redis.quick_client()
    try:
        yield RedisSessionStore(client)
    finally:
        client.close()


def _token(keyring, **overrides):
    return sign({"alg": "RS256", "kid": "rsa-1"}, claims(**overrides), keyring.rsa)


def test_redis_outage_fails_closed_with_503_and_accepts_nothing(
    own_redis, store, guarded_verifier, keyring, clock, recorded_events
):
    revocation = RevocationService(store, clock=clock)
    verifier = guarded_verifier(revocation)
    good = _token(keyring, jti="good")
    revoked = _token(keyring, jti="revoked")
    revocation.revoke_jti("revoked", expires_at=NOW + 600)
    assert verifier.verify(good).subject == "user-1"
    with pytest.raises(TokenRevoked):
        verifier.verify(revoked)

    own_redis.stop()

    for token in (good, revoked):
        with pytest.raises(StateUnavailable) as caught:
            verifier.verify(token)
        assert caught.value.reason == "revocation_unavailable"
        response = error_response(caught.value)
        assert response.status == 503
        assert response.headers["Retry-After"] == "5"
        assert "WWW-Authenticate" not in response.headers
    rejected = [e for e in named(recorded_events, "token_rejected") if e.fields["status"] == 503]
    assert len(rejected) == 2


async def test_redis_outage_fails_closed_for_async_verification(
    own_redis, store, guarded_verifier, keyring, clock
):
    verifier = guarded_verifier(RevocationService(store, clock=clock))
    token = _token(keyring)
    assert (await verifier.averify(token)).subject == "user-1"
    own_redis.stop()
    with pytest.raises(StateUnavailable):
        await verifier.averify(token)


def test_redis_outage_fails_open_with_an_event_when_configured(
    own_redis, store, guarded_verifier, keyring, clock, recorded_events
):
    revocation = RevocationService(store, fail_open=True, clock=clock)
    verifier = guarded_verifier(revocation)
    revoked = _token(keyring, jti="revoked")
    revocation.revoke_jti("revoked", expires_at=NOW + 600)
    with pytest.raises(TokenRevoked):
        verifier.verify(revoked)

    own_redis.stop()

    # The documented price of failing open: a revoked token gets through
    # while Redis is down, and every such acceptance is an ERROR event.
    assert verifier.verify(revoked).subject == "user-1"
    (event,) = named(recorded_events, "revocation_unavailable")
    assert event.level == logging.ERROR
    assert event.reason == "revocation_unavailable"
    assert event.fields["jti"] == "revoked"
    assert "ConnectionError" in event.fields["error"]


def test_redis_outage_makes_refresh_a_503(own_redis, store, make_sessions, recorded_events):
    sessions = make_sessions(store)
    tokens = sessions.issue("user-1")
    own_redis.stop()
    with pytest.raises(StateUnavailable) as caught:
        sessions.refresh(tokens.refresh_token)
    assert caught.value.status == 503
    assert caught.value.reason == "session_store_unavailable"
    with pytest.raises(StateUnavailable):
        sessions.issue("user-2")
    assert named(recorded_events, "session_store_unavailable")


def test_redis_outage_lets_the_rate_limiter_fail_open_by_default(
    own_redis, store, make_verifier, keyring, clock, recorded_events
):
    limiter = FailureRateLimiter(store, limit=1, clock=clock)
    verifier = make_verifier()
    own_redis.stop()
    token = _token(keyring)
    assert limiter.verify(verifier, token, client="10.0.0.1").subject == "user-1"
    events = named(recorded_events, "rate_limit_unavailable")
    assert events
    assert events[0].level == logging.ERROR


def test_redis_outage_with_a_closed_rate_limiter_is_a_503(
    own_redis, store, make_verifier, keyring, clock
):
    limiter = FailureRateLimiter(store, fail_open=False, clock=clock)
    own_redis.stop()
    with pytest.raises(StateUnavailable) as caught:
        limiter.verify(make_verifier(), _token(keyring), client="10.0.0.1")
    assert caught.value.reason == "rate_limit_unavailable"
    assert caught.value.status == 503
