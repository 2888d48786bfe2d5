"""Async session views under a real ASGI server: uvicorn serving a Django site.

``tests/e2e/issuing_apps/self_site`` with ``SESSIONS["ASYNC"] = True`` runs
under ``uvicorn self_site.asgi:application``: the session routes are
``async def`` views awaiting the core's ``alogin``/``arefresh``/``alogout``
on the SQLite store (in worker threads) or on Redis (redis.asyncio, a real
``redis-server``). Over real HTTP: login, refresh, a replay of the spent
refresh token (the session ends, its access token is refused with 401),
logout, and concurrent refreshes of one token of which exactly one wins.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.redis_server import RedisServer, redis_server

from .servers import ROOT, bearer, serving

__all__ = ["redis_server"]

APPS = ROOT / "tests" / "e2e" / "issuing_apps"
PASSPHRASE = "e2e async sessions passphrase 0123456789"
PASSWORD = "correct horse battery staple"
ISSUER = "https://orders.e2e.example"
AUDIENCE = "orders-api"
INVALID_GRANT = {
    "error": "invalid_grant",
    "error_description": "The refresh token is invalid, expired or revoked.",
}


def _uvicorn(port: int) -> list[str]:
    return [sys.executable, "-m", "uvicorn", "--host", "127.0.0.1", "--port", str(port),
            "--lifespan", "off", "self_site.asgi:application"]  # fmt: skip


@pytest.fixture(params=["sqlite", "redis"])
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """``(base URL, server log)`` of the site under uvicorn with async session views."""
    env_vars = {
        "DJANGO_SETTINGS_MODULE": "self_site.settings",
        "E2E_KEY_DIR": str(tmp_path / "keys"),
        "E2E_SESSIONS_DB": str(tmp_path / "sessions.db"),
        "E2E_SESSIONS_ASYNC": "1",
        "E2E_ISSUER": ISSUER,
        "E2E_AUDIENCE": AUDIENCE,
        "E2E_PASSWORD": PASSWORD,
        "JWT_GUARD_KEY_PASSPHRASE": PASSPHRASE,
    }
    if request.param == "redis":
        server: RedisServer = request.getfixturevalue("redis_server")
        server.client().flushall()
        env_vars["E2E_REDIS_URL"] = server.url
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(APPS), str(ROOT)]), **env_vars}
    result = subprocess.run(
        [sys.executable, "-m", "django", "jwt_guard_keygen"],
        cwd=APPS, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    log = tmp_path / "server.log"
    with serving(_uvicorn, APPS, env_vars, log) as url:
        yield url, log


def _login(client: httpx.Client, url: str) -> dict[str, Any]:
    response = client.post(f"{url}/auth/token/", json={"username": "alice", "password": PASSWORD})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_login_refresh_replay_and_logout_under_uvicorn(site: tuple[str, Path]) -> None:
    url, log = site
    with httpx.Client(timeout=10) as client:
        wrong = client.post(f"{url}/auth/token/", json={"username": "alice", "password": "no"})
        assert wrong.status_code == 400
        assert wrong.json() == {
            "error": "invalid_grant",
            "error_description": "The credentials are invalid.",
        }
        first = _login(client, url)
        me = client.get(f"{url}/api/me", headers=bearer(first["access_token"]))
        assert me.status_code == 200
        assert me.json()["subject"] == "7"
        rotated = client.post(
            f"{url}/auth/refresh/", json={"refresh_token": first["refresh_token"]}
        )
        assert rotated.status_code == 200
        newer = rotated.json()
        assert newer["refresh_token"] != first["refresh_token"]
        assert client.get(f"{url}/api/me", headers=bearer(newer["access_token"])).status_code == 200

        # The spent token again: theft is assumed, the whole session ends.
        replay = client.post(f"{url}/auth/refresh/", json={"refresh_token": first["refresh_token"]})
        assert replay.status_code == 400
        assert replay.json() == INVALID_GRANT
        assert replay.headers["Cache-Control"] == "no-store"
        refused = client.get(f"{url}/api/me", headers=bearer(newer["access_token"]))
        assert refused.status_code == 401
        assert refused.headers["WWW-Authenticate"].startswith('Bearer realm="api"')
        assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
        dead = client.post(f"{url}/auth/refresh/", json={"refresh_token": newer["refresh_token"]})
        assert dead.json() == INVALID_GRANT

        # Logout ends a fresh session and its access token.
        third = _login(client, url)
        out = client.post(
            f"{url}/auth/refresh/logout/", json={}, headers=bearer(third["access_token"])
        )
        assert out.status_code == 204
        assert client.get(f"{url}/api/me", headers=bearer(third["access_token"])).status_code == 401
    # The reason is the server's to log, never the client's to read.
    assert "(refresh_token_reused)" in log.read_text()
    assert "refresh_token_reused" not in replay.text
    assert "Traceback" not in log.read_text()


def test_concurrent_refreshes_of_one_token_have_exactly_one_winner(site: tuple[str, Path]) -> None:
    url, _ = site
    with httpx.Client(timeout=10) as client:
        token = _login(client, url)["refresh_token"]

        def refresh(_: int) -> int:
            response = client.post(f"{url}/auth/refresh/", json={"refresh_token": token})
            return response.status_code

        with ThreadPoolExecutor(max_workers=6) as pool:
            statuses = sorted(pool.map(refresh, range(6)))
    assert statuses == [200] + [400] * 5
