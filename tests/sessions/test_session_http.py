"""A session route from request to reply over plain data (jwt_guard_core.sessions.http).

What the Django views (sync and async) and the Flask routes share: which
endpoint a route is, what the access token's outcome does to a logout, how
the request's length, client address and CSRF proof are read, how a reply's
body is written.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from jwt_guard_core import KeySourceUnavailable, MalformedToken, TokenError
from jwt_guard_core.http import double_submit_failure
from jwt_guard_core.request_policy import Outcome
from jwt_guard_core.sessions import CookiePolicy
from jwt_guard_core.sessions.cookies import SessionReply
from jwt_guard_core.sessions.http import (
    ROUTES,
    SessionCall,
    client_address,
    content_length,
    logout_access,
    route_steps,
    sync_io,
)
from jwt_guard_core.steps import Io, adrive, drive
from tests.sessions.test_session_endpoints import (
    CSRF_FAILED,
    UNAUTHORIZED,
    body,
    csrf_missing,
    csrf_ok,
    world,
)

__all__ = ["world"]

MISMATCH = "CSRF header missing or not equal to the CSRF cookie"


def serve(endpoints: Any, route: str, call: SessionCall) -> SessionReply:
    return drive(route_steps(endpoints, route, call))


def access(outcome: Outcome) -> Io:
    return sync_io(lambda: outcome)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("120", 120), ("0", 0), (None, None), ("", None), ("-1", None), ("1e3", None), (12, None)],
)
def test_content_length_is_a_length_or_none(value: object, expected: int | None) -> None:
    assert content_length(value) == expected


def test_client_address_defaults_to_unknown() -> None:
    assert client_address("203.0.113.9") == "203.0.113.9"
    assert client_address(None) == "unknown"
    assert client_address("") == "unknown"


def test_reply_body_is_json_text_or_none() -> None:
    assert SessionReply(204, {}, None).json_body() is None
    text = SessionReply(200, {}, {"token_type": "Bearer", "expires_in": 900}).json_body()
    assert text is not None
    assert json.loads(text) == {"token_type": "Bearer", "expires_in": 900}


def test_double_submit_needs_the_header_equal_to_the_cookie() -> None:
    assert double_submit_failure("abc", "abc") is None
    assert double_submit_failure("abc", "abd") == MISMATCH
    assert double_submit_failure("abc", None) == MISMATCH
    assert double_submit_failure("", "") == MISMATCH


def test_cookie_policy_csrf_failure_reads_the_header_in_any_case() -> None:
    policy = CookiePolicy(refresh_path="/auth/refresh")
    cookies = {policy.csrf_cookie: "v"}
    assert policy.csrf_failure(cookies, {policy.csrf_header.lower(): "v"}) is None
    assert policy.csrf_failure(cookies, {policy.csrf_header: "w"}) == MISMATCH
    assert policy.csrf_failure({}, {}) == MISMATCH
    assert policy.csrf_valid(cookies, {policy.csrf_header: "v"})


def test_logout_access_defers_a_failed_cookie_and_refuses_anything_else() -> None:
    dead = TokenError("revoked", reason="revoked")
    assert logout_access(Outcome(error=dead, location="cookie")) == (None, dead)
    refusal, cookie_error = logout_access(Outcome(error=MalformedToken("bad"), location="header"))
    assert cookie_error is None
    assert refusal is not None
    assert refusal.status == 401
    refusal, _ = logout_access(Outcome(csrf_failed=True, location="cookie"))
    assert refusal is not None
    assert (refusal.status, refusal.body) == (403, CSRF_FAILED)
    assert logout_access(Outcome()) == (None, None)


def test_obtain_route_is_the_login_with_the_clients_key(world: Any) -> None:
    clients: list[str] = []

    def client() -> str:
        clients.append("c")
        return "c"

    call = SessionCall(
        request=body({"username": "u", "password": "right"}),
        csrf_failure=csrf_ok,
        client=client,
        check=lambda u, p: sync_io(lambda: ("user-1", ("orders:read",))),
    )
    reply = serve(world.endpoints("json"), "obtain", call)
    assert reply.status == 200
    assert reply.body is not None
    assert world.verifier.verify(reply.body["access_token"]).subject == "user-1"
    assert clients == ["c"]


def test_refresh_route_never_authenticates_the_access_token(world: Any) -> None:
    def no_access() -> Outcome:
        raise AssertionError("refresh must not look at the access token")

    token = world.sessions.issue("user-1").refresh_token
    request = body(cookies={"refresh_token": token})
    endpoints = world.endpoints("cookie")
    refused = SessionCall(request=request, csrf_failure=csrf_missing, access=sync_io(no_access))
    assert serve(endpoints, "refresh", refused).body == CSRF_FAILED
    call = SessionCall(request=request, csrf_failure=csrf_ok, access=sync_io(no_access))
    assert serve(endpoints, "refresh", call).status == 200


def test_logout_route_goes_on_past_a_dead_access_cookie(world: Any) -> None:
    session = world.sessions.issue("user-1")
    dead = Outcome(error=TokenError("revoked", reason="revoked"), location="cookie")
    call = SessionCall(
        request=body(cookies={"refresh_token": session.refresh_token}),
        csrf_failure=csrf_ok,
        access=access(dead),
    )
    reply = serve(world.endpoints("cookie"), "logout", call)
    assert reply.status == 204
    assert all(c.deletes for c in reply.cookies)
    with pytest.raises(TokenError):
        world.sessions.refresh(session.refresh_token)


def test_logout_route_refuses_a_bad_header_token_before_revoking(world: Any) -> None:
    session = world.sessions.issue("user-1")
    bad = Outcome(error=MalformedToken("bad"), location="header")
    call = SessionCall(
        request=body({"refresh_token": session.refresh_token}),
        csrf_failure=csrf_ok,
        access=access(bad),
    )
    reply = serve(world.endpoints("json"), "logout", call)
    assert reply.status == 401
    assert reply.body is not None
    assert reply.body["error"] == "invalid_token"
    assert world.sessions.refresh(session.refresh_token).subject == "user-1"


def test_logout_route_answers_an_access_cookie_it_could_not_check(world: Any) -> None:
    down = Outcome(error=KeySourceUnavailable("jwks down", retry_after=30), location="cookie")
    call = SessionCall(request=body(), csrf_failure=csrf_ok, access=access(down))
    reply = serve(world.endpoints("cookie"), "logout", call)
    assert reply.status == 503
    assert reply.headers["Retry-After"] == "30"


def test_logout_everywhere_route_needs_a_valid_access_token(world: Any) -> None:
    endpoints = world.endpoints("json")
    nothing = SessionCall(request=body(), csrf_failure=csrf_ok, access=access(Outcome()))
    refused = serve(endpoints, "logout_everywhere", nothing)
    assert (refused.status, refused.body) == (401, UNAUTHORIZED)
    laptop, phone = world.sessions.issue("user-1"), world.sessions.issue("user-1")
    token = world.verifier.verify(laptop.access_token)
    call = SessionCall(request=body(), csrf_failure=csrf_ok, access=access(Outcome(token=token)))
    assert serve(endpoints, "logout_everywhere", call).status == 204
    with pytest.raises(TokenError):
        world.sessions.refresh(phone.refresh_token)


def test_an_unknown_route_is_a_value_error(world: Any) -> None:
    assert ROUTES == ("obtain", "refresh", "logout", "logout_everywhere")
    call = SessionCall(request=body(), csrf_failure=csrf_ok, access=access(Outcome()))
    with pytest.raises(ValueError, match="'token' is not a session route"):
        serve(world.endpoints("json"), "token", call)
    without_access = SessionCall(request=body(), csrf_failure=csrf_ok)
    with pytest.raises(ValueError, match="credentials check"):
        serve(world.endpoints("json"), "obtain", without_access)
    with pytest.raises(ValueError, match="'logout' is not a session route"):
        serve(world.endpoints("json"), "logout", without_access)


def test_a_sync_only_call_refuses_the_async_path() -> None:
    io = sync_io(lambda: 1)
    assert io.run() == 1

    def steps() -> Any:
        return (yield io)

    with pytest.raises(RuntimeError, match="sync-only"):
        asyncio.run(adrive(steps()))


def test_the_session_steps_module_is_the_cores_steps() -> None:
    from jwt_guard_core import steps
    from jwt_guard_core.sessions import steps as session_steps

    assert (session_steps.drive, session_steps.adrive, session_steps.Io) == (drive, adrive, Io)
    assert session_steps.store_io is steps.store_io
    assert session_steps.offloaded is steps.offloaded
