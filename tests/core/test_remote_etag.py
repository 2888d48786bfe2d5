"""ETag / If-None-Match revalidation: a 304 keeps the keys and restarts their TTL."""

from __future__ import annotations

import json

import pytest
from werkzeug import Request, Response

from tests.core.remote_servers import JSON, named

pytest_plugins = ["tests.core.remote_fixtures"]


def etag_handler(doc_by_etag: dict[str, dict], current: list[str], max_age: int = 300):
    """A server that honours If-None-Match for the current ETag."""

    def handler(request: Request) -> Response:
        etag = current[0]
        headers = {"ETag": etag, "Cache-Control": f"max-age={max_age}"}
        if request.headers.get("If-None-Match") == etag:
            return Response(status=304, headers=headers)
        return Response(json.dumps(doc_by_etag[etag]), headers=headers, content_type=JSON)

    return handler


def test_refresh_sends_if_none_match_and_a_304_keeps_the_keys_and_restarts_the_ttl(
    jwks_server, make_jwks, clock, jwk_a, seen
):
    current = ['"v1"']
    jwks_server.handle(etag_handler({'"v1"': {"keys": [jwk_a]}}, current))
    jwks = make_jwks(jwks_server.url(), refresh_ahead=0)
    jwks.warm()
    clock.advance(301)
    jwks.get_key("a", "RS256")
    jwks.close()
    first, second = jwks_server.requests()
    assert first.headers.get("If-None-Match") is None
    assert second.headers.get("If-None-Match") == '"v1"'
    assert jwks.health()["state"] == "ok"
    assert jwks.health()["expires_in"] == pytest.approx(300)
    assert jwks.health()["kids"] == ["a"]
    assert [e.fields["status"] for e in named(seen, "jwks_fetch_ok")] == [200, 304]
    assert named(seen, "jwks_keys_changed") == []


def test_a_changed_etag_brings_the_new_set(jwks_server, make_jwks, clock, jwk_a, jwk_b, seen):
    current = ['"v1"']
    docs = {'"v1"': {"keys": [jwk_a]}, '"v2"': {"keys": [jwk_b]}}
    jwks_server.handle(etag_handler(docs, current))
    jwks = make_jwks(jwks_server.url(), refresh_ahead=0)
    jwks.warm()
    current[0] = '"v2"'
    clock.advance(301)
    jwks.warm()
    assert jwks.health()["kids"] == ["b"]
    (changed,) = named(seen, "jwks_keys_changed")
    assert changed.fields["added"] == ["b"]
    assert changed.fields["removed"] == ["a"]


def test_weak_etags_are_sent_back_verbatim(jwks_server, make_jwks, clock, jwk_a):
    current = ['W/"abc"']
    jwks_server.handle(etag_handler({'W/"abc"': {"keys": [jwk_a]}}, current))
    jwks = make_jwks(jwks_server.url())
    jwks.warm()
    clock.advance(301)
    assert jwks.warm() is True
    assert jwks_server.requests()[1].headers["If-None-Match"] == 'W/"abc"'


def test_without_an_etag_no_conditional_request_is_made(jwks_server, make_jwks, clock, jwk_a):
    jwks_server.serve_keys(jwk_a)
    jwks = make_jwks(jwks_server.url())
    jwks.warm()
    clock.advance(301)
    jwks.warm()
    assert [r.headers.get("If-None-Match") for r in jwks_server.requests()] == [None, None]


def test_a_304_to_an_unconditional_request_is_a_failed_fetch(jwks_server, make_jwks, seen):
    jwks_server.serve("", status=304)
    jwks = make_jwks(jwks_server.url())
    assert jwks.warm() is False
    (failed,) = named(seen, "jwks_fetch_failed")
    assert failed.reason == "http_status"
    assert jwks.health()["state"] == "unavailable"


async def test_async_refresh_revalidates_with_the_etag_too(jwks_server, make_jwks, clock, jwk_a):
    current = ['"v1"']
    jwks_server.handle(etag_handler({'"v1"': {"keys": [jwk_a]}}, current))
    jwks = make_jwks(jwks_server.url())
    assert await jwks.awarm() is True
    clock.advance(301)
    assert await jwks.awarm() is True
    await jwks.aclose()
    assert jwks_server.requests()[1].headers["If-None-Match"] == '"v1"'
    assert jwks.health()["state"] == "ok"
