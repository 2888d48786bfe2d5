"""Production at scale from config keys alone: the shared JWKS cache and the Redis breaker.

``JWT_GUARD_JWKS_SHARED_CACHE`` makes two apps (two processes, in
production) fetch the key set once between them, counted on a real JWKS
server on loopback. ``JWT_GUARD_REDIS_BREAKER_*`` opens the session store's
breaker after a real redis-server is stopped: requests fail closed with 503,
and after the cool-down (the injected clock) one probe closes it again.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from pytest_httpserver import HTTPServer

from jwt_guard_core import ConfigurationError, StaticKeySet
from jwt_guard_core.shared_jwks import FileSharedJWKS, RedisSharedJWKS
from jwt_guard_flask import jwt_required
from jwt_guard_flask._sessions import get_sessions
from tests.factories import FakeClock, named
from tests.flask.conftest import MakeApp, Mint, bearer, expect_error
from tests.redis_server import RestartableRedis, redis_client, redis_server, restartable_redis

__all__ = ["redis_client", "redis_server", "restartable_redis"]

JWKS_PATH = "/.well-known/jwks.json"


def _route(app: Flask) -> Flask:
    @app.get("/x")
    @jwt_required
    def x() -> str:
        return "ok"

    return app


def _jwks_requests(server: HTTPServer) -> int:
    return sum(1 for request, _ in server.log if request.path == JWKS_PATH)


@pytest.mark.parametrize("kind", ["redis", "file"])
def test_two_apps_fetch_the_key_set_once_through_the_shared_cache(
    kind: str,
    make_app: MakeApp,
    httpserver: HTTPServer,
    rsa_keys: StaticKeySet,
    mint: Mint,
    clock: FakeClock,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    recorded_events: list[Any],
) -> None:
    if kind == "redis":
        request.getfixturevalue("redis_client")  # flushed: no copy from another test
        target = request.getfixturevalue("redis_server").url
    else:
        target = str(tmp_path / "jwks-cache")
    httpserver.expect_request(JWKS_PATH).respond_with_json(
        rsa_keys.jwks(), headers={"Cache-Control": "max-age=600"}
    )
    config = {
        "JWT_GUARD_PUBLIC_KEY": None,
        "JWT_GUARD_JWKS_URL": httpserver.url_for(JWKS_PATH),
        "JWT_GUARD_JWKS_SHARED_CACHE": target,
        "JWT_GUARD_JWKS_SHARED_LOCK_TIMEOUT": 12,
    }
    first, second = _route(make_app(**config)), _route(make_app(**config))
    (source,) = first.extensions["jwt_guard"].key_sources(first).values()
    expected = RedisSharedJWKS if kind == "redis" else FileSharedJWKS
    assert isinstance(source.shared_cache, expected)
    assert source._cache.options.shared_lock == 12

    assert first.test_client().get("/x", headers=bearer(mint())).status_code == 200
    clock.advance(30)
    assert second.test_client().get("/x", headers=bearer(mint())).status_code == 200
    assert _jwks_requests(httpserver) == 1
    used = named(recorded_events, "jwks_shared_copy_used")
    assert len(used) == 1
    assert used[0].fields["age"] == 30


def test_shared_cache_keys_are_checked_when_the_app_starts(make_app: MakeApp) -> None:
    with pytest.raises(ConfigurationError) as caught:
        make_app(JWT_GUARD_JWKS_SHARED_CACHE="relative/dir")
    assert caught.value.setting == "JWT_GUARD_JWKS_SHARED_CACHE"
    assert "absolute directory path" in str(caught.value)
    with pytest.raises(ConfigurationError) as caught:
        make_app(JWT_GUARD_JWKS_SHARED_CACHE="memcached://:hunter2@cache:11211")
    assert caught.value.setting == "JWT_GUARD_JWKS_SHARED_CACHE"
    assert "hunter2" not in str(caught.value)
    with pytest.raises(ConfigurationError) as caught:
        make_app(JWT_GUARD_REDIS_BREAKER_FAILURES=0)
    assert caught.value.setting == "JWT_GUARD_REDIS_BREAKER_FAILURES"
    with pytest.raises(ConfigurationError) as caught:
        make_app(JWT_GUARD_REDIS_BREAKER="False")
    assert caught.value.setting == "JWT_GUARD_REDIS_BREAKER"


def test_a_shared_lock_shorter_than_the_fetch_timeout_is_refused(
    make_app: MakeApp, tmp_path: Path
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        make_app(
            JWT_GUARD_PUBLIC_KEY=None,
            JWT_GUARD_JWKS_URL="https://issuer.example/jwks.json",
            JWT_GUARD_JWKS_SHARED_CACHE=str(tmp_path / "c"),
            JWT_GUARD_JWKS_SHARED_LOCK_TIMEOUT=1,
        )
    assert caught.value.setting == "JWT_GUARD_JWKS_SHARED_LOCK_TIMEOUT"
    assert "shorter than the fetch timeout" in str(caught.value)


def test_breaker_off_with_redis_sessions_is_warned(
    make_app: MakeApp, restartable_redis: RestartableRedis, caplog: pytest.LogCaptureFixture
) -> None:
    make_app(
        JWT_GUARD_SESSIONS_BACKEND="redis",
        JWT_GUARD_SESSIONS_REDIS_URL=restartable_redis.url,
        JWT_GUARD_REDIS_BREAKER=False,
    )
    warned = [r.getMessage() for r in caplog.records if "JWT_GUARD_REDIS_BREAKER" in r.getMessage()]
    assert len(warned) == 1
    assert "JWT_GUARD_SESSIONS_REDIS_URL" in warned[0]


def test_redis_down_opens_the_breaker_then_a_probe_closes_it_after_the_cool_down(
    make_app: MakeApp,
    restartable_redis: RestartableRedis,
    mint: Mint,
    clock: FakeClock,
    recorded_events: list[Any],
    security_events: pytest.LogCaptureFixture,
) -> None:
    app = _route(
        make_app(
            JWT_GUARD_SESSIONS_BACKEND="redis",
            JWT_GUARD_SESSIONS_REDIS_URL=restartable_redis.url,
            JWT_GUARD_SESSIONS_REDIS_PREFIX=f"t{secrets.token_hex(4)}",
            JWT_GUARD_REDIS_BREAKER_FAILURES=3,
            JWT_GUARD_REDIS_BREAKER_COOL_DOWN=30,
        )
    )
    breaker = get_sessions(app).side.store.breaker
    assert (breaker.name, breaker.failures, breaker.cool_down) == ("redis:sessions", 3, 30.0)
    client = app.test_client()
    token = mint(jti="j-1")
    assert client.get("/x", headers=bearer(token)).status_code == 200

    restartable_redis.stop()
    for _ in range(2):
        expect_error(client.get("/x", headers=bearer(token)), 503, "temporarily_unavailable")
    assert breaker.state == "open"
    # Open: refused at once, without a call to the server (the message says why).
    for _ in range(5):
        response = client.get("/x", headers=bearer(token))
        expect_error(response, 503, "temporarily_unavailable")
        assert response.headers["Retry-After"] == "30"  # the wait for the probe
    rejected = named(recorded_events, "token_rejected")
    assert [e.reason for e in rejected] == ["revocation_unavailable"] * 7
    assert all(e.fields["status"] == 503 for e in rejected)
    # The store's calls fail with the server's error until the breaker
    # opens, then at once with "circuit open", never reaching the network.
    store_errors = [
        r.getMessage()
        for r in security_events.records
        if r.__dict__.get("jwt_guard_event") == "rate_limit_unavailable"
    ]
    assert "(ConnectionError)" in store_errors[0]
    assert all("(circuit open, next probe in 30 s)" in m for m in store_errors[-5:])
    assert [e.name for e in recorded_events if e.name.startswith("breaker_")] == ["breaker_opened"]

    restartable_redis.start()
    clock.advance(29)
    expect_error(client.get("/x", headers=bearer(token)), 503, "temporarily_unavailable")
    assert breaker.state == "open"
    clock.advance(1)
    assert breaker.state == "half_open"
    assert client.get("/x", headers=bearer(token)).status_code == 200
    assert breaker.state == "closed"
    assert [e.name for e in recorded_events if e.name.startswith("breaker_")] == [
        "breaker_opened",
        "breaker_half_open",
        "breaker_closed",
    ]


def test_every_issuer_of_issuers_shares_the_one_cache(make_app: MakeApp, tmp_path: Path) -> None:
    entry = {"JWKS_URL": "https://a.example/jwks.json", "AUDIENCE": "api"}
    app = make_app(
        JWT_GUARD_PUBLIC_KEY=None,
        JWT_GUARD_ISSUER=None,
        JWT_GUARD_AUDIENCE=None,
        JWT_GUARD_ISSUERS={
            "https://a.example": entry,
            "https://b.example": {**entry, "JWKS_URL": "https://b.example/jwks.json"},
        },
        JWT_GUARD_JWKS_SHARED_CACHE=str(tmp_path / "jwks"),
    )
    sources = app.extensions["jwt_guard"].key_sources(app)
    caches = {id(source.shared_cache) for source in sources.values()}
    assert len(sources) == 2
    assert len(caches) == 1
    assert isinstance(next(iter(sources.values())).shared_cache, FileSharedJWKS)
