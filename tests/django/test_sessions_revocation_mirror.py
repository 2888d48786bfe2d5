"""``SESSIONS["REVOCATION_MIRROR"]``: the Django app reads revocation from its Redis mirror.

A real ``redis-server``. A revocation made in another process (a plain
Python process writing the same Redis, as ``manage.py jwt_guard_revoke``
on another host would) is refused here after the mirror's next refresh,
the step its thread takes every quarter of the bound (the test calls it as
its sync point); with Redis stopped, requests are refused with 503 once
the bound has passed on the injected clock, never accepted.
"""

from __future__ import annotations

import secrets
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.checks import run_checks
from django.test import Client

from jwt_guard_core.sessions import RedisRevocationMirror
from jwt_guard_django.sessions import get_sessions
from tests.django.session_fixtures import alice, bearer, guard_sessions, key_dir, login, post_json
from tests.factories import FakeClock, named
from tests.redis_server import RedisServer, redis_server, start_redis_server

__all__ = ["alice", "guard_sessions", "key_dir", "redis_server"]

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
UNAVAILABLE = {
    "error": "temporarily_unavailable",
    "error_description": "Token verification is temporarily unavailable.",
}
INVALID_TOKEN = 'Bearer realm="api", error="invalid_token"'


def _mirror() -> RedisRevocationMirror:
    store = get_sessions().revocation.store
    assert isinstance(store, RedisRevocationMirror)
    return store


@pytest.fixture
def mirrored(guard_sessions: Callable[..., Any]) -> Iterator[Callable[[RedisServer], str]]:
    """``mirrored(server)``: sessions on ``server`` with the mirror on; returns the prefix."""

    def _configure(server: RedisServer, **more: Any) -> str:
        prefix = f"mirror:{secrets.token_hex(4)}"
        guard_sessions(
            BACKEND="redis",
            REDIS_URL=server.url,
            REDIS_PREFIX=prefix,
            REVOCATION_MIRROR=True,
            **more,
        )
        return prefix

    yield _configure
    _mirror().close()


def revoke_in_another_process(url: str, prefix: str, session_id: str, now: float) -> None:
    code = (
        "import sys\n"
        "from jwt_guard_core.sessions import RedisSessionStore, RevocationService\n"
        "store = RedisSessionStore(sys.argv[1], prefix=sys.argv[2])\n"
        "clock = lambda: float(sys.argv[4])\n"
        "RevocationService(store, clock=clock).revoke_session(sys.argv[3])\n"
    )
    subprocess.run(
        [sys.executable, "-c", code, url, prefix, session_id, repr(now)],
        check=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        timeout=60,
    )


def test_the_verifier_reads_the_mirror(
    mirrored: Any, redis_server: RedisServer, alice: Any
) -> None:
    from jwt_guard_django.verifier import get_verifier

    mirrored(redis_server)
    mirror = _mirror()
    assert get_verifier().config.revocation is get_sessions().revocation
    assert mirror.fresh
    # Four refreshes per bound (the default, 1 s).
    assert mirror.refresh == 0.25


def test_a_revocation_in_another_process_is_refused_after_the_next_refresh(
    mirrored: Any,
    redis_server: RedisServer,
    client: Client,
    alice: Any,
    clock: FakeClock,
    recorded_events: Any,
) -> None:
    prefix = mirrored(redis_server)
    tokens = login(client).json()
    access = tokens["access_token"]
    assert client.get("/api/me/", **bearer(access)).status_code == 200

    from jwt_guard_django.verifier import get_verifier

    session_id = get_verifier().verify(access).claims["sid"]
    revoke_in_another_process(redis_server.url, prefix, session_id, clock())
    _mirror().sync()  # the thread's next step, at most a quarter of the bound away

    refused = client.get("/api/me/", **bearer(access))
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"] == INVALID_TOKEN
    assert [e.reason for e in named(recorded_events, "token_rejected")] == ["revoked"]


def test_a_logout_here_is_refused_here_at_once(
    mirrored: Any, redis_server: RedisServer, client: Client, alice: Any
) -> None:
    mirrored(redis_server)
    tokens = login(client).json()
    logout = post_json(
        client,
        "/auth/refresh/logout/",
        {"refresh_token": tokens["refresh_token"]},
        **bearer(tokens["access_token"]),
    )
    assert logout.status_code == 204
    # No sync: the mirror applies its own process's writes immediately.
    refused = client.get("/api/me/", **bearer(tokens["access_token"]))
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"] == INVALID_TOKEN


def test_redis_stopped_is_503_once_the_bound_has_passed(
    mirrored: Any,
    tmp_path: Path,
    client: Client,
    alice: Any,
    clock: FakeClock,
    recorded_events: Any,
) -> None:
    server = start_redis_server(tmp_path / "redis")
    try:
        mirrored(server, RATE_LIMIT=None, REVOCATION_MAX_STALENESS=0.5)
        access = login(client).json()["access_token"]
        assert client.get("/api/me/", **bearer(access)).status_code == 200
    finally:
        server.stop()
    # Within the bound the copy still answers: no round trip per request.
    assert client.get("/api/me/", **bearer(access)).status_code == 200
    clock.advance(0.51)
    for _ in range(2):
        refused = client.get("/api/me/", **bearer(access))
        assert refused.status_code == 503
        assert refused.json() == UNAVAILABLE
        assert int(refused["Retry-After"]) >= 1
        assert "WWW-Authenticate" not in refused
        clock.advance(60)
    reasons = [e.reason for e in named(recorded_events, "token_rejected")]
    assert reasons == ["revocation_unavailable", "revocation_unavailable"]


@pytest.mark.parametrize(
    ("sessions", "check_id"),
    [
        ({"BACKEND": "memory", "REVOCATION_MIRROR": True}, "jwt_guard.E020"),
        ({"BACKEND": "redis", "REVOCATION_MIRROR": "yes"}, "jwt_guard.E020"),
        (
            {
                "BACKEND": "redis",
                "REDIS_URL": "redis://127.0.0.1:1/0",
                "REVOCATION_MIRROR": True,
                "REVOCATION_MAX_STALENESS": 30,
            },
            "jwt_guard.W019",
        ),
    ],
)
def test_mirror_settings_are_checked_at_start_up(
    settings: Any, sessions: dict[str, Any], check_id: str
) -> None:
    settings.JWT_GUARD = {
        "ALGORITHMS": ["ES256"],
        "ISSUER": "https://issuer.example",
        "AUDIENCE": "api",
        "VERIFYING_KEY": {"keys": []},
        "SESSIONS": sessions,
    }
    ids = [m.id for m in run_checks() if m.id and m.id.startswith("jwt_guard.")]
    assert check_id in ids
