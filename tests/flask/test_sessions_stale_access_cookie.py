"""The session routes work whatever state the browser's access-token cookie is in.

After "log out everywhere" on another device (or once the access token
expired, or its key was retired) the browser still holds the dead access
cookie. It must be able to log out (revoking the session its refresh cookie
names and clearing the cookies), refresh and log in again. A header token
and CSRF follow the normal rules; other views still refuse the dead cookie.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, jsonify

from jwt_guard_flask import current_token, jwt_required
from jwt_guard_flask._request import deferred_cookie_error
from jwt_guard_flask.decorators import jwt_exempt
from tests.factories import FakeClock
from tests.flask.session_fixtures import (
    SessionsApp,
    bearer,
    key_dir,
    login,
    sessions_app,
    set_cookies,
)

__all__ = ["key_dir", "sessions_app"]

CSRF_FAILED = {"error": "csrf_failed", "error_description": "CSRF verification failed."}
INVALID_TOKEN = 'Bearer realm="api", error="invalid_token"'


@pytest.fixture
def app(sessions_app: SessionsApp) -> Flask:
    return sessions_app(MODE="cookie")


@pytest.fixture
def browser(app: Flask) -> Any:
    return app.test_client()


def csrf(client: Any) -> dict[str, str]:
    cookie = client.get_cookie("csrf_token")
    assert cookie is not None
    return {"X-CSRF-Token": cookie.value}


def refresh_cookie(client: Any) -> str | None:
    cookie = client.get_cookie("refresh_token", path="/auth/refresh")
    return None if cookie is None else str(cookie.value)


def logout_everywhere_elsewhere(app: Flask) -> None:
    """A second device of the same user logs in and ends every session."""
    phone = app.test_client()
    assert login(phone).status_code == 200
    assert phone.post("/auth/logout-everywhere", headers=csrf(phone)).status_code == 204


def revoked_browser(app: Flask, browser: Any, clock: FakeClock) -> None:
    assert login(browser).status_code == 200
    clock.advance(1)
    logout_everywhere_elsewhere(app)
    me = browser.get("/api/me")
    assert me.status_code == 401
    assert me.headers["WWW-Authenticate"] == INVALID_TOKEN


def test_after_logout_everywhere_elsewhere_the_browser_logs_out_and_its_cookies_are_cleared(
    app: Flask, browser: Any, clock: FakeClock
) -> None:
    revoked_browser(app, browser, clock)
    response = browser.post("/auth/refresh/logout", headers=csrf(browser))
    assert response.status_code == 204
    cookies = set_cookies(response)
    assert {name: cookies[name]["max-age"] for name in cookies} == {
        "access_token": "0",
        "refresh_token": "0",
        "csrf_token": "0",
    }
    assert browser.get_cookie("access_token") is None
    assert refresh_cookie(browser) is None


def test_after_logout_everywhere_elsewhere_the_browser_logs_in_again_with_fresh_cookies(
    app: Flask, browser: Any, clock: FakeClock
) -> None:
    revoked_browser(app, browser, clock)
    old_access = browser.get_cookie("access_token").value
    old_refresh = refresh_cookie(browser)
    # The dead access cookie is still sent along with the new login.
    response = login(browser)
    assert response.status_code == 200
    cookies = set_cookies(response)
    assert cookies["access_token"]["value"] != old_access
    assert cookies["refresh_token"]["value"] != old_refresh
    assert browser.get("/api/me").status_code == 200


def test_a_dead_access_cookie_does_not_stop_a_cookie_refresh(
    browser: Any, clock: FakeClock
) -> None:
    assert login(browser).status_code == 200
    clock.advance(1000)  # the access token has expired (beyond the leeway), not the session
    assert browser.get("/api/me").status_code == 401
    response = browser.post("/auth/refresh", headers=csrf(browser))
    assert response.status_code == 200
    assert browser.get("/api/me").status_code == 200


def test_logout_with_a_dead_access_cookie_still_revokes_the_refresh_cookies_session(
    browser: Any,
) -> None:
    assert login(browser).status_code == 200
    spent = refresh_cookie(browser)
    assert spent is not None
    browser.set_cookie("access_token", "not.a.token")
    response = browser.post("/auth/refresh/logout", headers=csrf(browser))
    assert response.status_code == 204
    # The session is revoked, not only forgotten by this browser.
    browser.set_cookie("refresh_token", spent, path="/auth/refresh")
    browser.set_cookie("csrf_token", "proof")
    refused = browser.post("/auth/refresh", headers={"X-CSRF-Token": "proof"})
    assert refused.status_code == 400
    assert refused.get_json()["error"] == "invalid_grant"


def test_logout_with_only_a_dead_access_cookie_clears_it(browser: Any) -> None:
    assert login(browser).status_code == 200
    browser.delete_cookie("refresh_token", path="/auth/refresh")
    browser.set_cookie("access_token", "not.a.token")
    response = browser.post("/auth/refresh/logout", headers=csrf(browser))
    assert response.status_code == 204
    assert set_cookies(response)["access_token"]["max-age"] == "0"
    assert browser.get_cookie("access_token") is None


def test_logout_with_a_dead_access_cookie_still_needs_csrf(browser: Any) -> None:
    assert login(browser).status_code == 200
    browser.set_cookie("access_token", "not.a.token")
    refused = browser.post("/auth/refresh/logout")
    assert refused.status_code == 403
    assert refused.get_json() == CSRF_FAILED
    assert "WWW-Authenticate" not in refused.headers


def test_a_dead_header_token_on_logout_is_still_401(browser: Any) -> None:
    assert login(browser).status_code == 200
    response = browser.post(
        "/auth/refresh/logout", headers={**csrf(browser), **bearer("not.a.token")}
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == INVALID_TOKEN


def test_logout_answers_429_when_the_dead_cookie_cannot_be_checked_for_now(
    sessions_app: SessionsApp,
) -> None:
    # Over the failed-verification limit the cookie is not checked at all: a
    # logout that might not have revoked it must not look like one.
    browser = sessions_app(MODE="cookie", RATE_LIMIT=1).test_client()
    assert login(browser).status_code == 200
    browser.set_cookie("access_token", "not.a.token")
    assert browser.get("/api/me").status_code == 401
    response = browser.post("/auth/refresh/logout", headers=csrf(browser))
    assert response.status_code == 429
    assert response.get_json()["error"] == "too_many_requests"
    assert "Retry-After" in response.headers


def test_other_views_still_refuse_the_dead_access_cookie(browser: Any) -> None:
    assert login(browser).status_code == 200
    browser.set_cookie("access_token", "not.a.token")
    response = browser.post("/api/orders", headers=csrf(browser))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == INVALID_TOKEN


def test_a_jwt_exempt_view_sees_no_token_and_can_ask_why(app: Flask, browser: Any) -> None:
    @app.get("/api/optional")
    @jwt_exempt
    @jwt_required(optional=True)
    def optional() -> Any:
        error = deferred_cookie_error()
        return jsonify(
            sub=current_token.subject if current_token else None,
            reason=error.reason if error else None,
        )

    assert browser.get("/api/optional").get_json() == {"sub": None, "reason": None}
    assert login(browser).status_code == 200
    assert browser.get("/api/optional").get_json() == {"sub": "user-alice", "reason": None}
    browser.set_cookie("access_token", "not.a.token")
    assert browser.get("/api/optional").get_json() == {"sub": None, "reason": "malformed"}
    # A header token chose to be checked: refused as everywhere.
    refused = browser.get("/api/optional", headers=bearer("not.a.token"))
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"] == INVALID_TOKEN
