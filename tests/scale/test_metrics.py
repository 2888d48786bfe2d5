"""Metrics through the OpenTelemetry API, read back with the SDK's in-memory reader.

Real components throughout: a verifier with a revocation service, a
RemoteJWKS against a loopback server, the refresh-token service, the rate
limiter, a Redis store whose server is gone.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from jwt_guard_core import KeySourceUnavailable, RateLimited, TokenError, TokenRevoked, Verifier
from jwt_guard_core.breaker import CircuitBreaker
from jwt_guard_core.metrics import instrument
from jwt_guard_core.sessions import (
    FailureRateLimiter,
    InvalidRefreshToken,
    MemorySessionStore,
    RedisSessionStore,
    RevocationService,
)
from tests.factories import ISSUER, NOW, FakeClock, claims, sign
from tests.redis_server import _free_port

pytest_plugins = ["tests.core.remote_fixtures"]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def reader():
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    uninstall = instrument(provider)
    try:
        yield reader
    finally:
        uninstall()
        provider.shutdown()


def points(reader, name):
    """``{frozenset(attributes): value}`` of one metric (a histogram's value is its count)."""
    found = {}
    data = reader.get_metrics_data()
    for resource in data.resource_metrics if data else ():
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                if metric.name != name:
                    continue
                for point in metric.data.data_points:
                    value = getattr(point, "value", None)
                    found[frozenset(point.attributes.items())] = (
                        point.count if value is None else value
                    )
    return found


def at(found, **attributes):
    return found.get(frozenset(attributes.items()), 0)


def _token(keyring, **overrides):
    return sign({"alg": "RS256", "kid": "rsa-1"}, claims(**overrides), keyring.rsa)


def test_verifications_are_counted_by_outcome_reason_and_issuer_and_timed(
    reader, make_verifier, keyring, clock
):
    revocation = RevocationService(MemorySessionStore(), clock=clock)
    verifier = make_verifier(revocation=revocation)
    verifier.verify(_token(keyring))
    with pytest.raises(TokenError):
        verifier.verify(_token(keyring, exp=int(NOW) - 3600))
    # An unknown iss is an attacker's string: it is not an attribute value.
    with pytest.raises(TokenError):
        verifier.verify(_token(keyring, iss="https://attacker.example/random-1"))
    revocation.revoke_jti("gone", expires_at=NOW + 600)
    with pytest.raises(TokenRevoked):
        verifier.verify(_token(keyring, jti="gone"))

    counted = points(reader, "jwt_guard.verifications")
    assert at(counted, outcome="accepted", issuer=ISSUER) == 1
    assert at(counted, outcome="rejected", reason="token_expired", issuer=ISSUER) == 1
    assert at(counted, outcome="rejected", reason="bad_issuer", issuer="other") == 1
    assert at(counted, outcome="rejected", reason="revoked", issuer=ISSUER) == 1
    timed = points(reader, "jwt_guard.verification.duration")
    assert at(timed, outcome="accepted") == 1
    assert at(timed, outcome="rejected") == 3
    checks = points(reader, "jwt_guard.revocation.checks")
    assert at(checks, result="clear") == 1
    assert at(checks, result="jti") == 1


async def test_async_verifications_are_counted_too(reader, make_verifier, keyring):
    verifier = make_verifier()
    await verifier.averify(_token(keyring))
    with pytest.raises(TokenError):
        await verifier.averify("not.a.token")
    counted = points(reader, "jwt_guard.verifications")
    assert at(counted, outcome="accepted", issuer=ISSUER) == 1
    assert at(counted, outcome="rejected", reason="malformed", issuer="other") == 1
    assert at(points(reader, "jwt_guard.verification.duration"), outcome="rejected") == 1


def test_key_lookups_fetches_failures_and_key_set_age(reader, jwks_server, jwk_a, make_jwks, clock):
    jwks_server.serve_keys(jwk_a, headers={"Cache-Control": "max-age=300"})
    jwks = make_jwks(jwks_server.url(), stale_ttl=3600, refresh_ahead=0)
    jwks.get_key("a", "RS256")
    jwks.get_key("a", "RS256")
    jwks_server.serve(b"down", status=500)
    clock.advance(301)
    jwks.get_key("a", "RS256")  # stale: served, refreshed in the background
    jwks.close()
    lookups = points(reader, "jwt_guard.key_cache.lookups")
    assert at(lookups, result="miss") == 1
    assert at(lookups, result="hit") == 2
    fetches = points(reader, "jwt_guard.jwks.fetches")
    assert at(fetches, outcome="ok") == 1
    assert at(fetches, outcome="failed", reason="http_status") == 1
    assert sum(points(reader, "jwt_guard.jwks.stale").values()) == 1
    ages = points(reader, "jwt_guard.jwks.age")
    assert set(ages) == {frozenset({("url", jwks_server.url())})}
    assert min(ages.values()) >= 0


def test_refresh_reuse_rate_limiting_and_breakers_are_counted(reader, keyring, clock):
    from jwt_guard_core.sessions import RefreshTokenService
    from tests.sessions.conftest import FactoryIssuer

    sessions = RefreshTokenService(
        MemorySessionStore(), access_tokens=FactoryIssuer(keyring, clock), clock=clock
    )
    first = sessions.issue("user-1")
    sessions.refresh(first.refresh_token)
    clock.advance(60)
    with pytest.raises(InvalidRefreshToken):
        sessions.refresh(first.refresh_token)
    assert sum(points(reader, "jwt_guard.refresh.reuse_detected").values()) == 1

    limiter = FailureRateLimiter(MemorySessionStore(), limit=1, window=60, clock=clock)
    limiter.reserve("192.0.2.1").fail()
    with pytest.raises(RateLimited):
        limiter.reserve("192.0.2.1")
    assert sum(points(reader, "jwt_guard.rate_limited").values()) == 1

    store = RedisSessionStore(
        f"redis://127.0.0.1:{_free_port()}",
        breaker=CircuitBreaker("redis:test", failures=1, clock=FakeClock()),
    )
    revocation = RevocationService(store, clock=clock, fail_open=True)
    assert revocation.check({"jti": "x", "sub": "user-1"}) is None
    assert at(points(reader, "jwt_guard.revocation.checks"), result="unavailable") == 1
    transitions = points(reader, "jwt_guard.breaker.transitions")
    assert at(transitions, breaker="redis:test", state="opened") == 1
    events_seen = points(reader, "jwt_guard.security_events")
    assert at(events_seen, event="refresh_token_reuse", level="warning") == 1
    store._client.close()


def test_uninstall_removes_every_measurement(make_verifier, keyring):
    original = Verifier.__dict__["verify"]
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    uninstall = instrument(provider)
    assert Verifier.__dict__["verify"] is not original
    with pytest.raises(RuntimeError, match="already instrumented"):
        instrument(provider)
    uninstall()
    uninstall()  # twice is harmless
    assert Verifier.__dict__["verify"] is original
    make_verifier().verify(_token(keyring))
    assert points(reader, "jwt_guard.verifications") == {}
    # And it can be installed again.
    instrument(provider)()
    provider.shutdown()


def test_a_key_source_outage_is_a_rejection_with_its_reason(
    reader, jwks_server, make_jwks, make_verifier, keyring
):
    jwks_server.serve(b"down", status=503)
    verifier = make_verifier(keys=make_jwks(jwks_server.url()))
    with pytest.raises(KeySourceUnavailable):
        verifier.verify(_token(keyring))
    counted = points(reader, "jwt_guard.verifications")
    assert at(counted, outcome="rejected", reason="key_source_unavailable", issuer="other") == 1


def test_nothing_imports_opentelemetry_until_instrument_is_called():
    code = (
        "import sys, jwt_guard_core, jwt_guard_core.metrics, jwt_guard_core.remote;"
        "print(any(m.startswith('opentelemetry') for m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"
