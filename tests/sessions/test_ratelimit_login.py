"""Logins behind the limit: a wrong password stays counted, a right one is forgotten."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from jwt_guard_core.sessions import (
    FailureRateLimiter,
    MemorySessionStore,
    RedisSessionStore,
    RefreshTokenService,
)
from tests.factories import FakeClock, named
from tests.redis_server import start_redis_server
from tests.sessions.ratelimit_fixtures import credentials, login_endpoints

CLIENT = "192.0.2.10"


def check(username: str, password: str) -> tuple[str, tuple[str, ...]] | None:
    return ("user-1", ()) if password == "right" else None


def test_a_right_password_is_not_counted_a_wrong_one_is(
    backend_store: Any, make_sessions: Callable[..., RefreshTokenService], clock: FakeClock
) -> None:
    limiter = FailureRateLimiter(backend_store, limit=2, window=60, clock=clock)
    endpoints = login_endpoints(make_sessions, clock, limiter)
    assert endpoints.login(credentials("alice", "wrong"), client=CLIENT, check=check).status == 400
    for _ in range(10):
        reply = endpoints.login(credentials("alice", "right"), client=CLIENT, check=check)
        assert reply.status == 200
    assert backend_store.recent_failures(CLIENT, now=clock(), window=60) == (clock(),)
    assert endpoints.login(credentials("alice", "wrong"), client=CLIENT, check=check).status == 400
    refused = endpoints.login(credentials("alice", "right"), client=CLIENT, check=check)
    assert refused.status == 429
    assert refused.body == {
        "error": "too_many_requests",
        "error_description": "Too many failed attempts; retry later.",
    }


def test_a_credentials_check_that_crashes_is_not_counted(
    make_sessions: Callable[..., RefreshTokenService], clock: FakeClock
) -> None:
    store = MemorySessionStore()
    limiter = FailureRateLimiter(store, limit=1, window=60, clock=clock)
    endpoints = login_endpoints(make_sessions, clock, limiter)

    def broken(username: str, password: str) -> None:
        raise LookupError("user directory unreachable")

    with pytest.raises(LookupError):
        endpoints.login(credentials("alice", "right"), client=CLIENT, check=broken)
    assert store.recent_failures(CLIENT, now=clock(), window=60) == ()
    assert endpoints.login(credentials("alice", "right"), client=CLIENT, check=check).status == 200


@pytest.fixture
def own_redis(tmp_path: Path) -> Any:
    server = start_redis_server(tmp_path)
    try:
        yield server
    finally:
        server.stop()


def test_a_store_lost_after_the_reservation_does_not_undo_a_right_login(
    own_redis: Any,
    make_sessions: Callable[..., RefreshTokenService],
    clock: FakeClock,
    recorded_events: list[Any],
) -> None:
    # Even a closed limiter: the attempt was counted before the check, so
    # the client got no free guess; the login itself succeeded and stands.
    store = RedisSessionStore(own_redis.url)
    limiter = FailureRateLimiter(store, limit=2, window=60, fail_open=False, clock=clock)
    endpoints = login_endpoints(make_sessions, clock, limiter)

    def lose_redis(username: str, password: str) -> tuple[str, tuple[str, ...]]:
        own_redis.stop()
        return ("user-1", ())

    reply = endpoints.login(credentials("alice", "right"), client=CLIENT, check=lose_redis)
    assert reply.status == 200
    (event,) = named(recorded_events, "rate_limit_unavailable")
    assert event.level == logging.ERROR
    assert event.fields["fail_open"] is False
    # Still down, a closed limiter refuses the next attempt before any check.
    refused = endpoints.login(credentials("alice", "right"), client=CLIENT, check=check)
    assert refused.status == 503
