"""Single flight: however many threads or tasks miss at once, one request is made."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from werkzeug import Request, Response

from jwt_guard_core import KeySourceUnavailable, UnknownKid
from tests.core.remote_servers import WAIT, Gate, jwks_response

THREADS = 200
TASKS = 500

pytest_plugins = ["tests.core.remote_fixtures"]


def run_threads(count, target):
    """Run ``target()`` in ``count`` threads released together; return results or errors."""
    barrier = threading.Barrier(count)

    def call():
        barrier.wait(WAIT)
        try:
            return target()
        except Exception as exc:
            return exc

    with ThreadPoolExecutor(max_workers=count) as pool:
        futures = [pool.submit(call) for _ in range(count)]
        return [f.result(WAIT) for f in futures]


class Rotating:
    """Serves {a} until ``rotate`` is set, then {a, b} once every caller is asking."""

    def __init__(self, first, second, callers: int):
        self.first, self.second = jwks_response(first), jwks_response(*second)
        self.rotated = False
        self.callers = callers
        self.asking = 0
        self.lock = threading.Lock()
        self.all_asking = threading.Event()

    def ask(self) -> None:
        with self.lock:
            self.asking += 1
            if self.asking >= self.callers:
                self.all_asking.set()

    def __call__(self, request: Request) -> Response:
        if not self.rotated:
            return self.first(request)
        # Hold the response until every caller has made its call, so they all
        # arrive while this one request is in flight.
        self.all_asking.wait(WAIT)
        return self.second(request)


def test_200_threads_asking_for_one_new_kid_cause_exactly_one_request(
    jwks_server, make_jwks, clock, jwk_a, jwk_b
):
    server = Rotating(jwk_a, (jwk_a, jwk_b), THREADS)
    jwks_server.handle(server)
    jwks = make_jwks(jwks_server.url())
    jwks.warm()
    server.rotated = True
    clock.advance(31)

    def lookup():
        server.ask()
        return jwks.get_key("b", "ES256").kid

    results = run_threads(THREADS, lookup)
    assert results == ["b"] * THREADS
    assert jwks_server.count() == 2  # the warm-up and the single refetch


def test_200_threads_asking_for_an_absent_kid_cause_one_request_and_all_get_unknown_kid(
    jwks_server, make_jwks, clock, jwk_a
):
    server = Rotating(jwk_a, (jwk_a,), THREADS)
    jwks_server.handle(server)
    jwks = make_jwks(jwks_server.url())
    jwks.warm()
    server.rotated = True
    clock.advance(31)

    def lookup():
        server.ask()
        return jwks.get_key("forged", "RS256")

    results = run_threads(THREADS, lookup)
    assert all(isinstance(r, UnknownKid) for r in results)
    assert jwks_server.count() == 2


def test_200_threads_on_a_cold_cache_cause_exactly_one_request(jwks_server, make_jwks, jwk_a):
    server = Rotating(jwk_a, (jwk_a,), THREADS)
    server.rotated = True
    jwks_server.handle(server)
    jwks = make_jwks(jwks_server.url())

    def lookup():
        server.ask()
        return jwks.get_key("a", "RS256").kid

    assert run_threads(THREADS, lookup) == ["a"] * THREADS
    assert jwks_server.count() == 1


async def test_500_tasks_asking_for_one_new_kid_cause_exactly_one_request(
    jwks_server, make_jwks, clock, jwk_a, jwk_b
):
    server = Rotating(jwk_a, (jwk_a, jwk_b), 1)
    jwks_server.handle(server)
    jwks = make_jwks(jwks_server.url())
    await jwks.awarm()
    server.rotated = True
    server.ask()
    clock.advance(31)
    results = await asyncio.gather(*(jwks.aget_key("b", "ES256") for _ in range(TASKS)))
    await jwks.aclose()
    assert [k.kid for k in results] == ["b"] * TASKS
    assert jwks_server.count() == 2


async def test_500_tasks_on_a_cold_cache_cause_exactly_one_request(jwks_server, make_jwks, jwk_a):
    jwks_server.handle(jwks_response(jwk_a))
    jwks = make_jwks(jwks_server.url())
    results = await asyncio.gather(
        *(jwks.aget_key("a", "RS256") for _ in range(TASKS)), return_exceptions=True
    )
    await jwks.aclose()
    assert [getattr(k, "kid", k) for k in results] == ["a"] * TASKS
    assert jwks_server.count() == 1


async def test_a_task_joins_a_fetch_a_thread_already_has_in_flight(jwks_server, make_jwks, jwk_a):
    gate = Gate(jwks_response(jwk_a))
    jwks_server.handle(gate)
    jwks = make_jwks(jwks_server.url())
    thread_result: list[object] = []
    thread = threading.Thread(target=lambda: thread_result.append(jwks.get_key("a", "RS256")))
    thread.start()
    assert await asyncio.to_thread(gate.entered.wait, WAIT)
    task = asyncio.ensure_future(jwks.aget_key("a", "RS256"))
    await asyncio.sleep(0)  # let the task join the flight
    gate.release.set()
    key = await task
    await asyncio.to_thread(thread.join, WAIT)
    await jwks.aclose()
    assert key.kid == "a"
    assert thread_result[0].kid == "a"
    assert jwks_server.count() == 1


def test_waiters_give_up_within_the_bound_with_key_source_unavailable(
    jwks_server, make_jwks, jwk_a
):
    # The leader's fetch times out (50 ms budget); its waiters are answered
    # by the same failure instead of hanging or fetching themselves.
    gate = Gate(jwks_response(jwk_a))
    jwks_server.handle(gate)
    jwks = make_jwks(jwks_server.url(), timeout=0.05)
    results = run_threads(20, lambda: jwks.get_key("a", "RS256"))
    gate.release.set()
    assert all(isinstance(r, KeySourceUnavailable) for r in results)
    assert all(r.status == 503 for r in results)
    # One fetch at most: on a loaded machine the 50 ms budget can run out
    # before the leader's request reaches the server; no waiter fetches itself.
    assert gate.calls <= 1
    assert jwks.health()["last_error"].startswith("timeout")


async def test_a_cancelled_caller_does_not_cancel_the_fetch_others_wait_for(
    jwks_server, make_jwks, jwk_a
):
    gate = Gate(jwks_response(jwk_a))
    jwks_server.handle(gate)
    jwks = make_jwks(jwks_server.url())
    leader = asyncio.ensure_future(jwks.aget_key("a", "RS256"))
    assert await asyncio.to_thread(gate.entered.wait, WAIT)
    follower = asyncio.ensure_future(jwks.aget_key("a", "RS256"))
    await asyncio.sleep(0)
    leader.cancel()
    with pytest.raises(asyncio.CancelledError):
        await leader
    gate.release.set()
    assert (await follower).kid == "a"
    await jwks.aclose()
    assert jwks_server.count() == 1


def test_a_fetch_whose_leader_vanished_is_abandoned_after_twice_its_time_budget(
    jwks_server, make_jwks, jwk_a
):
    # A leader that never finishes (its event loop was stopped, not closed)
    # must not make every later caller wait on it forever.
    jwks_server.serve_keys(jwk_a)
    jwks = make_jwks(jwks_server.url())
    stuck, leader = jwks._join_flight()
    assert leader
    stuck.started -= 2 * jwks._wait_bound + 1
    assert jwks.get_key("a", "RS256").kid == "a"
    assert jwks_server.count() == 1
    assert not stuck.done
