"""The session endpoints' decisions, over plain request data (what both adapters call)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from jwt_guard_core import KeySourceUnavailable, TokenError, Verifier
from jwt_guard_core.sessions import (
    CookiePolicy,
    FailureRateLimiter,
    MemorySessionStore,
    RefreshTokenService,
    RevocationService,
)
from jwt_guard_core.sessions.endpoints import (
    MAX_BODY_BYTES,
    MAX_BODY_DEPTH,
    InvalidBody,
    SessionEndpoints,
    SessionRequest,
    read_json_body,
)
from tests.factories import FakeClock

NOT_JSON = {
    "error": "invalid_request",
    "error_description": "Send a JSON object (Content-Type: application/json).",
}
UNAUTHORIZED = {"error": "unauthorized", "error_description": "Authentication is required."}
CSRF_FAILED = {"error": "csrf_failed", "error_description": "CSRF verification failed."}


def no_body() -> bytes:
    raise AssertionError("a body that is not JSON must not be read")


def body(data: Any = None, *, cookies: dict[str, str] | None = None) -> SessionRequest:
    raw = b"" if data is None else json.dumps(data).encode()
    return SessionRequest("application/json", lambda: raw, cookies or {})


def csrf_ok() -> str | None:
    return None


def csrf_missing() -> str:
    return "CSRF header missing"


@pytest.fixture
def world(
    make_sessions: Callable[..., RefreshTokenService],
    make_verifier: Callable[..., Verifier],
    clock: FakeClock,
) -> Any:
    store = MemorySessionStore()
    revocation = RevocationService(store, clock=clock)
    refresh_tokens = make_sessions(store, revocation=revocation)

    class World:
        verifier = make_verifier(revocation=revocation)
        sessions = refresh_tokens

        @staticmethod
        def endpoints(mode: str = "cookie", **options: Any) -> SessionEndpoints:
            return SessionEndpoints(
                refresh_tokens=refresh_tokens,
                revocation=revocation,
                policy=CookiePolicy(refresh_path="/auth/refresh"),
                mode=mode,
                clock=clock,
                access_max_age=900,
                **options,
            )

    return World


@pytest.mark.parametrize(
    ("content_type", "raw", "required", "expected"),
    [
        ("application/json", b'{"a": 1}', True, {"a": 1}),
        ("application/json", b"\xef\xbb\xbf{}", True, {}),
        ("application/json", b"", False, {}),
        ("text/plain", None, False, {}),
    ],
)
def test_only_a_json_object_is_a_body(
    content_type: str | None, raw: bytes | None, required: bool, expected: Any
) -> None:
    read = no_body if raw is None else (lambda: raw)
    assert read_json_body(content_type, read, required=required) == expected


@pytest.mark.parametrize(
    ("content_type", "raw", "required"),
    [
        ("application/json", b"", True),
        ("application/json", b"[1]", False),
        ("application/json", b"\xff{", False),
        ("application/json", '{"a": 1}'.encode("utf-16"), False),
        ("application/json", b'{"a": NaN', False),
        (None, None, True),
    ],
    ids=["empty", "array", "not-utf8", "utf16", "broken", "not-json-type"],
)
def test_anything_but_a_json_object_is_refused_with_its_description(
    content_type: str | None, raw: bytes | None, required: bool
) -> None:
    read = no_body if raw is None else (lambda: raw)
    with pytest.raises(InvalidBody) as info:
        read_json_body(content_type, read, required=required)
    assert str(info.value) == NOT_JSON["error_description"]


DEEP_BODIES = {
    "arrays-100000": b"[" * 100_000,
    "objects-3000": b'{"a":' * 3000,
    "closed-objects-2000": b'{"a":' * 2000 + b"1" + b"}" * 2000,
    "one-over-the-limit": b'{"a":' + b"[" * MAX_BODY_DEPTH + b"]" * MAX_BODY_DEPTH + b"}",
}


@pytest.mark.parametrize("raw", DEEP_BODIES.values(), ids=DEEP_BODIES.keys())
def test_deeply_nested_json_is_refused_before_it_is_parsed(raw: bytes) -> None:
    if len(raw) > MAX_BODY_BYTES:
        expected = "The body is too large."
    else:
        expected = "The JSON body is nested too deeply."
    with pytest.raises(InvalidBody) as info:
        read_json_body("application/json", lambda: raw, required=True)
    assert str(info.value) == expected


def test_nesting_up_to_the_limit_and_brackets_in_strings_are_accepted() -> None:
    nested = b'{"a":' + b"[" * (MAX_BODY_DEPTH - 1) + b"]" * (MAX_BODY_DEPTH - 1) + b"}"
    assert read_json_body("application/json", lambda: nested, required=True)["a"]
    brackets = json.dumps({"password": "[" * 5000}).encode()
    assert read_json_body("application/json", lambda: brackets, required=True) == {
        "password": "[" * 5000
    }


def test_a_body_over_the_size_limit_is_refused_and_not_read_when_its_length_is_known() -> None:
    big = json.dumps({"password": "x" * MAX_BODY_BYTES}).encode()
    with pytest.raises(InvalidBody, match="too large"):
        read_json_body("application/json", lambda: big, required=True)
    with pytest.raises(InvalidBody, match="too large"):
        read_json_body("application/json", no_body, required=True, content_length=len(big))
    fits = json.dumps({"password": "x" * (MAX_BODY_BYTES - 20)}).encode()
    assert len(fits) <= MAX_BODY_BYTES
    assert read_json_body("application/json", lambda: fits, required=True, content_length=len(fits))


@pytest.mark.parametrize("raw", DEEP_BODIES.values(), ids=DEEP_BODIES.keys())
def test_login_refresh_and_logout_answer_a_deep_body_with_400_invalid_request(
    world: Any, raw: bytes
) -> None:
    endpoints = world.endpoints("both")
    request = SessionRequest("application/json", lambda: raw, {})
    replies = [
        endpoints.login(request, client="c", check=lambda u, p: ("user-1", ())),
        endpoints.refresh(request, csrf_failure=csrf_ok),
        endpoints.logout(request, access=None, csrf_failure=csrf_ok),
    ]
    for reply in replies:
        assert reply.status == 400
        assert reply.body is not None
        assert reply.body["error"] == "invalid_request"
        assert reply.body["error_description"] in (
            "The body is too large.",
            "The JSON body is nested too deeply.",
        )


def test_login_checks_the_credentials_and_answers_a_session(world: Any) -> None:
    seen: list[tuple[str, str]] = []

    def check(username: str, password: str) -> tuple[str, tuple[str, ...]] | None:
        seen.append((username, password))
        return ("user-1", ("orders:read",)) if password == "right" else None

    endpoints = world.endpoints("json")
    refused = endpoints.login(body({"username": "u", "password": "wrong"}), client="c", check=check)
    assert refused.status == 400
    assert refused.body == {
        "error": "invalid_grant",
        "error_description": "The credentials are invalid.",
    }
    reply = endpoints.login(body({"username": "u", "password": "right"}), client="c", check=check)
    assert reply.status == 200
    assert reply.body is not None
    assert reply.body["scope"] == "orders:read"
    assert world.verifier.verify(reply.body["access_token"]).subject == "user-1"
    assert seen == [("u", "wrong"), ("u", "right")]
    bad = endpoints.login(body({"username": "u"}), client="c", check=check)
    assert bad.status == 400
    assert bad.body is not None
    assert bad.body["error"] == "invalid_request"


def test_login_failures_hit_the_rate_limit_with_429(world: Any, clock: FakeClock) -> None:
    limiter = FailureRateLimiter(MemorySessionStore(), limit=1, window=60, clock=clock)
    endpoints = world.endpoints("json", limiter=limiter)
    request = body({"username": "u", "password": "p"})
    assert endpoints.login(request, client="c", check=lambda u, p: None).status == 400
    refused = endpoints.login(request, client="c", check=lambda u, p: ("user-1", ()))
    assert refused.status == 429
    assert "Retry-After" in refused.headers


def test_a_cookie_refresh_needs_csrf_proof_and_a_body_one_does_not(world: Any) -> None:
    endpoints = world.endpoints("both")
    token = world.sessions.issue("user-1").refresh_token
    cookie = body(cookies={"refresh_token": token})
    refused = endpoints.refresh(cookie, csrf_failure=csrf_missing)
    assert refused.status == 403
    assert refused.body == CSRF_FAILED
    assert endpoints.refresh(cookie, csrf_failure=csrf_ok).status == 200
    other = world.sessions.issue("user-1").refresh_token
    assert (
        endpoints.refresh(body({"refresh_token": other}), csrf_failure=csrf_missing).status == 200
    )


def test_refresh_refuses_a_missing_token_and_a_scope_that_is_not_a_string(world: Any) -> None:
    endpoints = world.endpoints("json")
    missing = endpoints.refresh(body({}), csrf_failure=csrf_ok)
    assert missing.status == 400
    assert missing.body is not None
    assert missing.body["error_description"] == "No refresh token was presented."
    token = world.sessions.issue("user-1").refresh_token
    scope = endpoints.refresh(body({"refresh_token": token, "scope": 1}), csrf_failure=csrf_ok)
    assert scope.status == 400
    assert endpoints.refresh(
        SessionRequest("application/json", lambda: b"[", {}), csrf_failure=csrf_ok
    ).body == (NOT_JSON)


@pytest.mark.parametrize("scope", ["orders:read\tadmin", "orders:read\u3000admin", " orders:read"])
def test_refresh_refuses_a_scope_outside_the_rfc_6749_grammar(world: Any, scope: str) -> None:
    endpoints = world.endpoints("json")
    token = world.sessions.issue("user-1", scopes=["orders:read", "admin"]).refresh_token
    reply = endpoints.refresh(body({"refresh_token": token, "scope": scope}), csrf_failure=csrf_ok)
    assert reply.status == 400
    assert reply.body == {
        "error": "invalid_request",
        "error_description": "scope is a string of scope names separated by single spaces.",
    }
    narrowed = endpoints.refresh(
        body({"refresh_token": token, "scope": "orders:read"}), csrf_failure=csrf_ok
    )
    assert narrowed.status == 200
    assert narrowed.body is not None
    assert narrowed.body["scope"] == "orders:read"


def test_logout_revokes_the_access_token_and_both_sessions(world: Any) -> None:
    endpoints = world.endpoints("cookie")
    first, second = world.sessions.issue("user-1"), world.sessions.issue("user-1")
    access = world.verifier.verify(first.access_token)
    reply = endpoints.logout(
        body(cookies={"refresh_token": second.refresh_token}),
        access=access,
        csrf_failure=csrf_ok,
    )
    assert reply.status == 204
    assert [c.name for c in reply.cookies if c.deletes] == [
        "access_token",
        "refresh_token",
        "csrf_token",
    ]
    with pytest.raises(TokenError) as revoked:
        world.verifier.verify(first.access_token)
    assert revoked.value.reason == "revoked"
    for spent in (first, second):
        with pytest.raises(TokenError):
            world.sessions.refresh(spent.refresh_token)


def test_logout_with_a_dead_access_cookie_ends_the_session_its_refresh_cookie_names(
    world: Any,
) -> None:
    endpoints = world.endpoints("cookie")
    session = world.sessions.issue("user-1")
    dead = TokenError("revoked", reason="revoked")
    reply = endpoints.logout(
        body(cookies={"refresh_token": session.refresh_token}),
        access=None,
        access_cookie_error=dead,
        csrf_failure=csrf_ok,
    )
    assert reply.status == 204
    with pytest.raises(TokenError):
        world.sessions.refresh(session.refresh_token)
    # Only a dead cookie: nothing to revoke, the cookies are still cleared.
    alone = endpoints.logout(body(), access=None, access_cookie_error=dead, csrf_failure=csrf_ok)
    assert alone.status == 204
    assert all(c.deletes for c in alone.cookies)


def test_logout_answers_an_access_cookie_it_could_not_check_as_such(world: Any) -> None:
    endpoints = world.endpoints("cookie")
    session = world.sessions.issue("user-1")
    down = KeySourceUnavailable("jwks down", retry_after=30)
    reply = endpoints.logout(
        body(cookies={"refresh_token": session.refresh_token}),
        access=None,
        access_cookie_error=down,
        csrf_failure=csrf_ok,
    )
    assert reply.status == 503
    assert reply.headers["Retry-After"] == "30"
    assert reply.cookies == ()
    # Nothing was revoked: the session still refreshes.
    assert world.sessions.refresh(session.refresh_token).subject == "user-1"


def test_logout_without_any_credential_is_401_and_a_cookie_one_needs_csrf(world: Any) -> None:
    endpoints = world.endpoints("cookie", realm="shop")
    nothing = endpoints.logout(body(), access=None, csrf_failure=csrf_ok)
    assert nothing.status == 401
    assert nothing.body == UNAUTHORIZED
    assert nothing.headers["WWW-Authenticate"] == 'Bearer realm="shop"'
    session = world.sessions.issue("user-1")
    refused = endpoints.logout(
        body(cookies={"refresh_token": session.refresh_token}),
        access=None,
        csrf_failure=csrf_missing,
    )
    assert refused.status == 403
    assert refused.body == CSRF_FAILED
    assert world.sessions.refresh(session.refresh_token).subject == "user-1"


def test_logout_everywhere_needs_a_token_with_a_subject(world: Any) -> None:
    endpoints = world.endpoints("json")
    assert endpoints.logout_everywhere(None).status == 401
    laptop, phone = world.sessions.issue("user-1"), world.sessions.issue("user-1")
    reply = endpoints.logout_everywhere(world.verifier.verify(laptop.access_token))
    assert reply.status == 204
    assert reply.cookies == ()
    for spent in (laptop, phone):
        with pytest.raises(TokenError):
            world.sessions.refresh(spent.refresh_token)
