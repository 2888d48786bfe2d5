"""What an adapter's request path asks the core: the path, the signal, what a middleware admits."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from jwt_guard_core.errors import TokenError
from jwt_guard_core.request_policy import (
    Outcome,
    RequestPlan,
    RequestView,
    set_dpop_nonce,
    without_user,
)
from jwt_guard_core.sender import ResourcePolicy, SenderResult
from jwt_guard_core.settings import GuardSettings, RequestSettings
from jwt_guard_core.steps import Io, adrive, drive, inline
from tests.core.dpop_support import issue_token


def _settings(**given: Any) -> RequestSettings:
    return GuardSettings.from_mapping(given, "django").request


def _io(verify: Any) -> Any:
    async def averify(raw: str) -> Any:
        return verify(raw)

    return lambda raw: Io(lambda: verify(raw), lambda: averify(raw))


def _no_csrf() -> str | None:
    raise AssertionError("a header token never asks for CSRF proof")


def test_a_header_only_configuration_plans_the_bearer_path_without_reading_the_request(
    keyring: Any, make_verifier: Any
) -> None:
    verifier = make_verifier()
    raw, _ = issue_token(keyring, verifier)
    plan = RequestPlan(_settings(), ResourcePolicy())
    assert plan.bearer is not None

    def unread() -> RequestView:
        raise AssertionError("the plan read the request")

    outcome = drive(plan.steps(f"Bearer {raw}", unread, _io(verifier.verify), _no_csrf))
    assert outcome == plan.bearer.outcome(outcome.token)  # type: ignore[arg-type]
    assert outcome.token is not None
    again = asyncio.run(adrive(plan.steps(f"Bearer {raw}", unread, _io(verifier.verify), _no_csrf)))
    assert again == outcome


@pytest.mark.parametrize("header", [None, "Bearer a$b", "Basic dXNlcjpwYXNz"])
def test_a_request_outside_the_plan_takes_the_full_path(header: str | None) -> None:
    plan = RequestPlan(_settings(), ResourcePolicy())
    seen: list[str] = []

    def view() -> RequestView:
        seen.append("view")
        return RequestView("GET", header)

    def never(raw: str) -> Io:
        raise AssertionError("nothing to verify")

    outcome = drive(plan.steps(header, view, never, _no_csrf))
    assert seen == ["view"]
    assert outcome.token is None
    assert (outcome.error is not None) == (header == "Bearer a$b")


def test_a_cookie_configuration_has_no_bearer_plan_and_asks_for_csrf_proof(
    keyring: Any, make_verifier: Any
) -> None:
    verifier = make_verifier()
    raw, _ = issue_token(keyring, verifier)
    plan = RequestPlan(_settings(TOKEN_LOCATIONS=["cookie"]), ResourcePolicy())
    assert plan.bearer is None
    view = RequestView("POST", None, cookie=lambda name: raw)
    outcome = drive(plan.steps(None, lambda: view, _io(verifier.verify), lambda: "no token"))
    assert outcome.csrf_failed
    assert outcome.signal == ("token_rejected", {"reason": "csrf_failed", "error": None})


def test_each_outcome_names_its_signal() -> None:
    error = TokenError("bad", reason="token_expired")
    assert Outcome().signal is None
    assert Outcome(error=error).signal == (
        "token_rejected",
        {"reason": "token_expired", "error": error},
    )
    token: Any = object()
    assert Outcome(token=token).signal == ("token_verified", {"token": token})


def test_a_token_without_its_user_is_refused_and_a_deferrable_refusal_waits_for_the_view() -> None:
    token: Any = object()
    refused = without_user(Outcome(token=token, location="header"), lambda: True)
    assert refused.token is None
    assert refused.reason == "user_not_found"
    # A cookie whose user is gone is a failed cookie like any other.
    assert without_user(Outcome(token=token, location="cookie"), lambda: True) == Outcome()
    assert without_user(Outcome(token=token, location="cookie"), lambda: False).reason == (
        "user_not_found"
    )
    cookie = Outcome(error=TokenError("bad", reason="token_expired"), location="cookie")
    assert without_user(cookie, lambda: True) == Outcome()
    assert without_user(cookie, lambda: False) is cookie

    def unasked() -> bool:
        raise AssertionError("only a deferrable refusal asks about the view")

    header = Outcome(error=TokenError("bad", reason="token_expired"), location="header")
    assert without_user(header, unasked) is header
    assert without_user(Outcome(), unasked) == Outcome()


def test_the_dpop_nonce_rides_on_a_response_that_sets_none() -> None:
    headers: dict[str, str] = {}
    set_dpop_nonce(headers, None)
    assert headers == {}
    set_dpop_nonce(headers, "n-1")
    assert headers == {"DPoP-Nonce": "n-1"}
    set_dpop_nonce(headers, "n-2")
    assert headers == {"DPoP-Nonce": "n-1"}
    assert Outcome(sender=SenderResult(nonce="n-3")).nonce == "n-3"


def test_a_view_of_an_environ_reads_its_http_keys() -> None:
    environ = {"HTTP_AUTHORIZATION": "Bearer x", "HTTP_DPOP": "a, b", "HTTP_X_FORWARDED_HOST": "h"}
    view = RequestView.from_environ(environ, "PUT")
    assert (view.method, view.authorization) == ("PUT", "Bearer x")
    assert view.headers("DPoP") == ("a, b",)
    assert view.headers("X-Forwarded-Host") == ("h",)
    assert view.headers("X-Client-Cert") == ()
    assert RequestView.from_environ({}, "GET").authorization is None


def test_an_inline_call_runs_on_the_loop_unless_it_has_an_async_twin() -> None:
    ran: list[str] = []

    def call() -> str:
        ran.append(threading.current_thread().name)
        return "sync"

    async def acall() -> str:
        return "async"

    def steps(io: Io) -> Any:
        return (yield io)

    assert drive(steps(inline(call))) == "sync"
    assert asyncio.run(adrive(steps(inline(call)))) == "sync"
    assert ran == [threading.current_thread().name] * 2
    assert asyncio.run(adrive(steps(inline(call, acall)))) == "async"
