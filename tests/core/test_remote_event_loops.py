"""One RemoteJWKS used from several event loops and threads, sync and async together."""

from __future__ import annotations

import asyncio
import gc
import threading
import time

from jwt_guard_core import UnknownKid
from tests.core.remote_servers import WAIT, Gate, jwks_response

pytest_plugins = ["tests.core.remote_fixtures"]


def test_one_key_set_works_from_successive_event_loops(jwks_server, make_jwks, clock, jwk_a):
    jwks_server.serve_keys(jwk_a)
    jwks = make_jwks(jwks_server.url(), unknown_kid_cooldown=0)

    async def lookup(kid):
        try:
            return (await jwks.aget_key(kid, "RS256")).kid
        except UnknownKid as exc:
            return exc.reason

    for _ in range(3):
        # Each asyncio.run is a new loop; the unknown kid forces a fetch on it.
        assert asyncio.run(lookup("a")) == "a"
        assert asyncio.run(lookup("missing")) == "unknown_kid"
        gc.collect()
    assert jwks_server.count() == 4


def wait_for_waiters(jwks, count):
    """Poll (1 ms steps) until ``count`` tasks wait on the in-flight fetch."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        flight = jwks._flight
        if flight is not None and len(flight._waiters) >= count:
            return True
        time.sleep(0.001)
    return False


def test_two_loops_in_two_threads_share_one_fetch(jwks_server, make_jwks, jwk_a):
    gate = Gate(jwks_response(jwk_a))
    jwks_server.handle(gate)
    jwks = make_jwks(jwks_server.url())
    results: list[str] = []

    async def lookup():
        return (await jwks.aget_key("a", "RS256")).kid

    def in_new_loop():
        results.append(asyncio.run(lookup()))

    first = threading.Thread(target=in_new_loop)
    first.start()
    assert gate.entered.wait(WAIT)
    second = threading.Thread(target=in_new_loop)
    second.start()
    assert wait_for_waiters(jwks, 2)  # both loops now wait on the one request
    gate.release.set()
    first.join(WAIT)
    second.join(WAIT)
    assert results == ["a", "a"]
    assert gate.calls == 1


def test_sync_and_async_callers_share_the_cache(jwks_server, make_jwks, jwk_a):
    jwks_server.serve_keys(jwk_a)
    jwks = make_jwks(jwks_server.url())
    assert jwks.get_key("a", "RS256").kid == "a"

    async def lookup():
        key = await jwks.aget_key("a", "RS256")
        await jwks.aclose()
        return key.kid

    assert asyncio.run(lookup()) == "a"
    assert jwks_server.count() == 1


async def test_aclose_leaves_the_key_set_usable(jwks_server, make_jwks, clock, jwk_a):
    jwks_server.serve_keys(jwk_a)
    jwks = make_jwks(jwks_server.url(), unknown_kid_cooldown=0)
    assert (await jwks.aget_key("a", "RS256")).kid == "a"
    await jwks.aclose()
    clock.advance(301)
    assert await jwks.awarm() is True
    assert jwks.get_key("a", "RS256").kid == "a"
    await jwks.aclose()
    assert jwks_server.count() == 2


async def test_aclose_cancels_a_background_refresh_of_its_loop(
    jwks_server, make_jwks, clock, jwk_a
):
    jwks_server.serve_keys(jwk_a)
    jwks = make_jwks(jwks_server.url())
    await jwks.awarm()
    gate = Gate(jwks_response(jwk_a))
    jwks_server.handle(gate)
    clock.advance(290)
    await jwks.aget_key("a", "RS256")  # starts the refresh task
    assert await asyncio.to_thread(gate.entered.wait, WAIT)
    await jwks.aclose()
    gate.release.set()
    assert jwks.health()["state"] == "ok"
    assert jwks.health()["failures"] == 0  # a cancelled refresh is not a provider failure
