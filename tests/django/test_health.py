"""``jwt_guard_django.health_urls``: liveness without I/O, readiness 200 or 503.

Keys from a real JWKS server on loopback, sessions in a real redis-server
(started with a password); time is the fake clock. No answer holds the
Redis password, the token in the JWKS URL's query or key material.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from jwt_guard_core import StaticKeySet
from tests.factories import FakeClock, public_pem
from tests.redis_server import LOCKED_REDIS_PASSWORD, RedisServer, locked_redis

PASSWORD = LOCKED_REDIS_PASSWORD
QUERY_SECRET = "api-key-5f0c1d"

__all__ = ["locked_redis"]


@pytest.fixture(autouse=True)
def health_routes(settings: Any) -> None:
    settings.ROOT_URLCONF = "jwt_guard_django.health_urls"


@pytest.fixture
def jwks(keyring: Any) -> dict[str, Any]:
    return StaticKeySet.from_pem(public_pem(keyring.rsa), kid="rsa-1").jwks()


@pytest.fixture
def remote(configure: Any, httpserver: HTTPServer, jwks: dict[str, Any]) -> HTTPServer:
    httpserver.expect_request("/jwks.json").respond_with_json(
        jwks, headers={"Cache-Control": "max-age=600"}
    )
    configure(
        VERIFYING_KEY=None,
        JWKS_URL=httpserver.url_for("/jwks.json") + f"?key={QUERY_SECRET}",
        JWKS_OPTIONS={"stale_ttl": 3600},
    )
    return httpserver


def _fetches(server: HTTPServer) -> int:
    return sum(1 for request, _ in server.log if request.path == "/jwks.json")


def _no_secret(response: Any, jwks: dict[str, Any]) -> None:
    text = response.content.decode()
    for secret in (PASSWORD, QUERY_SECRET, jwks["keys"][0]["n"]):
        assert secret not in text


def test_live_answers_without_any_fetch(client: Any, remote: HTTPServer) -> None:
    response = client.get("/live")
    assert response.status_code == 200
    assert response.json() == {"status": "alive"}
    assert "no-store" in response["Cache-Control"]
    assert _fetches(remote) == 0


def test_ready_fetches_a_cold_key_set_and_reports_it_fresh(
    client: Any, remote: HTTPServer, jwks: dict[str, Any]
) -> None:
    response = client.get("/ready")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    (entry,) = body["key_sources"]
    assert (entry["state"], entry["kids"], entry["age"]) == ("fresh", 1, 0.0)
    assert entry["url"] == remote.url_for("/jwks.json")
    assert _fetches(remote) == 1
    _no_secret(response, jwks)


def test_ready_reports_stale_keys_with_their_age_while_the_jwks_server_is_down(
    client: Any, remote: HTTPServer, clock: FakeClock, jwks: dict[str, Any]
) -> None:
    assert client.get("/ready").status_code == 200
    remote.clear()
    remote.expect_request("/jwks.json").respond_with_data("down", status=500)
    clock.advance(900)
    response = client.get("/ready")
    assert response.status_code == 200
    (entry,) = response.json()["key_sources"]
    assert (entry["state"], entry["age"], entry["last_error"]) == ("stale", 900.0, "http_status")
    _no_secret(response, jwks)


def test_ready_is_503_when_the_key_set_is_unavailable(
    client: Any, configure: Any, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/down.json").respond_with_data("down", status=503)
    configure(VERIFYING_KEY=None, JWKS_URL=httpserver.url_for("/down.json"))
    response = client.get("/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not_ready"
    assert body["key_sources"][0]["state"] == "unavailable"


def test_ready_is_503_when_redis_is_down_and_never_shows_its_password(
    client: Any,
    configure: Any,
    locked_redis: RedisServer,
    remote: HTTPServer,
    jwks: dict[str, Any],
) -> None:
    configure(
        SESSIONS={
            "BACKEND": "redis",
            "REDIS_URL": f"redis://:{PASSWORD}@{locked_redis.host}:{locked_redis.port}/0",
            "REDIS_PREFIX": f"t{secrets.token_hex(4)}",
        },
        REDIS_BREAKER_FAILURES=1,
    )
    up = client.get("/ready")
    assert up.status_code == 200
    assert up.json()["backends"] == [
        {"name": "sessions", "state": "reachable", "breaker": "closed", "error": None}
    ]
    _no_secret(up, jwks)

    locked_redis.stop()
    down = client.get("/ready")
    assert down.status_code == 503
    assert down.json()["status"] == "not_ready"
    assert down.json()["backends"][0]["state"] == "unreachable"
    assert down.json()["backends"][0]["error"] == "ConnectionError"
    # One failure opened the breaker: the next probe does not even try.
    again = client.get("/ready")
    assert again.status_code == 503
    assert again.json()["backends"][0]["state"] == "breaker_open"
    for response in (down, again):
        _no_secret(response, jwks)
    # The key set stayed fine all along.
    assert json.loads(again.content)["key_sources"][0]["state"] == "fresh"


def test_ready_is_503_not_500_when_the_settings_are_broken(client: Any, configure: Any) -> None:
    configure(ALGORITHMS=None)
    response = client.get("/ready")
    assert response.status_code == 503
    assert response.json()["error"] == "ImproperlyConfigured"


def test_a_jwks_url_with_basic_auth_credentials_is_refused_and_never_shown(
    client: Any, configure: Any, httpserver: HTTPServer
) -> None:
    # Key set URLs may not carry credentials (they would reach logs and
    # events); the probe says the configuration is refused, not what it was.
    url = httpserver.url_for("/jwks.json").replace("://", f"://jwks-user:{PASSWORD}@")
    configure(VERIFYING_KEY=None, JWKS_URL=url)
    response = client.get("/ready")
    assert response.status_code == 503
    assert response.json() == {
        "status": "not_ready",
        "error": "ImproperlyConfigured",
        "key_sources": [],
        "backends": [],
    }
    assert PASSWORD not in response.content.decode()
    assert "jwks-user" not in response.content.decode()


def test_only_get_and_head_are_served(client: Any) -> None:
    assert client.post("/live").status_code == 405
    assert client.post("/ready").status_code == 405
