"""The async session views (``SESSIONS["ASYNC"]``): the same answers as the sync views.

The sync test client runs them through ``async_to_sync`` (the ORM store's
calls land on the test's own thread); the async client awaits them on the
test's event loop, the way an ASGI server does (Redis through redis.asyncio).
"""

from __future__ import annotations

import asyncio
import importlib
import json
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.checks import Warning as CheckWarning
from django.test import AsyncClient, Client
from django.urls import clear_url_caches, resolve

from jwt_guard_core import ConfigurationError
from jwt_guard_django import session_urls
from jwt_guard_django.checks import check_settings
from jwt_guard_django.sessions import aget_sessions, async_views, get_sessions
from tests.django.session_fixtures import (
    PASSWORD,
    alice,
    bearer,
    guard_sessions,
    key_dir,
    login,
    post_json,
)
from tests.redis_server import RedisServer, redis_server

__all__ = ["alice", "guard_sessions", "key_dir", "redis_server"]

INVALID_GRANT = {
    "error": "invalid_grant",
    "error_description": "The refresh token is invalid, expired or revoked.",
}
BAD_CREDENTIALS = {"error": "invalid_grant", "error_description": "The credentials are invalid."}
ASYNC_URLS = "tests.django.async_session_urls"


def backend_keys(kind: str, tmp_path: Path) -> dict[str, Any]:
    if kind == "sqlite":
        return {"BACKEND": "sqlite", "SQLITE_PATH": str(tmp_path / "sessions.db")}
    return {"BACKEND": kind}


@pytest.fixture(params=["memory", "sqlite", "django"])
def async_sessions(
    request: pytest.FixtureRequest, guard_sessions: Callable[..., Any], tmp_path: Path
) -> Any:
    settings = guard_sessions(ASYNC=True, **backend_keys(request.param, tmp_path))
    settings.ROOT_URLCONF = ASYNC_URLS
    return settings


@pytest.mark.django_db
def test_login_refresh_replay_and_logout_through_the_async_views(
    async_sessions: Any, client: Client, alice: Any
) -> None:
    assert asyncio.iscoroutinefunction(resolve("/auth/token/").func)
    wrong = login(client, password="wrong")
    assert wrong.status_code == 400
    assert wrong.json() == BAD_CREDENTIALS
    first = login(client).json()
    rotated = post_json(client, "/auth/refresh/", {"refresh_token": first["refresh_token"]})
    assert rotated.status_code == 200
    newer = rotated.json()
    assert newer["refresh_token"] != first["refresh_token"]
    assert client.get("/api/me/", **bearer(newer["access_token"])).status_code == 200
    # The replay revokes the family: the newer refresh token and its access token die too.
    replay = post_json(client, "/auth/refresh/", {"refresh_token": first["refresh_token"]})
    assert replay.status_code == 400
    assert replay.json() == INVALID_GRANT
    again = post_json(client, "/auth/refresh/", {"refresh_token": newer["refresh_token"]})
    assert again.json() == INVALID_GRANT
    refused = client.get("/api/me/", **bearer(newer["access_token"]))
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"].startswith('Bearer realm="api", error="invalid_token"')
    # Logout of a fresh session, then logout everywhere of another.
    third = login(client).json()
    out = post_json(client, "/auth/refresh/logout/", {}, **bearer(third["access_token"]))
    assert out.status_code == 204
    assert client.get("/api/me/", **bearer(third["access_token"])).status_code == 401
    fourth = login(client).json()
    everywhere = post_json(client, "/auth/logout-everywhere/", {}, **bearer(fourth["access_token"]))
    assert everywhere.status_code == 204
    gone = post_json(client, "/auth/refresh/", {"refresh_token": fourth["refresh_token"]})
    assert gone.json() == INVALID_GRANT


@pytest.mark.django_db
def test_logout_everywhere_without_a_token_is_401(async_sessions: Any, client: Client) -> None:
    response = post_json(client, "/auth/logout-everywhere/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


@pytest.mark.django_db
def test_the_orm_store_is_reached_on_the_requests_thread(
    guard_sessions: Callable[..., Any], client: Client, alice: Any
) -> None:
    settings = guard_sessions(ASYNC=True, BACKEND="django")
    settings.ROOT_URLCONF = ASYNC_URLS
    sessions = get_sessions()
    threads: list[Any] = []
    store = sessions.store
    spend = store.spend

    def recording(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.current_thread())
        return spend(*args, **kwargs)

    store.spend = recording
    tokens = login(client).json()
    response = post_json(client, "/auth/refresh/", {"refresh_token": tokens["refresh_token"]})
    assert response.status_code == 200
    # sync_to_async(thread_sensitive=True): the thread that owns the test's connection.
    assert threads == [threading.main_thread()]


# -- under an event loop, as ASGI serves them


@pytest.fixture
async def redis_sessions(
    guard_sessions: Callable[..., Any], redis_server: RedisServer
) -> AsyncIterator[Any]:
    redis_server.client().flushall()
    settings = guard_sessions(ASYNC=True, BACKEND="redis", REDIS_URL=redis_server.url)
    settings.ROOT_URLCONF = ASYNC_URLS
    yield settings
    await (await aget_sessions()).astore.aclose()


@pytest.mark.django_db(transaction=True)
async def test_the_async_client_logs_in_refreshes_and_catches_a_replay_over_redis(
    redis_sessions: Any, alice: Any
) -> None:
    client = AsyncClient()

    async def post(path: str, body: dict[str, Any], **extra: Any) -> Any:
        return await client.post(path, body, content_type="application/json", **extra)

    first = (await post("/auth/token/", {"username": "alice", "password": PASSWORD})).json()
    # Two tabs refresh with the same token at once: exactly one rotation wins,
    # the other is a replay and ends the session.
    results = await asyncio.gather(
        post("/auth/refresh/", {"refresh_token": first["refresh_token"]}),
        post("/auth/refresh/", {"refresh_token": first["refresh_token"]}),
    )
    assert sorted(r.status_code for r in results) == [200, 400]
    (winner,) = [r.json() for r in results if r.status_code == 200]
    lost = await post("/auth/refresh/", {"refresh_token": winner["refresh_token"]})
    assert lost.status_code == 400
    assert json.loads(lost.content) == INVALID_GRANT
    me = await client.get("/api/me/", **bearer(winner["access_token"]))
    assert me.status_code == 401


# -- choosing the views, the setting, the check


def test_session_urls_serve_sync_views_unless_async_is_set(
    guard_sessions: Callable[..., Any],
) -> None:
    guard_sessions()
    assert not async_views()
    assert not any(asyncio.iscoroutinefunction(p.callback) for p in session_urls.urlpatterns)
    guard_sessions(ASYNC=True)
    assert async_views()
    try:
        reloaded = importlib.reload(session_urls)
        assert all(asyncio.iscoroutinefunction(p.callback) for p in reloaded.urlpatterns)
        assert [p.name for p in reloaded.urlpatterns] == [
            "obtain",
            "refresh",
            "logout",
            "logout_everywhere",
        ]
    finally:
        guard_sessions()
        importlib.reload(session_urls)
        clear_url_caches()


def test_async_must_be_a_bool(guard_sessions: Callable[..., Any]) -> None:
    guard_sessions(ASYNC="yes")
    with pytest.raises(ConfigurationError) as caught:
        async_views()
    assert caught.value.setting == "JWT_GUARD['SESSIONS']['ASYNC']"
    assert "'yes' is not True or False" in str(caught.value)


def test_w021_async_views_over_the_orm_store(guard_sessions: Callable[..., Any]) -> None:
    guard_sessions(ASYNC=True, BACKEND="django")
    (warning,) = [m for m in check_settings() if m.id == "jwt_guard.W021"]
    assert isinstance(warning, CheckWarning)
    assert "sync_to_async(thread_sensitive=True)" in warning.msg
    assert "JWT_GUARD['SESSIONS']['BACKEND'] 'redis'" in warning.hint
    guard_sessions(ASYNC=True, BACKEND="memory")
    assert not [m for m in check_settings() if m.id == "jwt_guard.W021"]
    guard_sessions(BACKEND="django")
    assert not [m for m in check_settings() if m.id == "jwt_guard.W021"]


@pytest.mark.django_db
def test_the_async_views_take_post_only(async_sessions: Any, client: Client) -> None:
    for route in ("/auth/token/", "/auth/refresh/", "/auth/refresh/logout/"):
        response = client.get(route)
        assert response.status_code == 405
        assert response["Allow"] == "POST"
    assert client.get("/auth/logout-everywhere/").status_code == 405
