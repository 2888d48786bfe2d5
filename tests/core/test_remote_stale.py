"""Stale if error, and backoff: an outage of the provider is not an invalid token."""

from __future__ import annotations

import pytest

from jwt_guard_core import KeySourceUnavailable
from jwt_guard_core._remote_policy import BACKOFF_MAX, backoff_delay
from tests.core.remote_servers import named

MAX_AGE = {"Cache-Control": "max-age=300"}

pytest_plugins = ["tests.core.remote_fixtures"]


def fail(server, status=500):
    server.serve("upstream error", status=status, content_type="text/plain")


def test_cached_keys_serve_past_expiry_while_refreshing_fails_with_a_stale_event(
    jwks_server, make_jwks, clock, jwk_a, seen
):
    jwks_server.serve_keys(jwk_a, headers=MAX_AGE)
    jwks = make_jwks(jwks_server.url(), refresh_ahead=0)
    jwks.warm()
    fail(jwks_server)
    clock.advance(301)
    assert jwks.get_key("a", "RS256").kid == "a"
    jwks.close()
    assert jwks.health()["state"] == "stale"
    for _ in range(10):
        assert jwks.get_key("a", "RS256").kid == "a"
    (stale,) = named(seen, "jwks_stale")
    assert stale.reason == "key_source_unavailable"
    assert stale.fields["stale_until"] == pytest.approx(clock() - 1 + 3600)
    assert stale.fields["last_error"].startswith("http_status")


def test_past_the_stale_bound_verification_is_unavailable_with_a_retry_hint(
    jwks_server, make_jwks, clock, jwk_a
):
    jwks_server.serve_keys(jwk_a, headers=MAX_AGE)
    jwks = make_jwks(jwks_server.url(), stale_ttl=600)
    jwks.warm()
    fail(jwks_server)
    clock.advance(300 + 600)
    with pytest.raises(KeySourceUnavailable) as info:
        jwks.get_key("a", "RS256")
    exc = info.value
    assert exc.reason == "key_source_unavailable"
    assert exc.status == 503
    assert exc.error == "temporarily_unavailable"
    assert 1 <= exc.retry_after <= 2  # the first backoff step is 0.5 to 1 s
    assert jwks.health()["state"] == "unavailable"


def test_nothing_cached_and_provider_down_is_unavailable_never_an_invalid_token(
    jwks_server, make_jwks
):
    fail(jwks_server, 502)
    jwks = make_jwks(jwks_server.url())
    with pytest.raises(KeySourceUnavailable) as info:
        jwks.get_key("a", "RS256")
    assert info.value.status == 503
    assert "http_status: HTTP 502" in info.value.detail


def test_during_the_backoff_no_request_is_made_however_many_verifications_come(
    jwks_server, make_jwks, clock
):
    fail(jwks_server)
    jwks = make_jwks(jwks_server.url())
    for _ in range(200):
        with pytest.raises(KeySourceUnavailable):
            jwks.get_key("a", "RS256")
    assert jwks_server.count() == 1
    clock.advance(jwks.health()["retry_in"] + 0.001)
    with pytest.raises(KeySourceUnavailable):
        jwks.get_key("a", "RS256")
    assert jwks_server.count() == 2


def test_backoff_grows_exponentially_with_jitter_up_to_a_cap(jwks_server, make_jwks, clock):
    fail(jwks_server)
    jwks = make_jwks(jwks_server.url())
    delays = []
    for _ in range(10):
        with pytest.raises(KeySourceUnavailable):
            jwks.get_key("a", "RS256")
        delays.append(jwks.health()["retry_in"])
        clock.advance(delays[-1] + 0.001)
    assert jwks_server.count() == 10
    for n, delay in enumerate(delays, start=1):
        step = min(BACKOFF_MAX, 2.0 ** (n - 1))
        assert step / 2 <= delay <= step
    assert max(delays) <= BACKOFF_MAX


def test_backoff_jitter_spreads_retries():
    assert len({backoff_delay(5) for _ in range(20)}) > 1


def test_a_retry_after_from_the_provider_lengthens_the_backoff(jwks_server, make_jwks, clock):
    jwks_server.serve("busy", status=429, headers={"Retry-After": "120"}, content_type="text/plain")
    jwks = make_jwks(jwks_server.url())
    with pytest.raises(KeySourceUnavailable) as info:
        jwks.get_key("a", "RS256")
    assert jwks.health()["retry_in"] == pytest.approx(120)
    with pytest.raises(KeySourceUnavailable) as info:
        jwks.get_key("a", "RS256")
    assert info.value.retry_after == 120
    assert jwks_server.count() == 1


def test_recovery_resets_the_failure_count_and_the_state(jwks_server, make_jwks, clock, jwk_a):
    fail(jwks_server)
    jwks = make_jwks(jwks_server.url())
    assert jwks.warm() is False
    jwks_server.serve_keys(jwk_a)
    clock.advance(2)
    assert jwks.get_key("a", "RS256").kid == "a"
    health = jwks.health()
    assert health["state"] == "ok"
    assert health["failures"] == 0
    assert health["last_error"] is None


async def test_async_stale_keys_serve_and_unavailable_past_the_bound(
    jwks_server, make_jwks, clock, jwk_a
):
    jwks_server.serve_keys(jwk_a, headers=MAX_AGE)
    jwks = make_jwks(jwks_server.url(), stale_ttl=600)
    await jwks.awarm()
    fail(jwks_server)
    clock.advance(301)
    assert (await jwks.aget_key("a", "RS256")).kid == "a"
    assert await jwks.awarm() is True  # waits for the failing refresh; keys still usable
    assert jwks.health()["state"] == "stale"
    clock.advance(600)
    with pytest.raises(KeySourceUnavailable):
        await jwks.aget_key("a", "RS256")
    await jwks.aclose()
