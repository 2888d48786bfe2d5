"""What a session endpoint answers: the shared decisions both adapters apply."""

from __future__ import annotations

import pytest

from jwt_guard_core import ConfigurationError
from jwt_guard_core.sessions import CookiePolicy, SessionTokens
from jwt_guard_core.sessions.cookies import (
    credentials_error_response,
    find_refresh_token,
    logout_reply,
    request_error_response,
    session_reply,
)

NOW = 1_800_000_000.0
TOKENS = SessionTokens(
    access_token="access.jwt.value",
    refresh_token="R" * 43,
    subject="user-1",
    scopes=("a", "b"),
    family_id="fam",
    refresh_expires_at=NOW + 1000,
)
POLICY = CookiePolicy(refresh_path="/auth/refresh")
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def test_json_mode_answers_the_tokens_in_the_body_and_sets_no_cookie() -> None:
    reply = session_reply(POLICY, TOKENS, mode="json", now=NOW, access_max_age=900)
    assert reply.status == 200
    assert reply.headers == NO_STORE
    assert reply.body == {
        "token_type": "Bearer",
        "expires_in": 900,
        "access_token": "access.jwt.value",
        "refresh_token": "R" * 43,
        "refresh_expires_in": 1000,
        "scope": "a b",
    }
    assert reply.cookies == ()


def test_cookie_mode_keeps_the_tokens_out_of_the_body() -> None:
    reply = session_reply(POLICY, TOKENS, mode="cookie", now=NOW, access_max_age=900)
    assert reply.body == {"token_type": "Bearer", "expires_in": 900, "scope": "a b"}
    access, refresh, csrf = reply.cookies
    assert (access.name, access.value, access.max_age, access.path) == (
        "access_token",
        "access.jwt.value",
        900,
        "/",
    )
    assert (refresh.name, refresh.value, refresh.max_age, refresh.path) == (
        "refresh_token",
        "R" * 43,
        1000,
        "/auth/refresh",
    )
    assert access.http_only
    assert refresh.http_only
    assert not csrf.http_only
    assert len(csrf.value) == 43


def test_both_mode_answers_body_and_cookies_and_csrf_cookie_can_be_left_out() -> None:
    reply = session_reply(
        POLICY, TOKENS, mode="both", now=NOW, access_max_age=None, csrf_cookie=False
    )
    assert reply.body is not None
    assert reply.body["access_token"] == "access.jwt.value"
    assert "expires_in" not in reply.body
    assert [c.name for c in reply.cookies] == ["access_token", "refresh_token"]


def test_logout_reply_is_204_with_deletions_in_cookie_modes() -> None:
    assert logout_reply(POLICY, mode="json").cookies == ()
    reply = logout_reply(POLICY, mode="cookie")
    assert reply.status == 204
    assert reply.body is None
    assert reply.headers == NO_STORE
    assert [(c.name, c.path, c.deletes) for c in reply.cookies] == [
        ("access_token", "/", True),
        ("refresh_token", "/auth/refresh", True),
        ("csrf_token", "/", True),
    ]
    assert len(logout_reply(POLICY, mode="both", csrf_cookie=False).cookies) == 2


@pytest.mark.parametrize(
    ("mode", "body", "cookies", "expected"),
    [
        ("json", "B", {"refresh_token": "C"}, ("B", "body")),
        ("json", None, {"refresh_token": "C"}, None),
        ("cookie", "B", {"refresh_token": "C"}, ("C", "cookie")),
        ("cookie", "B", {}, None),
        ("both", "B", {"refresh_token": "C"}, ("B", "body")),
        ("both", None, {"refresh_token": "C"}, ("C", "cookie")),
        ("both", None, {"refresh_token": ""}, None),
    ],
)
def test_find_refresh_token_follows_the_mode(
    mode: str, body: str | None, cookies: dict[str, str], expected: tuple[str, str] | None
) -> None:
    found = find_refresh_token(POLICY, mode=mode, body_token=body, cookies=cookies)
    assert (None if found is None else (found.token, found.location)) == expected


@pytest.mark.parametrize("mode", ["header", "", None])
def test_an_unknown_mode_is_a_configuration_error(mode: object) -> None:
    with pytest.raises(ConfigurationError, match="mode"):
        session_reply(POLICY, TOKENS, mode=mode, now=NOW, access_max_age=1)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="mode"):
        logout_reply(POLICY, mode=mode)  # type: ignore[arg-type]


def test_credentials_and_request_errors_are_400_no_store() -> None:
    bad = credentials_error_response()
    assert (bad.status, bad.body["error"], dict(bad.headers)) == (400, "invalid_grant", NO_STORE)
    malformed = request_error_response("Give a body.")
    assert malformed.status == 400
    assert malformed.body == {"error": "invalid_request", "error_description": "Give a body."}
    assert "WWW-Authenticate" not in malformed.headers
