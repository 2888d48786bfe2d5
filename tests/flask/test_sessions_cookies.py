"""Flask session routes in cookie mode: attributes, path scoping and CSRF on real responses."""

from __future__ import annotations

from typing import Any

import pytest

from tests.flask.session_fixtures import (
    SessionsApp,
    key_dir,
    login,
    sessions_app,
    set_cookies,
)

__all__ = ["key_dir", "sessions_app"]

CSRF_FAILED = {"error": "csrf_failed", "error_description": "CSRF verification failed."}


@pytest.fixture
def client(sessions_app: SessionsApp) -> Any:
    return sessions_app(MODE="cookie").test_client()


def csrf(client: Any) -> dict[str, str]:
    cookie = client.get_cookie("csrf_token")
    assert cookie is not None
    return {"X-CSRF-Token": cookie.value}


def test_login_sets_httponly_secure_strict_cookies_and_a_readable_csrf_cookie(
    client: Any,
) -> None:
    response = login(client)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.get_json() == {
        "token_type": "Bearer",
        "expires_in": 900,
        "scope": "orders:read profile",
    }
    cookies = set_cookies(response)
    assert set(cookies) == {"access_token", "refresh_token", "csrf_token"}
    access, refresh, token = (
        cookies["access_token"],
        cookies["refresh_token"],
        cookies["csrf_token"],
    )
    assert access["path"] == "/"
    assert access["max-age"] == "900"
    assert refresh["path"] == "/auth/refresh"
    assert refresh["max-age"] == str(14 * 86400)
    for cookie in (access, refresh):
        assert "httponly" in cookie
        assert "secure" in cookie
        assert cookie["samesite"] == "Strict"
    # The page must read the CSRF cookie: not HttpOnly, but Secure and Strict.
    assert "httponly" not in token
    assert "secure" in token
    assert token["samesite"] == "Strict"
    assert token["max-age"] == str(14 * 86400)
    assert len(token["value"]) == 43


def test_the_refresh_cookie_is_sent_only_to_the_refresh_path(client: Any) -> None:
    login(client)
    assert client.get("/api/cookies").get_json() == ["access_token", "csrf_token"]


def test_both_mode_puts_the_tokens_in_the_body_and_cookies(sessions_app: SessionsApp) -> None:
    client = sessions_app(MODE="both").test_client()
    response = login(client)
    body = response.get_json()
    cookies = set_cookies(response)
    assert cookies["access_token"]["value"] == body["access_token"]
    assert cookies["refresh_token"]["value"] == body["refresh_token"]


def test_cookie_settings_change_the_attributes(sessions_app: SessionsApp) -> None:
    client = sessions_app(
        MODE="cookie", COOKIE_SAMESITE="Lax", COOKIE_DOMAIN="example.com", REFRESH_COOKIE="rt"
    ).test_client()
    cookies = set_cookies(login(client))
    assert cookies["rt"]["samesite"] == "Lax"
    assert cookies["rt"]["domain"] == "example.com"
    assert cookies["access_token"]["domain"] == "example.com"


def test_cookie_refresh_without_the_csrf_header_is_403(client: Any) -> None:
    login(client)
    response = client.post("/auth/refresh")
    assert response.status_code == 403
    assert response.get_json() == CSRF_FAILED
    assert "WWW-Authenticate" not in response.headers
    assert "Set-Cookie" not in response.headers


def test_cookie_refresh_with_a_wrong_csrf_header_is_403(client: Any) -> None:
    login(client)
    response = client.post("/auth/refresh", headers={"X-CSRF-Token": "x" * 43})
    assert response.status_code == 403
    assert response.get_json() == CSRF_FAILED


def test_cookie_refresh_with_the_csrf_header_rotates_every_cookie(client: Any) -> None:
    login(client)
    old_refresh = client.get_cookie("refresh_token", path="/auth/refresh").value
    old_csrf = client.get_cookie("csrf_token").value
    response = client.post("/auth/refresh", headers=csrf(client))
    assert response.status_code == 200
    cookies = set_cookies(response)
    assert cookies["refresh_token"]["value"] != old_refresh
    assert cookies["csrf_token"]["value"] != old_csrf
    assert cookies["refresh_token"]["path"] == "/auth/refresh"


def test_cookie_reuse_is_invalid_grant(client: Any) -> None:
    login(client)
    stolen = client.get_cookie("refresh_token", path="/auth/refresh").value
    assert client.post("/auth/refresh", headers=csrf(client)).status_code == 200
    client.set_cookie("refresh_token", stolen, path="/auth/refresh")
    response = client.post("/auth/refresh", headers=csrf(client))
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_grant"


def test_cookie_authenticated_post_needs_the_csrf_header(client: Any) -> None:
    login(client)
    refused = client.post("/api/orders")
    assert refused.status_code == 403
    assert refused.get_json() == CSRF_FAILED
    assert "WWW-Authenticate" not in refused.headers
    assert client.post("/api/orders", headers=csrf(client)).status_code == 200
    assert client.get("/api/me").status_code == 200


def test_cookie_logout_needs_csrf_and_deletes_the_cookies_on_their_paths(client: Any) -> None:
    login(client)
    refused = client.post("/auth/refresh/logout")
    assert refused.status_code == 403
    assert refused.get_json() == CSRF_FAILED
    response = client.post("/auth/refresh/logout", headers=csrf(client))
    assert response.status_code == 204
    cookies = set_cookies(response)
    assert set(cookies) == {"access_token", "refresh_token", "csrf_token"}
    for name, path in (("access_token", "/"), ("refresh_token", "/auth/refresh")):
        assert cookies[name]["value"] == ""
        assert cookies[name]["max-age"] == "0"
        assert cookies[name]["path"] == path
        assert "httponly" in cookies[name]
        assert "secure" in cookies[name]
        assert cookies[name]["samesite"] == "Strict"
    assert client.get_cookie("access_token") is None


def test_after_cookie_logout_the_old_access_cookie_is_refused(client: Any) -> None:
    login(client)
    access = client.get_cookie("access_token").value
    client.post("/auth/refresh/logout", headers=csrf(client))
    client.set_cookie("access_token", access)
    response = client.get("/api/me")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'


def test_logout_everywhere_by_cookie_needs_csrf(client: Any) -> None:
    login(client)
    refused = client.post("/auth/logout-everywhere")
    assert refused.status_code == 403
    assert refused.get_json() == CSRF_FAILED
    response = client.post("/auth/logout-everywhere", headers=csrf(client))
    assert response.status_code == 204
    assert set_cookies(response)["access_token"]["max-age"] == "0"


def test_cookie_mode_ignores_a_refresh_token_in_the_body(sessions_app: SessionsApp) -> None:
    app = sessions_app(MODE="cookie")
    token = set_cookies(login(app.test_client()))["refresh_token"]["value"]
    response = app.test_client().post("/auth/refresh", json={"refresh_token": token})
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"
