"""Readiness as plain data: key sources fresh, stale or unavailable; Redis reachable or not.

A real JWKS server on loopback and real redis-servers; time is the fake
clock. The reports are checked to hold no secret: not a Redis password,
not a token in a JWKS URL's query, not key material.
"""

from __future__ import annotations

import json
from typing import Any

from jwt_guard_core import StaticKeySet
from jwt_guard_core.breaker import CircuitBreaker
from jwt_guard_core.health import health, liveness, readiness, redact_url
from jwt_guard_core.sessions import RedisSessionStore
from jwt_guard_core.shared_jwks import RedisSharedJWKS
from tests.factories import public_pem
from tests.redis_server import LOCKED_REDIS_PASSWORD, locked_redis, restartable_redis

pytest_plugins = ["tests.core.remote_fixtures"]

__all__ = ["locked_redis", "restartable_redis"]

PASSWORD = LOCKED_REDIS_PASSWORD
QUERY_SECRET = "api-key-5f0c1d"


def _served(jwks_server: Any, jwk_a: Any, **headers: str) -> None:
    jwks_server.serve_keys(jwk_a, headers={"Cache-Control": "max-age=600", **headers})


def test_liveness_is_constant() -> None:
    assert liveness() == {"status": "alive"}


def test_a_fetched_key_set_is_fresh_and_ready(jwks_server, jwk_a, make_jwks, clock) -> None:
    _served(jwks_server, jwk_a)
    source = make_jwks(jwks_server.url())
    report = health({"https://issuer.example": source})
    assert jwks_server.count() == 1  # cold: fetched by the probe
    assert report["status"] == "ready"
    assert report["key_sources"] == [
        {
            "issuer": "https://issuer.example",
            "type": "remote",
            "state": "fresh",
            "can_verify": True,
            "kids": 1,
            "age": 0.0,
            "failures": 0,
            "last_error": None,
            "retry_in": None,
            "url": jwks_server.url(),
        }
    ]
    assert report["backends"] == []
    clock.advance(100)
    again = health({"https://issuer.example": source})
    assert jwks_server.count() == 1  # fresh: nothing fetched
    assert again["key_sources"][0]["age"] == 100.0


def test_an_expired_key_set_whose_refresh_fails_is_stale_with_its_age(
    jwks_server, jwk_a, make_jwks, clock
) -> None:
    _served(jwks_server, jwk_a)
    source = make_jwks(jwks_server.url(), stale_ttl=3600)
    health({None: source})
    jwks_server.serve(b"down", status=500)
    clock.advance(700)
    report = health({None: source})
    (entry,) = report["key_sources"]
    assert (entry["issuer"], entry["state"], entry["can_verify"]) == ("*", "stale", True)
    assert entry["age"] == 700.0
    assert entry["last_error"] == "http_status"
    assert entry["failures"] == 1
    assert report["status"] == "ready"
    # In its backoff: the next probe reports without fetching again.
    health({None: source})
    assert jwks_server.count() == 2


def test_a_key_set_that_cannot_be_fetched_is_unavailable_and_not_ready(
    jwks_server, make_jwks, clock
) -> None:
    jwks_server.serve(b"down", status=503)
    report = health({None: make_jwks(jwks_server.url())})
    (entry,) = report["key_sources"]
    assert (entry["state"], entry["can_verify"], entry["kids"]) == ("unavailable", False, 0)
    assert entry["last_error"] == "http_status"
    assert report["status"] == "not_ready"


def test_without_warm_a_cold_key_set_is_reported_without_a_fetch(jwks_server, make_jwks) -> None:
    report = health({None: make_jwks(jwks_server.url())}, warm=False)
    assert report["key_sources"][0]["state"] == "cold"
    assert report["status"] == "ready"
    assert jwks_server.count() == 0


def test_a_static_key_set_can_always_verify(keyring) -> None:
    static = StaticKeySet.from_pem(public_pem(keyring.rsa), kid="rsa-1")
    (entry,) = health({None: static})["key_sources"]
    assert entry == {
        "issuer": "*",
        "type": "static",
        "state": "fresh",
        "can_verify": True,
        "kids": 1,
    }


def test_redis_down_is_unreachable_then_breaker_open_and_not_ready(
    restartable_redis, keyring, clock
) -> None:
    breaker = CircuitBreaker("redis:sessions", failures=2, cool_down=30, clock=clock)
    store = RedisSessionStore(restartable_redis.url, breaker=breaker)
    static = {None: StaticKeySet.from_pem(public_pem(keyring.rsa), kid="rsa-1")}
    up = health(static, {"sessions": store})
    assert up["backends"] == [
        {"name": "sessions", "state": "reachable", "breaker": "closed", "error": None}
    ]
    assert up["status"] == "ready"

    restartable_redis.stop()
    for _ in range(2):
        down = health(static, {"sessions": store})
        assert down["status"] == "not_ready"
        (entry,) = down["backends"]
        assert (entry["state"], entry["error"]) == ("unreachable", "ConnectionError")
    assert breaker.state == "open"
    (entry,) = health(static, {"sessions": store})["backends"]
    assert entry == {"name": "sessions", "state": "breaker_open", "breaker": "open", "error": None}


def test_the_shared_jwks_cache_of_a_key_source_is_a_backend(
    jwks_server, jwk_a, make_jwks, restartable_redis, clock
) -> None:
    _served(jwks_server, jwk_a)
    shared = RedisSharedJWKS(restartable_redis.url, clock=clock)
    report = health({None: make_jwks(jwks_server.url(), shared_cache=shared)})
    assert report["backends"] == [
        {"name": "jwks_shared_cache", "state": "reachable", "breaker": "closed", "error": None}
    ]


def test_a_report_never_holds_a_password_a_url_query_or_key_material(
    jwks_server, jwk_a, make_jwks, locked_redis, clock
) -> None:
    _served(jwks_server, jwk_a)
    url = jwks_server.url() + f"?key={QUERY_SECRET}"
    source = make_jwks(url)
    store = RedisSessionStore(f"redis://:{PASSWORD}@{locked_redis.host}:{locked_redis.port}/0")
    wrong = RedisSessionStore(
        f"redis://:wrong-{PASSWORD}@{locked_redis.host}:{locked_redis.port}/0"
    )
    report = health({"https://issuer.example": source}, {"sessions": store, "other": wrong})
    text = json.dumps(report)
    assert report["backends"][0]["state"] == "reachable"
    assert report["backends"][1]["state"] == "unreachable"
    assert report["backends"][1]["error"] == "AuthenticationError"
    assert report["key_sources"][0]["url"] == jwks_server.url()
    for secret in (PASSWORD, QUERY_SECRET, jwk_a["n"]):
        assert secret not in text


def test_redact_url_keeps_origin_and_path_only() -> None:
    assert redact_url("https://u:p@idp.example:8443/jwks?k=v#f") == "https://idp.example:8443/jwks"
    assert redact_url("http://[::1]:8080/x") == "http://[::1]:8080/x"
    assert redact_url("http://h:bad/x") is None
    assert redact_url(None) is None


def test_readiness_turns_a_failure_to_build_into_503_with_its_class_name(keyring) -> None:
    def broken() -> Any:
        raise RuntimeError("redis://:hunter2@cache/0 is down")

    static = {None: StaticKeySet.from_pem(public_pem(keyring.rsa), kid="rsa-1")}
    status, report = readiness(broken)
    assert (status, report["status"], report["error"]) == (503, "not_ready", "RuntimeError")
    status, report = readiness(lambda: static, {"sessions": broken})
    assert status == 503
    assert report["backends"] == [
        {"name": "sessions", "state": "unavailable", "breaker": None, "error": "RuntimeError"}
    ]
    assert "hunter2" not in json.dumps(report)
    assert readiness(lambda: static)[0] == 200
