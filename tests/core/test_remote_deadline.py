"""The time budget is a hard deadline for the whole exchange, in both paths, redirects included.

A server that trickles its response one byte at a time never trips a
per-read timeout; the deadline must cut it anyway. Each server here would
take 20 s or more to send what it means to send; the budget is a fraction
of a second, and the test checks that the fetch failed as a ``timeout`` and
that the server saw the client hang up before it had sent everything.
Nothing is timed: the trickling server waits on the socket between bytes.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest

from jwt_guard_core import KeySourceUnavailable
from tests.core.remote_servers import WAIT, InTurn, Trickle, http_response, named

pytest_plugins = ["tests.core.remote_fixtures"]

BUDGET = 0.5
# One byte every 0.1 s: the responses below take 20 s and more to send in full.
INTERVAL = 0.1


def slow_response(jwk: dict[str, object]) -> bytes:
    """A valid JWKS response whose head alone takes 20 s at one byte per INTERVAL."""
    body = json.dumps({"keys": [jwk]}).encode()
    response = http_response(body, headers={"X-Padding": "x" * 120})
    assert head_length(response) * INTERVAL >= 20
    return response


def head_length(response: bytes) -> int:
    return response.index(b"\r\n\r\n") + 4


@pytest.fixture
def trickles() -> Iterator[list[Trickle]]:
    """Trickling behaviours made by a test, stopped at teardown whatever happened."""
    made: list[Trickle] = []
    yield made
    for trickle in made:
        trickle.stop()


def trickle(made: list[Trickle], response: bytes, *, at_once: int = 0) -> Trickle:
    behaviour = Trickle(response, interval=INTERVAL, at_once=at_once)
    made.append(behaviour)
    return behaviour


def failure(seen):
    (event,) = named(seen, "jwks_fetch_failed")
    return event


def assert_cut_off(server: Trickle) -> None:
    """The client hung up while the server was still sending the response head."""
    assert server.hung_up.wait(WAIT), "the client never hung up"
    assert server.sent < head_length(server.response)


def test_headers_trickled_byte_by_byte_are_cut_at_the_deadline(
    raw_server, make_jwks, jwk_a, seen, trickles
):
    server = raw_server.behaviour = trickle(trickles, slow_response(jwk_a))
    jwks = make_jwks(raw_server.url(), timeout=BUDGET)
    with pytest.raises(KeySourceUnavailable) as info:
        jwks.get_key("a", "RS256")
    assert info.value.status == 503
    assert failure(seen).reason == "timeout"
    assert_cut_off(server)


async def test_async_headers_trickled_byte_by_byte_are_cut_at_the_deadline(
    raw_server, make_jwks, jwk_a, seen, trickles
):
    server = raw_server.behaviour = trickle(trickles, slow_response(jwk_a))
    jwks = make_jwks(raw_server.url(), timeout=BUDGET)
    with pytest.raises(KeySourceUnavailable):
        await jwks.aget_key("a", "RS256")
    await jwks.aclose()
    assert failure(seen).reason == "timeout"
    assert_cut_off(server)


def test_headers_trickled_over_tls_are_cut_at_the_deadline(
    tls_raw_server, make_jwks, client_tls, jwk_a, seen, trickles
):
    server = tls_raw_server.behaviour = trickle(trickles, slow_response(jwk_a))
    jwks = make_jwks(tls_raw_server.url(), timeout=BUDGET, verify=client_tls)
    assert jwks.warm() is False
    assert failure(seen).reason == "timeout"
    assert_cut_off(server)


def redirect_then_trickle(made: list[Trickle], jwk: dict[str, object]) -> tuple[Trickle, Trickle]:
    # The redirect itself dawdles over its last byte; the page it points to
    # trickles. Each hop alone would fit a fresh budget: only a deadline
    # that spans the redirect stops the pair.
    moved = http_response(status="302 Found", headers={"Location": "/keys/v2"})
    return trickle(made, moved, at_once=len(moved) - 1), trickle(made, slow_response(jwk))


def test_a_trickle_after_a_redirect_is_cut_at_the_deadline_of_the_whole_exchange(
    raw_server, make_jwks, jwk_a, seen, trickles
):
    redirect, target = redirect_then_trickle(trickles, jwk_a)
    raw_server.behaviour = InTurn(redirect, target)
    jwks = make_jwks(raw_server.url(), timeout=2 * BUDGET)
    assert jwks.warm() is False
    event = failure(seen)
    assert event.reason == "timeout"
    assert event.fields["url"].endswith("/keys/v2")
    assert redirect.finished.is_set()
    assert_cut_off(target)


async def test_async_a_trickle_after_a_redirect_is_cut_at_the_deadline_of_the_whole_exchange(
    raw_server, make_jwks, jwk_a, seen, trickles
):
    redirect, target = redirect_then_trickle(trickles, jwk_a)
    raw_server.behaviour = InTurn(redirect, target)
    jwks = make_jwks(raw_server.url(), timeout=2 * BUDGET)
    assert await jwks.awarm() is False
    await jwks.aclose()
    assert failure(seen).reason == "timeout"
    assert redirect.finished.is_set()
    assert_cut_off(target)


def test_a_pooled_connection_that_starts_trickling_is_cut_at_the_deadline(
    raw_server, make_jwks, clock, jwk_a, seen, trickles
):
    # The first answer keeps the connection open; the second request, sent
    # over that same pooled connection, is answered a byte at a time.
    first = http_response(
        json.dumps({"keys": [jwk_a]}).encode(), headers={"Connection": "keep-alive"}
    )
    slow = trickle(trickles, slow_response(jwk_a))

    def keep_alive_then_trickle(conn: socket.socket) -> None:
        conn.sendall(first)
        conn.recv(65536)
        slow(conn)

    raw_server.behaviour = keep_alive_then_trickle
    jwks = make_jwks(raw_server.url(), timeout=BUDGET)
    assert jwks.warm() is True
    clock.advance(301)
    assert jwks.warm() is True  # the cached keys still serve (stale if error)
    assert failure(seen).reason == "timeout"
    assert raw_server.connections == 1
    assert_cut_off(slow)
