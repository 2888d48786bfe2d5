"""``JWT_GUARD_SESSIONS_REVOCATION_MIRROR``: Flask apps read revocation from a Redis mirror.

A real ``redis-server``. Two app instances with their own Redis clients and
mirrors stand for two processes of one service: a logout in one is refused
in the other after that one's next refresh (the step its thread takes every
quarter of the bound; the test calls it as its sync point). With Redis
stopped, requests are refused with 503 once the bound has passed on the
injected clock, never accepted.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from jwt_guard_core import ConfigurationError
from jwt_guard_core.sessions import RedisRevocationMirror
from jwt_guard_flask import JWTGuard
from jwt_guard_flask._sessions import get_sessions
from jwt_guard_flask.issuing import build_issuing
from tests.factories import AUDIENCE, ISSUER, FakeClock, named
from tests.flask.conftest import expect_error
from tests.flask.session_fixtures import (
    PASSPHRASE,
    bearer,
    build_sessions_app,
    key_dir,
    login,
)
from tests.redis_server import RedisServer, redis_server, start_redis_server

__all__ = ["key_dir", "redis_server"]

INVALID_TOKEN = 'Bearer realm="api", error="invalid_token"'


def mirror_of(app: Flask) -> RedisRevocationMirror:
    store = get_sessions(app).revocation.store
    assert isinstance(store, RedisRevocationMirror)
    return store


@pytest.fixture
def make_app(
    key_dir: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., Flask]]:
    """``make_app(server, prefix, **sessions_suffixes)``: an app instance with the mirror on."""
    monkeypatch.setenv("JWT_GUARD_KEY_PASSPHRASE", PASSPHRASE)
    made: list[Flask] = []

    def _make(server: RedisServer, prefix: str, **suffixes: Any) -> Flask:
        sessions = {
            "BACKEND": "redis",
            "REDIS_URL": server.url,
            "REDIS_PREFIX": prefix,
            "REVOCATION_MIRROR": True,
            **suffixes,
        }
        config = {"TESTING": True, **{f"JWT_GUARD_SESSIONS_{k}": v for k, v in sessions.items()}}
        app = build_sessions_app(f"mirror_{len(made)}", key_dir, clock, config)
        made.append(app)
        return app

    yield _make
    for app in made:
        mirror_of(app).close()


def test_a_logout_in_one_instance_is_refused_in_the_other_after_its_next_refresh(
    make_app: Callable[..., Flask], redis_server: RedisServer, recorded_events: Any
) -> None:
    prefix = f"mirror:{secrets.token_hex(4)}"
    first, second = make_app(redis_server, prefix), make_app(redis_server, prefix)
    assert mirror_of(first) is not mirror_of(second)
    assert mirror_of(second).refresh == 0.25  # four refreshes per bound (1 s)
    one, other = first.test_client(), second.test_client()
    tokens = login(one).get_json()
    access = tokens["access_token"]
    assert other.get("/api/me", headers=bearer(access)).status_code == 200

    logout = one.post(
        "/auth/refresh/logout",
        json={"refresh_token": tokens["refresh_token"]},
        headers=bearer(access),
    )
    assert logout.status_code == 204
    # The instance that logged out applies its own write at once.
    expect_error(one.get("/api/me", headers=bearer(access)), 401, "invalid_token")
    mirror_of(second).sync()  # its thread's next step, at most a quarter of the bound away
    refused = other.get("/api/me", headers=bearer(access))
    expect_error(refused, 401, "invalid_token", www_authenticate=INVALID_TOKEN)
    reasons = [e.reason for e in named(recorded_events, "token_rejected")]
    assert reasons == ["revoked", "revoked"]


def test_redis_stopped_is_503_once_the_bound_has_passed(
    make_app: Callable[..., Flask], tmp_path: Path, clock: FakeClock, recorded_events: Any
) -> None:
    server = start_redis_server(tmp_path / "redis")
    try:
        app = make_app(server, "mirror", RATE_LIMIT=None, REVOCATION_MAX_STALENESS=0.5)
        client = app.test_client()
        access = login(client).get_json()["access_token"]
        assert client.get("/api/me", headers=bearer(access)).status_code == 200
    finally:
        server.stop()
    # Within the bound the copy still answers: no round trip per request.
    assert client.get("/api/me", headers=bearer(access)).status_code == 200
    clock.advance(0.51)
    for _ in range(2):
        expect_error(client.get("/api/me", headers=bearer(access)), 503, "temporarily_unavailable")
        clock.advance(60)
    reasons = [e.reason for e in named(recorded_events, "token_rejected")]
    assert reasons == ["revocation_unavailable", "revocation_unavailable"]


@pytest.mark.parametrize(
    ("suffixes", "message"),
    [
        (
            {"BACKEND": "memory", "REVOCATION_MIRROR": True},
            "JWT_GUARD_SESSIONS_REVOCATION_MIRROR: mirrors a Redis session store only; "
            "the backend is 'memory', not 'redis'",
        ),
        (
            {"BACKEND": "memory", "REVOCATION_MIRROR": "true"},
            "JWT_GUARD_SESSIONS_REVOCATION_MIRROR: 'true' is not True or False",
        ),
        (
            {"BACKEND": "memory", "REVOCATION_MAX_STALENESS": 0},
            "JWT_GUARD_SESSIONS_REVOCATION_MAX_STALENESS: 0 is not a number of seconds "
            "from 0.05 to 60",
        ),
    ],
)
def test_bad_mirror_settings_are_refused_by_name(
    suffixes: dict[str, Any], message: str, base_config: dict[str, Any]
) -> None:
    app = Flask("bad_mirror")
    app.config.update(base_config)
    app.config.update({f"JWT_GUARD_SESSIONS_{k}": v for k, v in suffixes.items()})
    with pytest.raises(ConfigurationError) as caught:
        JWTGuard(app)
    assert str(caught.value) == message


def test_a_long_bound_is_warned_about_at_start_up(
    base_config: dict[str, Any], redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    app = Flask("slow_mirror")
    app.config.update(base_config)
    app.config.update(
        JWT_GUARD_SESSIONS_BACKEND="redis",
        JWT_GUARD_SESSIONS_REDIS_URL=redis_server.url,
        JWT_GUARD_SESSIONS_REDIS_PREFIX=f"mirror:{secrets.token_hex(4)}",
        JWT_GUARD_SESSIONS_REVOCATION_MIRROR=True,
        JWT_GUARD_SESSIONS_REVOCATION_MAX_STALENESS=30,
    )
    caplog.set_level("WARNING", logger="jwt_guard")
    JWTGuard(app)
    try:
        assert any(
            "JWT_GUARD_SESSIONS_REVOCATION_MAX_STALENESS is 30 s" in r.getMessage()
            for r in caplog.records
        )
    finally:
        mirror_of(app).close()


def test_an_emergency_epoch_in_the_key_store_alone_is_read_once_per_refresh(
    make_app: Callable[..., Flask],
    redis_server: RedisServer,
    key_dir: Path,
    clock: FakeClock,
    recorded_events: Any,
) -> None:
    # An emergency rotation whose revocation write did not happen (a tool
    # without sessions, or the store down then) is in the key ring only. With
    # the mirror on, the key store is read as often as the mirror refreshes
    # (a quarter of the bound: 15 s here), not on every request.
    app = make_app(redis_server, f"mirror:{secrets.token_hex(4)}", REVOCATION_MAX_STALENESS=60)
    client = app.test_client()
    access = login(client).get_json()["access_token"]
    assert client.get("/api/me", headers=bearer(access)).status_code == 200
    clock.advance(1)
    tool = {
        "JWT_GUARD_ISSUING_KEY_DIR": str(key_dir),
        "JWT_GUARD_ISSUING_ISSUER": ISSUER,
        "JWT_GUARD_ISSUING_AUDIENCE": AUDIENCE,
        "JWT_GUARD_CLOCK": clock,
    }
    build_issuing(tool).keys.emergency_rotate()
    mirror_of(app).sync()
    # Read 1 s ago: within the refresh interval, the epoch is not read again.
    assert client.get("/api/me", headers=bearer(access)).status_code == 200
    clock.advance(15)
    mirror_of(app).sync()
    refused = client.get("/api/me", headers=bearer(access))
    expect_error(refused, 401, "invalid_token", www_authenticate=INVALID_TOKEN)
    assert [e.reason for e in named(recorded_events, "token_rejected")] == ["revoked"]


def test_at_most_every_reads_again_after_the_interval_and_after_an_error() -> None:
    from jwt_guard_core.settings.sides import at_most_every

    now = [100.0]
    answers: list[Any] = [1.0, RuntimeError("store down"), 2.0]
    reads: list[float] = []

    def read() -> float | None:
        reads.append(now[0])
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer  # type: ignore[no-any-return]

    remembered = at_most_every(read, 0.25, lambda: now[0])
    assert remembered() == 1.0
    now[0] += 0.2
    assert remembered() == 1.0
    now[0] += 0.05
    with pytest.raises(RuntimeError):
        remembered()
    assert remembered() == 2.0
    assert reads == [100.0, 100.25, 100.25]
