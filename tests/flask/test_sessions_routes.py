"""Flask session routes in JSON mode: obtain, refresh (rotation, reuse), logout, everywhere."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import FakeClock
from tests.flask.session_fixtures import (
    PASSWORD,
    SessionsApp,
    bearer,
    key_dir,
    login,
    sessions_app,
)

__all__ = ["key_dir", "sessions_app"]

INVALID_GRANT = {
    "error": "invalid_grant",
    "error_description": "The refresh token is invalid, expired or revoked.",
}
BAD_CREDENTIALS = {"error": "invalid_grant", "error_description": "The credentials are invalid."}
UNAUTHORIZED = {"error": "unauthorized", "error_description": "Authentication is required."}
INVALID_TOKEN = 'Bearer realm="api", error="invalid_token"'


@pytest.fixture
def client(sessions_app: SessionsApp) -> Any:
    return sessions_app().test_client()


def refresh(client: Any, token: Any, **body: Any) -> Any:
    return client.post("/auth/refresh", json={"refresh_token": token, **body})


def test_obtain_answers_both_tokens_with_no_store(client: Any) -> None:
    response = login(client)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"
    body = response.get_json()
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
    assert body["scope"] == "orders:read profile"
    assert "Set-Cookie" not in response.headers
    me = client.get("/api/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.get_json()["sub"] == "user-alice"


def test_obtain_with_wrong_credentials_is_invalid_grant(client: Any) -> None:
    for username, password in (("alice", "wrong"), ("mallory", PASSWORD)):
        response = login(client, username, password)
        assert response.status_code == 400
        assert response.get_json() == BAD_CREDENTIALS
        assert response.headers["Cache-Control"] == "no-store"
        assert "WWW-Authenticate" not in response.headers


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        ("username=alice&password=x", "application/x-www-form-urlencoded"),
        ("[1]", "application/json"),
        ("{nope", "application/json"),
        (b"\xff\xfe", "application/json"),
        ('{"username": "alice"}', "application/json"),
        ('{"username": 1, "password": []}', "application/json"),
        ("", "application/json"),
    ],
)
def test_obtain_with_a_malformed_body_is_invalid_request(
    client: Any, data: Any, content_type: str
) -> None:
    response = client.post("/auth/token", data=data, content_type=content_type)
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "path", ["/auth/token", "/auth/refresh", "/auth/refresh/logout", "/auth/logout-everywhere"]
)
def test_session_routes_refuse_get_with_405(client: Any, path: str) -> None:
    assert client.get(path).status_code == 405


def test_the_credentials_loader_may_return_only_a_subject(sessions_app: SessionsApp) -> None:
    app = sessions_app()
    guard = app.extensions["jwt_guard"]
    guard.credentials_loader(lambda username, password: "user-bob")
    body = login(app.test_client(), "bob", "x").get_json()
    assert "scope" not in body
    assert app.test_client().get("/api/me", headers=bearer(body["access_token"])).status_code == 200


def test_refresh_rotates_and_keeps_the_session(client: Any) -> None:
    first = login(client).get_json()
    response = refresh(client, first["refresh_token"])
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    second = response.get_json()
    assert second["refresh_token"] != first["refresh_token"]
    sid = client.get("/api/me", headers=bearer(first["access_token"])).get_json()["sid"]
    assert client.get("/api/me", headers=bearer(second["access_token"])).get_json()["sid"] == sid


def test_refresh_narrows_scope_but_never_widens(client: Any) -> None:
    first = login(client).get_json()
    narrowed = refresh(client, first["refresh_token"], scope="profile")
    assert narrowed.get_json()["scope"] == "profile"
    widened = refresh(client, narrowed.get_json()["refresh_token"], scope="admin")
    assert widened.status_code == 400
    assert widened.get_json() == INVALID_GRANT


def test_reuse_revokes_the_family_and_its_access_tokens(client: Any) -> None:
    first = login(client).get_json()
    second = refresh(client, first["refresh_token"]).get_json()
    reused = refresh(client, first["refresh_token"])
    assert reused.status_code == 400
    assert reused.get_json() == INVALID_GRANT
    assert "WWW-Authenticate" not in reused.headers
    assert refresh(client, second["refresh_token"]).status_code == 400
    me = client.get("/api/me", headers=bearer(second["access_token"]))
    assert me.status_code == 401
    assert me.headers["WWW-Authenticate"] == INVALID_TOKEN


@pytest.mark.parametrize("token", ["short", 7, "B" * 43, None, {"a": 1}])
def test_refresh_with_bad_tokens(client: Any, token: Any) -> None:
    response = refresh(client, token)
    if token is None:
        assert response.status_code == 400
        assert response.get_json()["error"] == "invalid_request"
    else:
        assert response.status_code == 400
        assert response.get_json() == INVALID_GRANT


def test_refresh_with_a_non_string_scope_is_invalid_request(client: Any) -> None:
    first = login(client).get_json()
    response = refresh(client, first["refresh_token"], scope=["profile"])
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"


def test_expired_refresh_token_is_invalid_grant(client: Any, clock: FakeClock) -> None:
    first = login(client).get_json()
    clock.advance(14 * 86400 + 1)
    assert refresh(client, first["refresh_token"]).get_json() == INVALID_GRANT


def test_logout_revokes_the_access_token_and_the_session(client: Any) -> None:
    tokens = login(client).get_json()
    response = client.post(
        "/auth/refresh/logout",
        json={"refresh_token": tokens["refresh_token"]},
        headers=bearer(tokens["access_token"]),
    )
    assert response.status_code == 204
    assert response.data == b""
    assert response.headers["Cache-Control"] == "no-store"
    me = client.get("/api/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 401
    assert me.headers["WWW-Authenticate"] == INVALID_TOKEN
    assert refresh(client, tokens["refresh_token"]).get_json() == INVALID_GRANT


def test_logout_with_only_the_access_token_ends_the_session(client: Any) -> None:
    tokens = login(client).get_json()
    response = client.post("/auth/refresh/logout", headers=bearer(tokens["access_token"]))
    assert response.status_code == 204
    assert refresh(client, tokens["refresh_token"]).get_json() == INVALID_GRANT


def test_logout_with_only_the_refresh_token_ends_the_session(client: Any) -> None:
    tokens = login(client).get_json()
    response = client.post("/auth/refresh/logout", json={"refresh_token": tokens["refresh_token"]})
    assert response.status_code == 204
    assert client.get("/api/me", headers=bearer(tokens["access_token"])).status_code == 401


def test_logout_without_credentials_is_401(client: Any) -> None:
    response = client.post("/auth/refresh/logout")
    assert response.status_code == 401
    assert response.get_json() == UNAUTHORIZED
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'


def test_logout_with_an_invalid_access_token_is_401(client: Any) -> None:
    response = client.post("/auth/refresh/logout", headers=bearer("a.b.c"))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == INVALID_TOKEN


def test_logout_everywhere_ends_every_session(client: Any, clock: FakeClock) -> None:
    laptop, phone = login(client).get_json(), login(client).get_json()
    clock.advance(1)
    response = client.post("/auth/logout-everywhere", headers=bearer(phone["access_token"]))
    assert response.status_code == 204
    for session in (laptop, phone):
        assert client.get("/api/me", headers=bearer(session["access_token"])).status_code == 401
        assert refresh(client, session["refresh_token"]).get_json() == INVALID_GRANT
    clock.advance(1)
    fresh = login(client).get_json()
    assert client.get("/api/me", headers=bearer(fresh["access_token"])).status_code == 200


def test_logout_everywhere_needs_an_access_token(client: Any) -> None:
    tokens = login(client).get_json()
    response = client.post(
        "/auth/logout-everywhere", json={"refresh_token": tokens["refresh_token"]}
    )
    assert response.status_code == 401
    assert response.get_json() == UNAUTHORIZED
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'


def test_emergency_rotation_refuses_earlier_tokens(
    sessions_app: SessionsApp, clock: FakeClock
) -> None:
    from jwt_guard_flask.issuing import get_key_manager

    app = sessions_app()
    client = app.test_client()
    tokens = login(client).get_json()
    clock.advance(5)
    get_key_manager(app).emergency_rotate()
    me = client.get("/api/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 401
    assert me.headers["WWW-Authenticate"] == INVALID_TOKEN


def test_revocation_is_the_verifiers(sessions_app: SessionsApp) -> None:
    from jwt_guard_flask.session_routes import get_sessions

    app = sessions_app()
    guard = app.extensions["jwt_guard"]
    assert guard.verifier(app).config.revocation is get_sessions(app).revocation
