"""Refresh ahead: a set near expiry is refreshed in the background while it keeps serving."""

from __future__ import annotations

import asyncio

from tests.core.remote_servers import WAIT, Gate, jwks_response

MAX_AGE = {"Cache-Control": "max-age=300"}

pytest_plugins = ["tests.core.remote_fixtures"]


def test_no_refresh_before_the_refresh_ahead_window(jwks_server, make_jwks, clock, jwk_a):
    jwks_server.serve_keys(jwk_a, headers=MAX_AGE)
    jwks = make_jwks(jwks_server.url(), refresh_ahead=60)
    jwks.warm()
    clock.advance(239)
    jwks.get_key("a", "RS256")
    jwks.close()
    assert jwks_server.count() == 1


def test_inside_the_window_the_set_is_refreshed_in_the_background_once(
    jwks_server, make_jwks, clock, jwk_a, jwk_b
):
    jwks_server.serve_keys(jwk_a, headers=MAX_AGE)
    jwks = make_jwks(jwks_server.url(), refresh_ahead=60)
    jwks.warm()
    jwks_server.serve_keys(jwk_a, jwk_b, headers=MAX_AGE)
    clock.advance(241)
    for _ in range(50):
        assert jwks.get_key("a", "RS256").kid == "a"
    jwks.close()
    assert jwks_server.count() == 2
    assert jwks.health()["kids"] == ["a", "b"]
    assert jwks.health()["expires_in"] == 300


def test_refresh_ahead_is_at_most_half_the_ttl(jwks_server, make_jwks, clock, jwk_a):
    jwks_server.serve_keys(jwk_a, headers=MAX_AGE)
    jwks = make_jwks(jwks_server.url(), refresh_ahead=10_000)
    jwks.warm()
    clock.advance(149)
    jwks.get_key("a", "RS256")
    jwks.close()
    assert jwks_server.count() == 1
    clock.advance(2)
    jwks.get_key("a", "RS256")
    jwks.close()
    assert jwks_server.count() == 2


def test_a_hanging_refresh_does_not_delay_a_verification_with_a_cached_kid(
    jwks_server, make_jwks, clock, jwk_a
):
    jwks_server.serve_keys(jwk_a, headers=MAX_AGE)
    jwks = make_jwks(jwks_server.url())
    jwks.warm()
    gate = Gate(jwks_response(jwk_a))
    jwks_server.handle(gate)
    clock.advance(299)
    assert jwks.get_key("a", "RS256").kid == "a"
    assert gate.entered.wait(WAIT)  # the refresh is now hanging in the server
    for _ in range(100):
        assert jwks.get_key("a", "RS256").kid == "a"
    clock.advance(10)  # past expiry: still served while the refresh hangs
    assert jwks.get_key("a", "RS256").kid == "a"
    assert not gate.release.is_set()
    gate.release.set()
    jwks.close()
    assert gate.calls == 1
    assert jwks.health()["state"] == "ok"


async def test_async_a_hanging_refresh_does_not_delay_a_verification_with_a_cached_kid(
    jwks_server, make_jwks, clock, jwk_a
):
    jwks_server.serve_keys(jwk_a, headers=MAX_AGE)
    jwks = make_jwks(jwks_server.url())
    await jwks.awarm()
    gate = Gate(jwks_response(jwk_a))
    jwks_server.handle(gate)
    clock.advance(299)
    assert (await jwks.aget_key("a", "RS256")).kid == "a"
    assert await asyncio.to_thread(gate.entered.wait, WAIT)
    for _ in range(100):
        assert (await jwks.aget_key("a", "RS256")).kid == "a"
    assert not gate.release.is_set()
    gate.release.set()
    assert await jwks.awarm() is True  # joins the background refresh
    await jwks.aclose()
    assert gate.calls == 1
    assert jwks.health()["expires_in"] == 300


def test_past_expiry_without_traffic_the_cached_keys_serve_while_refreshing(
    jwks_server, make_jwks, clock, jwk_a
):
    jwks_server.serve_keys(jwk_a, headers=MAX_AGE)
    jwks = make_jwks(jwks_server.url(), refresh_ahead=0)
    jwks.warm()
    clock.advance(1000)  # expired, within the stale window
    assert jwks.get_key("a", "RS256").kid == "a"
    jwks.close()
    assert jwks_server.count() == 2
    assert jwks.health()["expires_in"] == 300


def test_a_failed_background_refresh_is_retried_after_backoff_not_per_verification(
    jwks_server, make_jwks, clock, jwk_a, seen
):
    jwks_server.serve_keys(jwk_a, headers=MAX_AGE)
    jwks = make_jwks(jwks_server.url())
    jwks.warm()
    jwks_server.serve("down", status=503, content_type="text/plain")
    clock.advance(250)
    jwks.get_key("a", "RS256")
    jwks.close()
    for _ in range(100):
        assert jwks.get_key("a", "RS256").kid == "a"
    jwks.close()
    assert jwks_server.count() == 2
    clock.advance(jwks.health()["retry_in"] + 0.01)
    jwks.get_key("a", "RS256")
    jwks.close()
    assert jwks_server.count() == 3
