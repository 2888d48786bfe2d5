"""A Redis that hangs: after N failures calls fail at once until the cool-down, then one probe.

The server is paused with SIGSTOP, so every call that reaches it waits for
its socket timeout. The breaker's clock is injected: the cool-down passes
when the test says so.
"""

from __future__ import annotations

import os
import signal

import pytest
import redis
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.retry import Retry

from jwt_guard_core.breaker import CircuitBreaker, CircuitOpen
from jwt_guard_core.errors import ConfigurationError, StateUnavailable
from jwt_guard_core.sessions import RedisSessionStore, RevocationService, StoreUnavailable
from jwt_guard_core.signing import KeyStoreError, RedisKeyStore
from tests.factories import FakeClock, claims, named, sign
from tests.redis_server import start_redis_server
from tests.signing.conftest import PASSPHRASE


@pytest.fixture
def paused_redis(tmp_path):
    """A server of its own; ``pause()`` stops it (SIGSTOP), ``resume()`` continues it."""
    server = start_redis_server(tmp_path)

    class Control:
        def pause(self) -> None:
            os.kill(server.process.pid, signal.SIGSTOP)

        def resume(self) -> None:
            os.kill(server.process.pid, signal.SIGCONT)

    control = Control()
    control.server = server
    try:
        yield control
    finally:
        control.resume()
        server.stop()


@pytest.fixture
def breaker_clock():
    return FakeClock(1000.0)


@pytest.fixture
def client(paused_redis):
    # A short socket timeout keeps the failures that do wait short; the
    # assertions are about how many calls wait, not how long.
    client = redis.Redis(
        host=paused_redis.server.host,
        port=paused_redis.server.port,
        socket_timeout=0.3,
        socket_connect_timeout=0.3,
        retry=Retry(NoBackoff(), 0),
    )
    try:
        yield client
    finally:
        client.close()


def _token(keyring, **overrides):
    return sign({"alg": "RS256", "kid": "rsa-1"}, claims(**overrides), keyring.rsa)


def test_after_n_failures_calls_fail_at_once_then_a_probe_closes_the_circuit(
    paused_redis, client, breaker_clock, guarded_verifier, keyring, clock, recorded_events
):
    breaker = CircuitBreaker("redis:sessions", failures=3, cool_down=10, clock=breaker_clock)
    store = RedisSessionStore(client, prefix="brk", breaker=breaker)
    verifier = guarded_verifier(RevocationService(store, clock=clock))
    token = _token(keyring, jti="j1")
    assert verifier.verify(token).subject == "user-1"

    paused_redis.pause()
    for _ in range(3):
        with pytest.raises(StoreUnavailable) as waited:
            store.revocation_state("j1", "user-1", now=clock())
        assert "TimeoutError" in str(waited.value)
    assert breaker.state == "open"
    assert len(named(recorded_events, "breaker_opened")) == 1

    # Open: no call reaches the paused server; each fails at once, and the
    # verifier answers 503 (StateUnavailable), never "invalid token".
    for _ in range(20):
        with pytest.raises(StoreUnavailable) as fast:
            store.revocation_state("j1", "user-1", now=clock())
        assert "circuit open" in str(fast.value)
    with pytest.raises(StateUnavailable) as caught:
        verifier.verify(token)
    assert caught.value.reason == "revocation_unavailable"
    assert caught.value.status == 503

    breaker_clock.advance(9.9)
    assert breaker.state == "open"
    breaker_clock.advance(0.1)
    assert breaker.state == "half_open"
    paused_redis.resume()
    assert verifier.verify(token).subject == "user-1"
    assert breaker.state == "closed"
    assert [e.name for e in recorded_events if e.name.startswith("breaker_")] == [
        "breaker_opened",
        "breaker_half_open",
        "breaker_closed",
    ]
    opened = named(recorded_events, "breaker_opened")[0]
    assert opened.fields["breaker"] == "redis:sessions"
    assert opened.fields["failures"] == 3
    assert opened.reason == "dependency_unavailable"


def test_a_failed_probe_opens_the_circuit_for_another_cool_down(
    paused_redis, client, breaker_clock, recorded_events
):
    breaker = CircuitBreaker(failures=2, cool_down=5, clock=breaker_clock)
    store = RedisSessionStore(client, prefix="brk2", breaker=breaker)
    paused_redis.pause()
    for _ in range(2):
        with pytest.raises(StoreUnavailable):
            store.deny_jti("j", expires_at=2000.0, now=1000.0)
    breaker_clock.advance(5)
    with pytest.raises(StoreUnavailable) as probe:
        store.deny_jti("j", expires_at=2000.0, now=1000.0)
    assert "TimeoutError" in str(probe.value)
    assert breaker.state == "open"
    with pytest.raises(StoreUnavailable) as fast:
        store.deny_jti("j", expires_at=2000.0, now=1000.0)
    assert "circuit open, next probe in 5 s" in str(fast.value)
    assert len(named(recorded_events, "breaker_opened")) == 2
    assert len(named(recorded_events, "breaker_half_open")) == 1
    paused_redis.resume()
    breaker_clock.advance(5)
    store.deny_jti("j", expires_at=2000.0, now=1000.0)
    assert store.revocation_state("j", None, now=1000.0).jti_denied
    assert breaker.state == "closed"


def test_the_key_store_fails_fast_with_key_store_error(paused_redis, client, breaker_clock):
    breaker = CircuitBreaker("redis:keys", failures=2, cool_down=30, clock=breaker_clock)
    store = RedisKeyStore(client, passphrase=PASSPHRASE, prefix="brk3", breaker=breaker)
    assert store.revision() == 0
    paused_redis.pause()
    for _ in range(2):
        with pytest.raises(KeyStoreError) as waited:
            store.revision()
        assert "TimeoutError" in str(waited.value)
    with pytest.raises(KeyStoreError) as fast:
        store.load()
    assert "circuit open" in str(fast.value)
    assert store.breaker.state == "open"


def test_one_probe_at_a_time_while_half_open(breaker_clock):
    breaker = CircuitBreaker(failures=1, cool_down=1, clock=breaker_clock)

    def down():
        raise RedisConnectionError("down")

    with pytest.raises(RedisConnectionError):
        breaker.call(down, failure=RedisConnectionError)
    breaker_clock.advance(1)

    def probe_meanwhile():
        # Called while the probe runs: another caller is refused at once.
        with pytest.raises(CircuitOpen):
            breaker.call(lambda: "second", failure=RedisConnectionError)
        return "probe"

    assert breaker.call(probe_meanwhile, failure=RedisConnectionError) == "probe"
    assert breaker.state == "closed"


def test_an_answer_that_is_an_error_is_not_a_failure(breaker_clock):
    breaker = CircuitBreaker(failures=1, cool_down=1, clock=breaker_clock)

    def wrong():
        raise ValueError("not a Redis failure")

    for _ in range(3):
        with pytest.raises(ValueError, match="not a Redis failure"):
            breaker.call(wrong, failure=RedisConnectionError)
    assert breaker.state == "closed"


def test_zero_failures_turns_the_breaker_off(breaker_clock):
    breaker = CircuitBreaker(failures=0, clock=breaker_clock)

    def down():
        raise RedisConnectionError("down")

    for _ in range(10):
        with pytest.raises(RedisConnectionError):
            breaker.call(down, failure=RedisConnectionError)
    assert breaker.state == "closed"


@pytest.mark.parametrize(
    ("options", "setting"),
    [
        ({"failures": -1}, "breaker_failures"),
        ({"failures": True}, "breaker_failures"),
        ({"cool_down": 0}, "breaker_cool_down"),
        ({"cool_down": float("inf")}, "breaker_cool_down"),
        ({"cool_down": "5"}, "breaker_cool_down"),
        ({"clock": 5}, "clock"),
    ],
)
def test_bad_breaker_settings_are_refused(options, setting):
    with pytest.raises(ConfigurationError) as caught:
        CircuitBreaker(**options)
    assert caught.value.setting == setting


def test_a_store_refuses_something_that_is_not_a_breaker(redis_server):
    with pytest.raises(ConfigurationError) as caught:
        RedisSessionStore(redis_server.url, breaker="yes")
    assert caught.value.setting == "breaker"
