"""Single flight: however many threads or tasks present one uncached token, one request is made.

The server holds its answer until every caller has joined the request in
flight, so the count proves that callers shared it rather than that a late
one found the answer cached: caching is off (an inactive answer with
``negative_ttl=0``) or the count of joined callers is checked.
"""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import pytest
from werkzeug import Request, Response

from jwt_guard_core import TokenError
from jwt_guard_core.introspection import ClientSecretBasic, IntrospectionSource
from tests.core.remote_servers import WAIT, JWKSServer
from tests.core.test_remote_single_flight import run_threads
from tests.factories import NOW

pytest_plugins = ["tests.core.remote_fixtures"]

PATH = "/introspect"
TOKEN = "opaque-token-0123456789"
THREADS = 100
TASKS = 300


class HeldAnswer:
    """Answers once ``callers - 1`` callers have joined the leader's request."""

    def __init__(self, answer: dict[str, Any], status: int = 200) -> None:
        self.answer, self.status = answer, status
        self.source: IntrospectionSource | None = None
        self.callers = 0

    def __call__(self, request: Request) -> Response:
        assert self.source is not None
        deadline = threading.Event()
        # Polls the joined count with a bounded wait between looks; reached
        # the limit only when callers failed to share the request.
        for _ in range(int(WAIT / 0.001)):
            flights = list(self.source._flights.values())
            if flights and flights[0].joined >= self.callers - 1:
                break
            deadline.wait(0.001)
        return Response(
            json.dumps(self.answer), status=self.status, content_type="application/json"
        )


@pytest.fixture
def held(jwks_server: JWKSServer, clock):
    def _make(answer: dict[str, Any], callers: int, **options: Any) -> IntrospectionSource:
        handler = HeldAnswer(answer, options.pop("status", 200))
        handler.callers = callers
        jwks_server.handle(handler, path=PATH)
        source = IntrospectionSource(
            jwks_server.url(PATH),
            issuer=jwks_server.origin,
            client_auth=ClientSecretBasic("rs", "secret"),
            verify_audience=False,
            clock=clock,
            **options,
        )
        handler.source = source
        return source

    return _make


def test_100_threads_presenting_one_token_cause_one_request(held, jwks_server):
    source = held({"active": True, "exp": int(NOW) + 600, "sub": "u"}, THREADS, positive_ttl=0)
    results = run_threads(THREADS, lambda: source.verify(TOKEN).subject)
    source.close()
    assert results == ["u"] * THREADS
    assert jwks_server.count(PATH) == 1


def test_100_threads_share_an_inactive_answer_that_is_not_cached(held, jwks_server):
    source = held({"active": False}, THREADS, negative_ttl=0)
    results = run_threads(THREADS, lambda: source.verify(TOKEN))
    source.close()
    assert {r.reason for r in results if isinstance(r, TokenError)} == {"token_inactive"}
    assert len(results) == THREADS
    assert jwks_server.count(PATH) == 1


def test_100_threads_share_one_failure_and_each_gets_its_own_503(held, jwks_server):
    source = held({"error": "down"}, THREADS, status=500)
    results = run_threads(THREADS, lambda: source.verify(TOKEN))
    source.close()
    assert all(r.reason == "introspection_unavailable" for r in results)
    assert {r.failure for r in results} == {"http_status"}
    assert len({id(r) for r in results}) == THREADS
    assert jwks_server.count(PATH) == 1


async def test_300_tasks_presenting_one_token_cause_one_request(held, jwks_server):
    source = held({"active": True, "exp": int(NOW) + 600, "sub": "u"}, TASKS, positive_ttl=0)
    results = await asyncio.gather(*(source.averify(TOKEN) for _ in range(TASKS)))
    await source.aclose()
    assert [r.subject for r in results] == ["u"] * TASKS
    assert jwks_server.count(PATH) == 1


async def test_a_cancelled_caller_does_not_cancel_the_shared_request(held, jwks_server):
    source = held({"active": True, "exp": int(NOW) + 600, "sub": "u"}, 3, positive_ttl=0)
    first = asyncio.ensure_future(source.averify(TOKEN))
    second = asyncio.ensure_future(source.averify(TOKEN))
    await asyncio.sleep(0)
    first.cancel()
    third = await source.averify(TOKEN)
    assert (await second).subject == third.subject == "u"
    await source.aclose()
    assert jwks_server.count(PATH) == 1


def test_different_tokens_are_not_merged(held, jwks_server):
    source = held({"active": False}, 1, negative_ttl=0)
    for token in ("token-a", "token-b"):
        with pytest.raises(TokenError):
            source.verify(token)
    source.close()
    assert jwks_server.count(PATH) == 2
