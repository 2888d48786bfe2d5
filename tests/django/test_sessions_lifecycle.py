"""The whole session life cycle through the Django views, once per backend.

memory, SQLite (a file), Redis (a real redis-server) and the Django model
store: login, use, refresh, reuse detected and the family revoked, logout,
logout everywhere and an emergency key rotation.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from jwt_guard_django.sessions import get_sessions
from tests.django.session_fixtures import (
    alice,
    bearer,
    guard_sessions,
    key_dir,
    login,
    post_json,
)
from tests.factories import FakeClock
from tests.redis_server import redis_server

__all__ = ["alice", "guard_sessions", "key_dir", "redis_server"]

pytestmark = pytest.mark.django_db

BACKENDS = ("memory", "sqlite", "redis", "django")


@pytest.fixture(params=BACKENDS)
def backend(
    request: pytest.FixtureRequest, guard_sessions: Callable[..., Any], tmp_path: Path
) -> Iterator[str]:
    options: dict[str, Any] = {"BACKEND": request.param}
    if request.param == "sqlite":
        options["SQLITE_PATH"] = str(tmp_path / "sessions.db")
    elif request.param == "redis":
        server = request.getfixturevalue("redis_server")
        options["REDIS_URL"] = server.url
        options["REDIS_PREFIX"] = f"test:{secrets.token_hex(4)}"
    guard_sessions(**options)
    yield str(request.param)
    store = get_sessions().store
    close = getattr(store, "close", None)
    if callable(close):
        close()


def refresh(client: Client, token: str) -> Any:
    return post_json(client, "/auth/refresh/", {"refresh_token": token})


def me(client: Client, access: str) -> int:
    return int(client.get("/api/me/", **bearer(access)).status_code)


def test_full_life_cycle(backend: str, client: Client, alice: Any, clock: FakeClock) -> None:
    from jwt_guard_django.issuing import get_key_manager

    # Login and use.
    first = login(client).json()
    assert me(client, first["access_token"]) == 200

    # Rotation.
    clock.advance(60)
    second = refresh(client, first["refresh_token"]).json()
    assert me(client, second["access_token"]) == 200

    # Reuse of the spent token: the family is revoked, its tokens refused.
    reused = refresh(client, first["refresh_token"])
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"
    assert refresh(client, second["refresh_token"]).status_code == 400
    assert me(client, second["access_token"]) == 401

    # A new login; logout ends it (access jti + family).
    third = login(client).json()
    assert me(client, third["access_token"]) == 200
    logout = post_json(
        client,
        "/auth/refresh/logout/",
        {"refresh_token": third["refresh_token"]},
        **bearer(third["access_token"]),
    )
    assert logout.status_code == 204
    assert me(client, third["access_token"]) == 401
    assert refresh(client, third["refresh_token"]).status_code == 400

    # Two sessions; logout everywhere ends both.
    clock.advance(1)
    laptop, phone = login(client).json(), login(client).json()
    clock.advance(1)
    everywhere = post_json(client, "/auth/logout-everywhere/", **bearer(phone["access_token"]))
    assert everywhere.status_code == 204
    for session in (laptop, phone):
        assert me(client, session["access_token"]) == 401
        assert refresh(client, session["refresh_token"]).status_code == 400

    # Emergency rotation: every earlier token is refused.
    clock.advance(1)
    fourth = login(client).json()
    assert me(client, fourth["access_token"]) == 200
    clock.advance(1)
    get_key_manager().emergency_rotate()
    assert me(client, fourth["access_token"]) == 401


def test_revocation_is_wired_into_the_verifier(backend: str, db: Any) -> None:
    from jwt_guard_django.verifier import get_verifier

    assert get_verifier().config.revocation is get_sessions().revocation
