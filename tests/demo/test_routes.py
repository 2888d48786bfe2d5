"""The demo's routes: issuer, session cookies, API, key rotation, second device, page."""

from __future__ import annotations

import re
from importlib import resources
from typing import Any

import pytest

from jwt_guard_demo import DemoServer
from tests.factories import FakeClock
from tests.flask.session_fixtures import set_cookies

from .demo_fixtures import csrf_header, log_in

ASSETS = ("index.html", "demo.js", "demo.css")


def test_issuer_routes_name_this_server(demo: DemoServer) -> None:
    client = demo.app.test_client()
    discovery = client.get("/.well-known/openid-configuration").get_json()
    assert discovery == {"issuer": demo.url, "jwks_uri": demo.url + "/.well-known/jwks.json"}
    jwks = client.get("/.well-known/jwks.json")
    assert jwks.headers["Content-Type"] == "application/jwk-set+json"
    assert [k["alg"] for k in jwks.get_json()["keys"]] == ["ES256"]


def test_login_sets_httponly_strict_cookies_and_a_readable_csrf_cookie(
    demo: DemoServer, browser: Any
) -> None:
    response = log_in(browser, demo)
    assert response.status_code == 200
    assert "access_token" not in response.get_json()
    cookies = set_cookies(response)
    for name in ("access_token", "refresh_token"):
        assert "httponly" in cookies[name], name
        assert "secure" in cookies[name], name
        assert cookies[name]["samesite"] == "Strict", name
    assert cookies["refresh_token"]["path"] == "/auth/refresh"
    assert "httponly" not in cookies["csrf_token"]


def test_wrong_password_is_refused(demo: DemoServer, browser: Any) -> None:
    response = browser.post("/auth/token", json={"username": "demo", "password": "guess"})
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_grant"


def test_api_shows_the_claims_it_verified_and_enforces_scopes(
    demo: DemoServer, browser: Any
) -> None:
    assert browser.get("/api/me").status_code == 401
    log_in(browser, demo)
    me = browser.get("/api/me").get_json()
    assert me["subject"] == "user-demo"
    assert me["claims"]["iss"] == demo.url
    assert me["claims"]["aud"] == demo.url + "/api"
    assert me["header"]["typ"] == "at+jwt"
    assert me["scopes"] == ["orders:read", "profile"]
    assert browser.get("/api/orders").status_code == 200
    admin = browser.get("/api/admin")
    assert admin.status_code == 403
    assert admin.headers["WWW-Authenticate"] == (
        'Bearer realm="api", error="insufficient_scope", scope="admin"'
    )


def test_rotation_needs_a_login_and_csrf_proof_and_publishes_the_new_kid(
    demo: DemoServer, browser: Any
) -> None:
    assert browser.post("/demo/rotate").status_code == 401
    log_in(browser, demo)
    assert browser.post("/demo/rotate").status_code == 403  # cookie token, no CSRF header
    before = browser.get("/demo/keys").get_json()["active"]
    response = browser.post("/demo/rotate", headers=csrf_header(browser))
    assert response.status_code == 200
    rotated = response.get_json()
    assert rotated["previous_kid"] == before
    assert rotated["active_kid"] != before
    states = {k["kid"]: k["state"] for k in rotated["keys"]}
    assert states == {before: "retired", rotated["active_kid"]: "active"}
    published = {k["kid"] for k in browser.get("/.well-known/jwks.json").get_json()["keys"]}
    assert published == {before, rotated["active_kid"]}
    # The token signed by the retired key still verifies.
    assert browser.get("/api/me").get_json()["kid"] == before


def test_logout_everywhere_refuses_the_second_devices_token(
    demo: DemoServer, browser: Any, demo_clock: FakeClock
) -> None:
    client = demo.app.test_client()
    assert client.post("/demo/device/call").status_code == 409
    log_in(browser, demo)
    assert client.post("/demo/device/login").status_code == 200
    before = client.post("/demo/device/call").get_json()
    assert before["status"] == 200
    demo_clock.advance(1)
    assert browser.post("/auth/logout-everywhere", headers=csrf_header(browser)).status_code == 204
    after = client.post("/demo/device/call").get_json()
    assert (after["status"], after["reason"]) == (401, "revoked")
    assert after["www_authenticate"] == 'Bearer realm="api", error="invalid_token"'


def test_events_route_returns_what_came_after_a_sequence_number(
    demo: DemoServer, browser: Any
) -> None:
    start = browser.get("/demo/info").get_json()["events_seq"]
    log_in(browser, demo)
    found = browser.get(f"/demo/events?after={start}").get_json()
    assert [e["event"] for e in found["events"]] == ["login_succeeded"]
    assert found["events"][0]["fields"]["subject"] == "user-demo"
    assert browser.get(f"/demo/events?after={found['last']}").get_json()["events"] == []
    # Garbage is read as 0, never a 500.
    assert browser.get("/demo/events?after=-1x").status_code == 200


def test_info_never_shows_the_password(demo: DemoServer) -> None:
    text = demo.app.test_client().get("/demo/info").get_data(as_text=True)
    assert demo.password not in text
    assert '"username":"demo"' in text.replace(" ", "")


@pytest.mark.parametrize("path", ["/", "/static/demo.js", "/static/demo.css"])
def test_page_and_assets_are_served_under_a_strict_content_security_policy(
    demo: DemoServer, path: str
) -> None:
    with demo.app.test_client().get(path) as response:
        assert response.status_code == 200
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self'" in policy
    assert "connect-src 'self'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("asset", ASSETS)
def test_assets_load_nothing_from_elsewhere(asset: str) -> None:
    text = (resources.files("jwt_guard_demo") / "static" / asset).read_text()
    assert not re.search(r"https?:", text, re.IGNORECASE)
    # No protocol-relative URLs in attributes, strings or CSS url(...).
    assert not re.search(r"""(?:["'(=]\s*)//""", text)
    assert "@import" not in text


def test_page_links_only_its_own_assets() -> None:
    html = (resources.files("jwt_guard_demo") / "static" / "index.html").read_text()
    links = re.findall(r"""(?:src|href)\s*=\s*"([^"]*)\"""", html)
    assert sorted(links) == ["static/demo.css", "static/demo.js"]


def test_logout_everywhere_ends_the_token_that_asked_for_it(
    demo: DemoServer, browser: Any, demo_clock: FakeClock
) -> None:
    log_in(browser, demo)
    access = browser.get_cookie("access_token").value
    demo_clock.advance(0.5)  # the same second as the login
    assert browser.post("/auth/logout-everywhere", headers=csrf_header(browser)).status_code == 204
    copy = demo.app.test_client(use_cookies=False)
    demo_clock.advance(1)
    refused = copy.get("/api/me", headers={"Authorization": f"Bearer {access}"})
    assert refused.status_code == 401
