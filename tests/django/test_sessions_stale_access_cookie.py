"""The session views work whatever state the browser's access-token cookie is in.

After "log out everywhere" on another device (or once the access token
expired) the browser still sends the dead access cookie. The middleware
must not lock it out of the ``jwt_exempt`` session views: it can log out
(revoking the session its refresh cookie names, clearing the cookies),
refresh and log in again. A header token and CSRF follow the normal rules;
other views, and unknown URLs, still refuse the dead cookie.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import AsyncClient, Client

from tests.django.session_fixtures import (
    alice,
    bearer,
    guard_sessions,
    key_dir,
    login,
    set_cookie_headers,
)
from tests.factories import FakeClock

__all__ = ["alice", "guard_sessions", "key_dir"]

pytestmark = pytest.mark.django_db

CSRF_FAILED = {"error": "csrf_failed", "error_description": "CSRF verification failed."}
INVALID_TOKEN = 'Bearer realm="api", error="invalid_token"'


@pytest.fixture(autouse=True)
def _sessions(guard_sessions: Callable[..., Any]) -> None:
    guard_sessions(MODE="cookie")


@pytest.fixture
def browser() -> Client:
    """A client that does not skip CSRF checks (the default test client does)."""
    return Client(enforce_csrf_checks=True)


def csrf_header(client: Client) -> dict[str, str]:
    return {"HTTP_X_CSRFTOKEN": client.cookies["csrftoken"].value}


def post(client: Client, path: str, **extra: Any) -> Any:
    return client.post(path, {}, content_type="application/json", **extra)


def logout_everywhere_elsewhere() -> None:
    """A second device of the same user logs in and ends every session."""
    phone = Client(enforce_csrf_checks=True)
    assert login(phone).status_code == 200
    assert post(phone, "/auth/logout-everywhere/", **csrf_header(phone)).status_code == 204


def revoked_browser(browser: Client, clock: FakeClock) -> None:
    assert login(browser).status_code == 200
    clock.advance(1)
    logout_everywhere_elsewhere()
    me = browser.get("/api/me/")
    assert me.status_code == 401
    assert me["WWW-Authenticate"] == INVALID_TOKEN


def test_after_logout_everywhere_elsewhere_the_browser_logs_out_and_its_cookies_are_cleared(
    browser: Client, alice: Any, clock: FakeClock
) -> None:
    revoked_browser(browser, clock)
    response = post(browser, "/auth/refresh/logout/", **csrf_header(browser))
    assert response.status_code == 204
    headers = set_cookie_headers(response)
    assert set(headers) == {"access_token", "refresh_token"}
    assert response.cookies["access_token"]["max-age"] == 0
    assert response.cookies["refresh_token"]["max-age"] == 0


def test_after_logout_everywhere_elsewhere_the_browser_logs_in_again_with_fresh_cookies(
    browser: Client, alice: Any, clock: FakeClock
) -> None:
    revoked_browser(browser, clock)
    old_access = browser.cookies["access_token"].value
    old_refresh = browser.cookies["refresh_token"].value
    # The dead access cookie goes along with the new login (CSRF proof as always).
    response = login(browser, **csrf_header(browser))
    assert response.status_code == 200
    assert response.cookies["access_token"].value != old_access
    assert response.cookies["refresh_token"].value != old_refresh
    assert browser.get("/api/me/").status_code == 200


def test_a_dead_access_cookie_does_not_stop_a_cookie_refresh(
    browser: Client, alice: Any, clock: FakeClock
) -> None:
    assert login(browser).status_code == 200
    clock.advance(1000)  # the access token has expired (beyond the leeway), not the session
    assert browser.get("/api/me/").status_code == 401
    response = post(browser, "/auth/refresh/", **csrf_header(browser))
    assert response.status_code == 200
    assert browser.get("/api/me/").status_code == 200


def test_logout_with_a_dead_access_cookie_still_revokes_the_refresh_cookies_session(
    browser: Client, alice: Any
) -> None:
    assert login(browser).status_code == 200
    spent = browser.cookies["refresh_token"].value
    browser.cookies["access_token"] = "not.a.token"
    response = post(browser, "/auth/refresh/logout/", **csrf_header(browser))
    assert response.status_code == 204
    # The session is revoked, not only forgotten by this browser.
    browser.cookies["refresh_token"] = spent
    refused = post(browser, "/auth/refresh/", **csrf_header(browser))
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_grant"


def test_logout_with_only_a_dead_access_cookie_clears_it(browser: Client, alice: Any) -> None:
    assert login(browser).status_code == 200
    del browser.cookies["refresh_token"]
    browser.cookies["access_token"] = "not.a.token"
    response = post(browser, "/auth/refresh/logout/", **csrf_header(browser))
    assert response.status_code == 204
    assert response.cookies["access_token"]["max-age"] == 0


def test_logout_with_a_dead_access_cookie_still_needs_csrf(browser: Client, alice: Any) -> None:
    assert login(browser).status_code == 200
    browser.cookies["access_token"] = "not.a.token"
    refused = post(browser, "/auth/refresh/logout/")
    assert refused.status_code == 403
    assert refused.json() == CSRF_FAILED
    assert "WWW-Authenticate" not in refused


def test_a_dead_header_token_on_the_session_views_is_still_401(browser: Client, alice: Any) -> None:
    for path in ("/auth/token/", "/auth/refresh/", "/auth/refresh/logout/"):
        response = post(browser, path, **bearer("not.a.token"))
        assert response.status_code == 401, path
        assert response["WWW-Authenticate"] == INVALID_TOKEN


def test_logout_answers_429_when_the_dead_cookie_cannot_be_checked_for_now(
    browser: Client, alice: Any, guard_sessions: Callable[..., Any]
) -> None:
    # Over the failed-verification limit the cookie is not checked at all: a
    # logout that might not have revoked it must not look like one.
    guard_sessions(MODE="cookie", RATE_LIMIT=1)
    assert login(browser).status_code == 200
    browser.cookies["access_token"] = "not.a.token"
    assert browser.get("/api/me/").status_code == 401
    response = post(browser, "/auth/refresh/logout/", **csrf_header(browser))
    assert response.status_code == 429
    assert response.json()["error"] == "too_many_requests"
    assert "Retry-After" in response


def test_other_views_and_unknown_urls_still_refuse_the_dead_access_cookie(
    browser: Client, alice: Any
) -> None:
    assert login(browser).status_code == 200
    browser.cookies["access_token"] = "not.a.token"
    for path in ("/api/me/", "/no/such/page/"):
        response = browser.get(path)
        assert response.status_code == 401, path
        assert response["WWW-Authenticate"] == INVALID_TOKEN


async def test_the_async_middleware_lets_a_dead_access_cookie_through_to_refresh() -> None:
    from jwt_guard_django.sessions import get_sessions

    session = get_sessions().refresh_tokens.issue("user-7")
    client = AsyncClient()
    client.cookies["access_token"] = "not.a.token"
    client.cookies["refresh_token"] = session.refresh_token
    response = await client.post("/auth/refresh/", {}, content_type="application/json")
    assert response.status_code == 200
    assert response.cookies["refresh_token"].value != session.refresh_token
    me = await client.get("/api/me/")
    assert me.status_code == 200
    client.cookies["access_token"] = "not.a.token"
    refused = await client.get("/api/me/")
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"] == INVALID_TOKEN
