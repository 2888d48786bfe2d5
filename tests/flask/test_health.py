"""The opt-in ``health_blueprint``: ``/health/live`` never does I/O, ``/health/ready`` is 200/503.

The app verifies against a loopback JWKS server and keeps sessions in a
password-protected redis-server; the fake clock ages the keys. Every answer
is searched for the password, the JWKS URL's query token and the key's
modulus.
"""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from flask import Flask
from pytest_httpserver import HTTPServer

from jwt_guard_core import StaticKeySet
from jwt_guard_flask.health import health_blueprint
from tests.factories import FakeClock
from tests.flask.conftest import MakeApp
from tests.redis_server import LOCKED_REDIS_PASSWORD, RedisServer, locked_redis

PASSWORD = LOCKED_REDIS_PASSWORD
QUERY_SECRET = "api-key-5f0c1d"

__all__ = ["locked_redis"]
JWKS_PATH = "/jwks.json"


@pytest.fixture
def app_with_health(make_app: MakeApp, httpserver: HTTPServer, rsa_keys: StaticKeySet) -> Any:
    httpserver.expect_request(JWKS_PATH).respond_with_json(
        rsa_keys.jwks(), headers={"Cache-Control": "max-age=600"}
    )

    def _make(**config: Any) -> Flask:
        app = make_app(
            JWT_GUARD_PUBLIC_KEY=None,
            JWT_GUARD_JWKS_URL=httpserver.url_for(JWKS_PATH) + f"?key={QUERY_SECRET}",
            **config,
        )
        app.register_blueprint(health_blueprint, url_prefix="/health")
        return app

    return _make


def _fetches(server: HTTPServer) -> int:
    return sum(1 for request, _ in server.log if request.path == JWKS_PATH)


def _no_secret(response: Any, rsa_keys: StaticKeySet) -> None:
    text = response.get_data(as_text=True)
    for secret in (PASSWORD, QUERY_SECRET, rsa_keys.jwks()["keys"][0]["n"]):
        assert secret not in text


def test_routes_exist_only_when_the_blueprint_is_registered(make_app: MakeApp) -> None:
    assert make_app().test_client().get("/health/live").status_code == 404


def test_live_answers_without_any_fetch(app_with_health: Any, httpserver: HTTPServer) -> None:
    response = app_with_health().test_client().get("/health/live")
    assert response.status_code == 200
    assert response.get_json() == {"status": "alive"}
    assert response.headers["Cache-Control"] == "no-store"
    assert _fetches(httpserver) == 0


def test_ready_then_stale_while_the_jwks_server_is_down(
    app_with_health: Any, httpserver: HTTPServer, clock: FakeClock, rsa_keys: StaticKeySet
) -> None:
    client = app_with_health(JWT_GUARD_JWKS_OPTIONS={"stale_ttl": 3600}).test_client()
    response = client.get("/health/ready")
    assert response.status_code == 200
    (entry,) = response.get_json()["key_sources"]
    assert (entry["state"], entry["kids"]) == ("fresh", 1)
    assert _fetches(httpserver) == 1
    httpserver.clear()
    httpserver.expect_request(JWKS_PATH).respond_with_data("down", status=500)
    clock.advance(1200)
    response = client.get("/health/ready")
    assert response.status_code == 200
    (entry,) = response.get_json()["key_sources"]
    assert (entry["state"], entry["age"], entry["last_error"]) == ("stale", 1200.0, "http_status")
    _no_secret(response, rsa_keys)
    # Past the stale bound nothing can verify: 503.
    clock.advance(3600)
    response = client.get("/health/ready")
    assert response.status_code == 503
    assert response.get_json()["key_sources"][0]["state"] == "unavailable"


def test_ready_is_503_when_redis_is_down_and_never_shows_its_password(
    app_with_health: Any, locked_redis: RedisServer, rsa_keys: StaticKeySet
) -> None:
    client = app_with_health(
        JWT_GUARD_SESSIONS_BACKEND="redis",
        JWT_GUARD_SESSIONS_REDIS_URL=(
            f"redis://:{PASSWORD}@{locked_redis.host}:{locked_redis.port}/0"
        ),
        JWT_GUARD_SESSIONS_REDIS_PREFIX=f"t{secrets.token_hex(4)}",
        JWT_GUARD_REDIS_BREAKER_FAILURES=1,
    ).test_client()
    up = client.get("/health/ready")
    assert up.status_code == 200
    assert up.get_json()["backends"][0]["state"] == "reachable"
    _no_secret(up, rsa_keys)
    locked_redis.stop()
    down = client.get("/health/ready")
    assert down.status_code == 503
    body = down.get_json()
    assert body["status"] == "not_ready"
    assert body["backends"] == [
        {"name": "sessions", "state": "unreachable", "breaker": "open", "error": "ConnectionError"}
    ]
    again = client.get("/health/ready")
    assert again.get_json()["backends"][0]["state"] == "breaker_open"
    for response in (down, again):
        _no_secret(response, rsa_keys)
