"""Production at scale from ``JWT_GUARD`` alone: the shared JWKS cache and the Redis breaker.

``JWKS_SHARED_CACHE`` lets a second verifier (another worker, in
production; here the verifier rebuilt from scratch) take the key set the
first fetched, counted on a real JWKS server on loopback.
``REDIS_BREAKER_*`` opens the session store's breaker after a real
redis-server is stopped: requests fail closed with 503, and after the
cool-down (the injected clock) one probe closes it again. Checks
jwt_guard.E018, W017 and W018.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from jwt_guard_core import StaticKeySet
from jwt_guard_core.shared_jwks import RedisSharedJWKS
from jwt_guard_django.checks import check_settings
from jwt_guard_django.sessions import get_sessions
from jwt_guard_django.verifier import key_sources, reset_verifier
from tests.factories import FakeClock, named, public_pem
from tests.redis_server import (
    RedisServer,
    RestartableRedis,
    redis_client,
    redis_server,
    restartable_redis,
)

__all__ = ["redis_client", "redis_server", "restartable_redis"]

UNAVAILABLE_BODY = {
    "error": "temporarily_unavailable",
    "error_description": "Token verification is temporarily unavailable.",
}


def _ids() -> list[str]:
    return [m.id for m in check_settings()]


def test_a_rebuilt_verifier_takes_the_key_set_from_the_shared_cache(
    client: Any,
    configure: Any,
    httpserver: HTTPServer,
    keyring: Any,
    bearer: Any,
    clock: FakeClock,
    redis_client: Any,
    redis_server: RedisServer,
    recorded_events: list[Any],
) -> None:
    jwks = StaticKeySet.from_pem(public_pem(keyring.rsa), kid="rsa-1").jwks()
    httpserver.expect_request("/jwks.json").respond_with_json(
        jwks, headers={"Cache-Control": "max-age=600"}
    )
    configure(
        VERIFYING_KEY=None,
        JWKS_URL=httpserver.url_for("/jwks.json"),
        JWKS_SHARED_CACHE=redis_server.url,
    )
    (source,) = key_sources().values()
    assert isinstance(source.shared_cache, RedisSharedJWKS)
    assert client.get("/plain/", headers=bearer()).status_code == 200
    # Another worker: a verifier whose own cache is empty.
    reset_verifier()
    clock.advance(45)
    assert client.get("/plain/", headers=bearer()).status_code == 200
    assert sum(1 for request, _ in httpserver.log if request.path == "/jwks.json") == 1
    used = named(recorded_events, "jwks_shared_copy_used")
    assert [e.fields["age"] for e in used] == [45]


def test_redis_down_opens_the_breaker_then_a_probe_closes_it_after_the_cool_down(
    client: Any,
    configure: Any,
    restartable_redis: RestartableRedis,
    bearer: Any,
    clock: FakeClock,
    recorded_events: list[Any],
) -> None:
    configure(
        SESSIONS={
            "BACKEND": "redis",
            "REDIS_URL": restartable_redis.url,
            "REDIS_PREFIX": f"t{secrets.token_hex(4)}",
        },
        REDIS_BREAKER_FAILURES=3,
        REDIS_BREAKER_COOL_DOWN=30,
    )
    breaker = get_sessions().store.breaker
    assert (breaker.name, breaker.failures, breaker.cool_down) == ("redis:sessions", 3, 30.0)
    headers = bearer(jti="j-1")
    assert client.get("/plain/", headers=headers).status_code == 200

    restartable_redis.stop()
    retry_after = []
    for _ in range(7):
        response = client.get("/plain/", headers=headers)
        assert response.status_code == 503
        retry_after.append(response["Retry-After"])
        assert "WWW-Authenticate" not in response
        assert response.json() == UNAVAILABLE_BODY
    # The first request reaches Redis (its failures open the breaker: the
    # revocation read and the rate limiter's counts); after that Retry-After
    # is the wait for the probe, not the default 5 s.
    assert retry_after[0] == "5"
    assert retry_after[-5:] == ["30"] * 5
    assert breaker.state == "open"
    rejected = named(recorded_events, "token_rejected")
    assert [e.reason for e in rejected] == ["revocation_unavailable"] * 7
    opened = named(recorded_events, "breaker_opened")
    assert [(e.fields["breaker"], e.fields["failures"]) for e in opened] == [("redis:sessions", 3)]

    restartable_redis.start()
    clock.advance(29.5)
    assert client.get("/plain/", headers=headers).status_code == 503
    clock.advance(0.5)
    assert breaker.state == "half_open"
    assert client.get("/plain/", headers=headers).status_code == 200
    assert breaker.state == "closed"
    assert [e.name for e in recorded_events if e.name.startswith("breaker_")] == [
        "breaker_opened",
        "breaker_half_open",
        "breaker_closed",
    ]


def test_breaker_off_is_honoured_and_warned_w017(
    configure: Any, restartable_redis: RestartableRedis
) -> None:
    configure(
        SESSIONS={"BACKEND": "redis", "REDIS_URL": restartable_redis.url},
        REDIS_BREAKER=False,
    )
    assert _ids() == ["jwt_guard.W017"]
    assert get_sessions().store.breaker.failures == 0


def test_shared_cache_without_a_remote_key_source_is_warned_w018(
    configure: Any, tmp_path: Path
) -> None:
    configure(JWKS_SHARED_CACHE=str(tmp_path / "jwks"))
    assert _ids() == ["jwt_guard.W018"]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("JWKS_SHARED_CACHE", "jwks-cache"),
        ("JWKS_SHARED_CACHE", "http://user:hunter2@cache.example/"),
        ("JWKS_SHARED_LOCK_TIMEOUT", 0),
        ("REDIS_BREAKER", "yes"),
        ("REDIS_BREAKER_FAILURES", True),
        ("REDIS_BREAKER_COOL_DOWN", -1),
    ],
)
def test_invalid_scale_settings_are_e018(configure: Any, key: str, value: Any) -> None:
    configure(**{key: value})
    messages = check_settings()
    assert [m.id for m in messages] == ["jwt_guard.E018"]
    assert f"JWT_GUARD[{key!r}]" in messages[0].msg
    assert "hunter2" not in messages[0].msg
