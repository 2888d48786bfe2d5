"""Session views in cookie mode: cookie attributes, path scoping and CSRF on real responses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from tests.django.session_fixtures import (
    NO_STORE,
    TOKEN_SHAPE,
    alice,
    attributes,
    guard_sessions,
    key_dir,
    login,
    post_json,
    set_cookie_headers,
)

__all__ = ["alice", "guard_sessions", "key_dir"]

pytestmark = pytest.mark.django_db

CSRF_FAILED = {"error": "csrf_failed", "error_description": "CSRF verification failed."}


@pytest.fixture
def csrf_client() -> Client:
    """A client that does not skip CSRF checks (the default test client does)."""
    return Client(enforce_csrf_checks=True)


@pytest.fixture(autouse=True)
def _sessions(guard_sessions: Callable[..., Any]) -> None:
    guard_sessions(MODE="cookie")


def csrf_header(client: Client) -> dict[str, str]:
    return {"HTTP_X_CSRFTOKEN": client.cookies["csrftoken"].value}


def test_login_sets_httponly_secure_strict_cookies_and_no_tokens_in_the_body(
    csrf_client: Client, alice: Any
) -> None:
    response = login(csrf_client)
    assert response.status_code == 200
    assert response["Cache-Control"] == NO_STORE
    body = response.json()
    assert body == {"token_type": "Bearer", "expires_in": 900}

    headers = set_cookie_headers(response)
    assert set(headers) == {"access_token", "refresh_token", "csrftoken"}
    access = attributes(headers["access_token"])
    assert access == {
        "httponly": "",
        "secure": "",
        "samesite": "Strict",
        "path": "/",
        "max-age": "900",
        "expires": access["expires"],
    }
    refresh = attributes(headers["refresh_token"])
    assert refresh["path"] == "/auth/refresh/"
    assert refresh["samesite"] == "Strict"
    assert "httponly" in refresh
    assert "secure" in refresh
    assert refresh["max-age"] == str(14 * 86400)
    assert TOKEN_SHAPE.fullmatch(response.cookies["refresh_token"].value)
    # Django's CSRF cookie: readable by the page (no HttpOnly) so it can be echoed.
    assert "httponly" not in attributes(headers["csrftoken"])


def test_both_mode_answers_tokens_in_the_body_and_in_cookies(
    client: Client, alice: Any, guard_sessions: Callable[..., Any]
) -> None:
    guard_sessions(MODE="both")
    response = login(client)
    body = response.json()
    assert response.cookies["access_token"].value == body["access_token"]
    assert response.cookies["refresh_token"].value == body["refresh_token"]


def test_cookie_attributes_follow_the_settings(
    client: Client, alice: Any, guard_sessions: Callable[..., Any]
) -> None:
    guard_sessions(
        MODE="cookie",
        COOKIE_SAMESITE="Lax",
        COOKIE_DOMAIN="example.com",
        REFRESH_COOKIE="__Secure-rt",
        REFRESH_COOKIE_PATH="/custom/refresh",
    )
    headers = set_cookie_headers(login(client))
    refresh = attributes(headers["__Secure-rt"])
    assert refresh["samesite"] == "Lax"
    assert refresh["domain"] == "example.com"
    assert refresh["path"] == "/custom/refresh"
    assert attributes(headers["access_token"])["domain"] == "example.com"


def test_cookie_refresh_without_csrf_header_is_refused_with_403(
    csrf_client: Client, alice: Any
) -> None:
    login(csrf_client)
    response = csrf_client.post("/auth/refresh/")
    assert response.status_code == 403
    assert response.json() == CSRF_FAILED
    assert "WWW-Authenticate" not in response
    assert "refresh_token" not in response.cookies


def test_cookie_refresh_with_a_wrong_csrf_header_is_refused(
    csrf_client: Client, alice: Any
) -> None:
    login(csrf_client)
    response = csrf_client.post("/auth/refresh/", HTTP_X_CSRFTOKEN="x" * 64)
    assert response.status_code == 403
    assert response.json() == CSRF_FAILED


def test_cookie_refresh_with_the_csrf_header_rotates_the_cookies(
    csrf_client: Client, alice: Any
) -> None:
    first = login(csrf_client)
    old_refresh = first.cookies["refresh_token"].value
    response = csrf_client.post("/auth/refresh/", **csrf_header(csrf_client))
    assert response.status_code == 200
    assert response.json() == {"token_type": "Bearer", "expires_in": 900}
    headers = set_cookie_headers(response)
    assert response.cookies["refresh_token"].value != old_refresh
    assert attributes(headers["refresh_token"])["path"] == "/auth/refresh/"
    assert "httponly" in attributes(headers["access_token"])


def test_cookie_refresh_reuse_is_refused_with_invalid_grant(
    csrf_client: Client, alice: Any
) -> None:
    login(csrf_client)
    stolen = csrf_client.cookies["refresh_token"].value
    assert csrf_client.post("/auth/refresh/", **csrf_header(csrf_client)).status_code == 200
    csrf_client.cookies["refresh_token"] = stolen
    response = csrf_client.post("/auth/refresh/", **csrf_header(csrf_client))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_cookie_mode_ignores_a_refresh_token_in_the_body(client: Client, alice: Any) -> None:
    guard_body = login(Client()).cookies["refresh_token"].value
    response = post_json(client, "/auth/refresh/", {"refresh_token": guard_body})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_cookie_authenticated_post_needs_the_csrf_header(csrf_client: Client, alice: Any) -> None:
    login(csrf_client)
    refused = csrf_client.post("/auth/refresh/logout/")
    assert refused.status_code == 403
    assert refused.json() == CSRF_FAILED
    assert "WWW-Authenticate" not in refused

    accepted = csrf_client.post("/auth/refresh/logout/", **csrf_header(csrf_client))
    assert accepted.status_code == 204


def test_cookie_get_needs_no_csrf_header(csrf_client: Client, alice: Any) -> None:
    login(csrf_client)
    assert csrf_client.get("/api/me/").status_code == 200


def test_logout_deletes_the_cookies_on_their_own_paths(csrf_client: Client, alice: Any) -> None:
    login(csrf_client)
    response = csrf_client.post("/auth/refresh/logout/", **csrf_header(csrf_client))
    assert response.status_code == 204
    headers = set_cookie_headers(response)
    assert set(headers) == {"access_token", "refresh_token"}
    access = attributes(headers["access_token"])
    refresh = attributes(headers["refresh_token"])
    assert access["max-age"] == "0"
    assert access["path"] == "/"
    assert refresh["max-age"] == "0"
    assert refresh["path"] == "/auth/refresh/"
    for deleted in (access, refresh):
        assert "httponly" in deleted
        assert "secure" in deleted
        assert deleted["samesite"] == "Strict"
    assert response.cookies["access_token"].value == ""


def test_after_cookie_logout_the_old_cookies_are_refused(csrf_client: Client, alice: Any) -> None:
    login(csrf_client)
    access = csrf_client.cookies["access_token"].value
    refresh = csrf_client.cookies["refresh_token"].value
    csrf_client.post("/auth/refresh/logout/", **csrf_header(csrf_client))
    csrf_client.cookies["access_token"] = access
    csrf_client.cookies["refresh_token"] = refresh
    me = csrf_client.get("/api/me/")
    assert me.status_code == 401
    assert me["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'


def test_logout_everywhere_with_the_cookie_needs_csrf_and_clears_cookies(
    csrf_client: Client, alice: Any
) -> None:
    login(csrf_client)
    refused = csrf_client.post("/auth/logout-everywhere/")
    assert refused.status_code == 403
    assert refused.json() == CSRF_FAILED
    accepted = csrf_client.post("/auth/logout-everywhere/", **csrf_header(csrf_client))
    assert accepted.status_code == 204
    assert accepted.cookies["access_token"]["max-age"] == 0


def test_login_rotates_the_csrf_token(csrf_client: Client, alice: Any) -> None:
    first = login(csrf_client).cookies["csrftoken"].value
    second = login(csrf_client, **csrf_header(csrf_client)).cookies["csrftoken"].value
    assert first != second


def test_login_while_holding_an_access_cookie_needs_the_csrf_header(
    csrf_client: Client, alice: Any
) -> None:
    # The browser sends the access cookie along; a forged cross-site login
    # must not swap the victim's session for the attacker's.
    login(csrf_client)
    refused = login(csrf_client)
    assert refused.status_code == 403
    assert refused.json() == CSRF_FAILED
