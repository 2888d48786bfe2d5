"""Session views in JSON mode: obtain, refresh (rotation, reuse), logout, logout everywhere."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from tests.django.bodies import INVALID_TOKEN_BODY, NO_CREDENTIALS_BODY
from tests.django.session_fixtures import (
    NO_STORE,
    TOKEN_SHAPE,
    alice,
    bearer,
    guard_sessions,
    key_dir,
    login,
    post_json,
)
from tests.factories import FakeClock

__all__ = ["alice", "guard_sessions", "key_dir"]

pytestmark = pytest.mark.django_db

INVALID_GRANT = {
    "error": "invalid_grant",
    "error_description": "The refresh token is invalid, expired or revoked.",
}
BAD_CREDENTIALS = {"error": "invalid_grant", "error_description": "The credentials are invalid."}


@pytest.fixture(autouse=True)
def _sessions(guard_sessions: Callable[..., Any]) -> None:
    guard_sessions(SCOPES=["orders:read", "profile"])


def test_obtain_with_good_credentials_answers_both_tokens_and_no_store(
    client: Client, alice: Any
) -> None:
    response = login(client)
    assert response.status_code == 200
    assert response["Cache-Control"] == NO_STORE
    assert response["Pragma"] == "no-cache"
    body = response.json()
    assert set(body) == {
        "access_token",
        "refresh_token",
        "token_type",
        "expires_in",
        "refresh_expires_in",
        "scope",
    }
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert body["refresh_expires_in"] == 14 * 86400
    assert body["scope"] == "orders:read profile"
    assert TOKEN_SHAPE.fullmatch(body["refresh_token"])
    assert not response.cookies  # JSON mode sets no cookie

    me = client.get("/api/me/", **bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json()["sub"] == str(alice.pk)
    assert me.json()["sid"]


def test_obtain_with_a_wrong_password_is_refused_with_invalid_grant(
    client: Client, alice: Any
) -> None:
    response = login(client, password="wrong")
    assert response.status_code == 400
    assert response.json() == BAD_CREDENTIALS
    assert response["Cache-Control"] == NO_STORE
    assert "WWW-Authenticate" not in response


def test_obtain_for_an_unknown_user_answers_like_a_wrong_password(client: Client, db: Any) -> None:
    response = login(client, username="mallory")
    assert response.status_code == 400
    assert response.json() == BAD_CREDENTIALS


def test_obtain_for_an_inactive_user_is_refused(client: Client, alice: Any) -> None:
    alice.is_active = False
    alice.save()
    response = login(client)
    assert response.status_code == 400
    assert response.json() == BAD_CREDENTIALS


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("username=alice&password=x", "application/x-www-form-urlencoded"),
        ("[1, 2]", "application/json"),
        ("{not json", "application/json"),
        (b"\xff\xfe", "application/json"),
        ('{"username": "alice"}', "application/json"),
        ('{"username": 1, "password": 2}', "application/json"),
        ("", "application/json"),
    ],
)
def test_obtain_with_a_malformed_body_is_invalid_request(
    client: Client, alice: Any, body: Any, content_type: str
) -> None:
    response = client.post("/auth/token/", body, content_type=content_type)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert response["Cache-Control"] == NO_STORE


@pytest.mark.parametrize("path", ["/auth/token/", "/auth/refresh/", "/auth/refresh/logout/"])
def test_session_routes_refuse_get_with_405(client: Client, path: str) -> None:
    assert client.get(path).status_code == 405


def test_scopes_setting_may_be_a_function_of_the_user(
    client: Client, alice: Any, guard_sessions: Callable[..., Any]
) -> None:
    guard_sessions(SCOPES=lambda user: [f"user:{user.username}"])
    assert login(client).json()["scope"] == "user:alice"


def test_refresh_rotates_and_the_new_tokens_work(client: Client, alice: Any) -> None:
    first = login(client).json()
    response = post_json(client, "/auth/refresh/", {"refresh_token": first["refresh_token"]})
    assert response.status_code == 200
    assert response["Cache-Control"] == NO_STORE
    second = response.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert client.get("/api/me/", **bearer(second["access_token"])).status_code == 200
    # Same session: the sid claim carries over.
    sid = client.get("/api/me/", **bearer(first["access_token"])).json()["sid"]
    assert client.get("/api/me/", **bearer(second["access_token"])).json()["sid"] == sid


def test_refresh_may_narrow_the_scope_but_never_widen_it(client: Client, alice: Any) -> None:
    first = login(client).json()
    narrowed = post_json(
        client, "/auth/refresh/", {"refresh_token": first["refresh_token"], "scope": "profile"}
    )
    assert narrowed.status_code == 200
    assert narrowed.json()["scope"] == "profile"
    widened = post_json(
        client,
        "/auth/refresh/",
        {"refresh_token": narrowed.json()["refresh_token"], "scope": "admin"},
    )
    assert widened.status_code == 400
    assert widened.json() == INVALID_GRANT


def test_refresh_token_reuse_revokes_the_whole_session(client: Client, alice: Any) -> None:
    first = login(client).json()
    second = post_json(client, "/auth/refresh/", {"refresh_token": first["refresh_token"]}).json()

    reused = post_json(client, "/auth/refresh/", {"refresh_token": first["refresh_token"]})
    assert reused.status_code == 400
    assert reused.json() == INVALID_GRANT
    assert reused["Cache-Control"] == NO_STORE
    assert "WWW-Authenticate" not in reused

    # The thief's (or victim's) newer refresh token dies with the family ...
    later = post_json(client, "/auth/refresh/", {"refresh_token": second["refresh_token"]})
    assert later.status_code == 400
    assert later.json() == INVALID_GRANT
    # ... and so do the session's access tokens still in flight.
    me = client.get("/api/me/", **bearer(second["access_token"]))
    assert me.status_code == 401
    assert me.json() == INVALID_TOKEN_BODY
    assert me["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'


@pytest.mark.parametrize("token", ["not-a-token", 42, "A" * 43, ["x"]])
def test_refresh_with_a_bad_or_unknown_token_is_invalid_grant(
    client: Client, alice: Any, token: Any
) -> None:
    response = post_json(client, "/auth/refresh/", {"refresh_token": token})
    assert response.status_code == 400
    assert response.json() == INVALID_GRANT


def test_refresh_without_a_token_is_invalid_request(client: Client, alice: Any) -> None:
    response = post_json(client, "/auth/refresh/", {})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_refresh_with_a_non_string_scope_is_invalid_request(client: Client, alice: Any) -> None:
    first = login(client).json()
    response = post_json(
        client, "/auth/refresh/", {"refresh_token": first["refresh_token"], "scope": ["profile"]}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_expired_refresh_token_is_invalid_grant(
    client: Client, alice: Any, clock: FakeClock
) -> None:
    first = login(client).json()
    clock.advance(14 * 86400 + 1)
    response = post_json(client, "/auth/refresh/", {"refresh_token": first["refresh_token"]})
    assert response.status_code == 400
    assert response.json() == INVALID_GRANT


def test_logout_revokes_the_access_token_and_the_session(client: Client, alice: Any) -> None:
    tokens = login(client).json()
    response = post_json(
        client,
        "/auth/refresh/logout/",
        {"refresh_token": tokens["refresh_token"]},
        **bearer(tokens["access_token"]),
    )
    assert response.status_code == 204
    assert response.content == b""
    assert response["Cache-Control"] == NO_STORE

    me = client.get("/api/me/", **bearer(tokens["access_token"]))
    assert me.status_code == 401
    assert me["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'
    again = post_json(client, "/auth/refresh/", {"refresh_token": tokens["refresh_token"]})
    assert again.status_code == 400
    assert again.json() == INVALID_GRANT


def test_logout_with_only_the_access_token_ends_the_session_by_its_sid(
    client: Client, alice: Any
) -> None:
    tokens = login(client).json()
    response = post_json(client, "/auth/refresh/logout/", **bearer(tokens["access_token"]))
    assert response.status_code == 204
    refresh = post_json(client, "/auth/refresh/", {"refresh_token": tokens["refresh_token"]})
    assert refresh.status_code == 400
    assert refresh.json() == INVALID_GRANT


def test_logout_with_only_the_refresh_token_ends_the_session(client: Client, alice: Any) -> None:
    tokens = login(client).json()
    response = post_json(
        client, "/auth/refresh/logout/", {"refresh_token": tokens["refresh_token"]}
    )
    assert response.status_code == 204
    # The session denylist ends the access token too.
    assert client.get("/api/me/", **bearer(tokens["access_token"])).status_code == 401


def test_logout_without_credentials_is_401_with_www_authenticate(client: Client, db: Any) -> None:
    response = post_json(client, "/auth/refresh/logout/")
    assert response.status_code == 401
    assert response.json() == NO_CREDENTIALS_BODY
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_logout_with_an_invalid_access_token_is_401(client: Client, db: Any) -> None:
    response = post_json(client, "/auth/refresh/logout/", **bearer("a.b.c"))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'


def test_logout_twice_with_the_same_refresh_token_succeeds(client: Client, alice: Any) -> None:
    tokens = login(client).json()
    body = {"refresh_token": tokens["refresh_token"]}
    assert post_json(client, "/auth/refresh/logout/", body).status_code == 204
    assert post_json(client, "/auth/refresh/logout/", body).status_code == 204


def test_logout_everywhere_ends_every_session_of_the_subject(
    client: Client, alice: Any, clock: FakeClock
) -> None:
    laptop = login(client).json()
    phone = login(client).json()
    clock.advance(1)
    response = post_json(client, "/auth/logout-everywhere/", **bearer(laptop["access_token"]))
    assert response.status_code == 204
    assert response["Cache-Control"] == NO_STORE
    for session in (laptop, phone):
        me = client.get("/api/me/", **bearer(session["access_token"]))
        assert me.status_code == 401
        refresh = post_json(client, "/auth/refresh/", {"refresh_token": session["refresh_token"]})
        assert refresh.status_code == 400
        assert refresh.json() == INVALID_GRANT
    # Logging straight back in works.
    clock.advance(1)
    fresh = login(client).json()
    assert client.get("/api/me/", **bearer(fresh["access_token"])).status_code == 200


def test_logout_everywhere_needs_an_access_token(client: Client, alice: Any) -> None:
    tokens = login(client).json()
    response = post_json(
        client, "/auth/logout-everywhere/", {"refresh_token": tokens["refresh_token"]}
    )
    assert response.status_code == 401
    assert response.json() == NO_CREDENTIALS_BODY
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_emergency_rotation_refuses_every_earlier_access_token(
    client: Client, alice: Any, clock: FakeClock
) -> None:
    from jwt_guard_django.issuing import get_key_manager

    tokens = login(client).json()
    clock.advance(5)
    get_key_manager().emergency_rotate()
    me = client.get("/api/me/", **bearer(tokens["access_token"]))
    assert me.status_code == 401
    assert me["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'
