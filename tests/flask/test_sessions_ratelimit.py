"""Failed verifications and logins per client: 429 with Retry-After in the Flask adapter."""

from __future__ import annotations

from typing import Any

from tests.factories import FakeClock
from tests.flask.session_fixtures import SessionsApp, bearer, key_dir, login, sessions_app

__all__ = ["key_dir", "sessions_app"]

TOO_MANY = {
    "error": "too_many_requests",
    "error_description": "Too many failed attempts; retry later.",
}


def test_too_many_bad_tokens_get_429_with_retry_after(sessions_app: SessionsApp) -> None:
    client = sessions_app(RATE_LIMIT=3).test_client()
    for _ in range(3):
        response = client.get("/api/me", headers=bearer("a.b.c"))
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'
    refused = client.get("/api/me", headers=bearer("a.b.c"))
    assert refused.status_code == 429
    assert refused.get_json() == TOO_MANY
    assert refused.headers["Retry-After"] == "60"
    assert "WWW-Authenticate" not in refused.headers


def test_a_limited_client_waits_even_with_a_valid_token_until_the_window_passes(
    sessions_app: SessionsApp, clock: FakeClock
) -> None:
    client = sessions_app(RATE_LIMIT=3).test_client()
    access = login(client).get_json()["access_token"]
    for _ in range(3):
        client.get("/api/me", headers=bearer("a.b.c"))
    assert client.get("/api/me", headers=bearer(access)).status_code == 429
    clock.advance(61)
    assert client.get("/api/me", headers=bearer(access)).status_code == 200


def test_successful_requests_never_count(sessions_app: SessionsApp) -> None:
    client = sessions_app(RATE_LIMIT=3).test_client()
    access = login(client).get_json()["access_token"]
    for _ in range(10):
        assert client.get("/api/me", headers=bearer(access)).status_code == 200


def test_the_key_function_chooses_the_client(sessions_app: SessionsApp) -> None:
    app = sessions_app(RATE_LIMIT=3, RATE_LIMIT_KEY=lambda r: r.headers.get("X-Client", "-"))
    client = app.test_client()
    for _ in range(3):
        client.get("/api/me", headers={**bearer("a.b.c"), "X-Client": "one"})
    assert client.get("/api/me", headers={**bearer("x.y.z"), "X-Client": "one"}).status_code == 429
    assert client.get("/api/me", headers={**bearer("x.y.z"), "X-Client": "two"}).status_code == 401


def test_failed_logins_count(sessions_app: SessionsApp) -> None:
    client = sessions_app(RATE_LIMIT=3).test_client()
    for _ in range(3):
        assert login(client, password="guess").status_code == 400
    refused = login(client)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "60"
    assert refused.headers["Cache-Control"] == "no-store"
    assert refused.get_json() == TOO_MANY


def test_rate_limit_none_turns_it_off(sessions_app: SessionsApp) -> None:
    client = sessions_app(RATE_LIMIT=None).test_client()
    for _ in range(25):
        assert client.get("/api/me", headers=bearer("a.b.c")).status_code == 401


def test_apps_without_sessions_are_not_limited(make_app: Any, mint: Any) -> None:
    from jwt_guard_flask import jwt_required

    app = make_app()

    @app.get("/p")
    @jwt_required()
    def p() -> str:
        return "ok"

    client = app.test_client()
    for _ in range(25):
        assert client.get("/p", headers=bearer("a.b.c")).status_code == 401
    assert client.get("/p", headers=bearer(mint())).status_code == 200


def test_ipv6_clients_of_one_slash_64_share_one_budget(sessions_app: SessionsApp) -> None:
    client = sessions_app(RATE_LIMIT=3).test_client()

    def me(address: str) -> Any:
        return client.get("/api/me", headers=bearer("a.b.c"), environ_base={"REMOTE_ADDR": address})

    for i in range(1, 4):
        assert me(f"2001:db8:5:6::{i:x}").status_code == 401
    refused = me("2001:db8:5:6:ffff::1")
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "60"
    assert me("2001:db8:5:7::1").status_code == 401
