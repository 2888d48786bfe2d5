"""One long-lived pooled client per key set; the async path never blocks its loop."""

from __future__ import annotations

import asyncio

from tests.core.remote_servers import WAIT, Gate, KeepAlive, jwks_response

pytest_plugins = ["tests.core.remote_fixtures"]


def test_successive_fetches_reuse_one_pooled_connection(raw_server, make_jwks, clock, jwk_a):
    server = KeepAlive(jwk_a)
    raw_server.behaviour = server
    jwks = make_jwks(raw_server.url())
    for _ in range(3):
        assert jwks.warm() is True
        clock.advance(301)
    assert server.requests == 3
    assert raw_server.connections == 1


async def test_async_fetches_reuse_one_pooled_connection(raw_server, make_jwks, clock, jwk_a):
    server = KeepAlive(jwk_a)
    raw_server.behaviour = server
    jwks = make_jwks(raw_server.url())
    for _ in range(3):
        assert await jwks.awarm() is True
        clock.advance(301)
    await jwks.aclose()
    assert server.requests == 3
    assert raw_server.connections == 1


async def test_a_fetch_in_progress_does_not_block_the_event_loop(jwks_server, make_jwks, jwk_a):
    gate = Gate(jwks_response(jwk_a))
    jwks_server.handle(gate)
    jwks = make_jwks(jwks_server.url())
    lookup = asyncio.ensure_future(jwks.aget_key("a", "RS256"))
    # This coroutine runs on the same loop while the request hangs in the
    # server: a blocking fetch would have held the loop until the gate opened.
    assert await asyncio.to_thread(gate.entered.wait, WAIT)
    assert not lookup.done()
    gate.release.set()
    assert (await lookup).kid == "a"
    await jwks.aclose()
