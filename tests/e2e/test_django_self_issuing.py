"""A one-worker Django service that logs users in, issues their tokens and verifies them itself.

``tests/e2e/issuing_apps/self_site`` sets ``JWT_GUARD["KEY_SOURCE"] =
"ISSUING"``: the verifier reads the keys from the issuing key manager in
process. Under ``gunicorn --workers 1`` a verifier that fetched the site's
own JWKS over HTTP would wait on the only worker, which is busy waiting for
it; this one answers. A rotation by the management command, in another
process, is seen by the running server without a restart: the next login
signs with the new key, tokens of the retired key still verify, and after
an emergency rotation they do not.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from jwt_guard_core.encoding import b64url_decode

from .servers import ROOT, bearer, serving

APPS = ROOT / "tests" / "e2e" / "issuing_apps"
PASSPHRASE = "e2e self-issuing passphrase 0123456789"
PASSWORD = "correct horse battery staple"
ISSUER = "https://orders.e2e.example"
AUDIENCE = "orders-api"


def _one_worker(port: int) -> list[str]:
    bind = f"127.0.0.1:{port}"
    return [sys.executable, "-m", "gunicorn", "--bind", bind, "--workers", "1",
            "self_site.wsgi:application"]  # fmt: skip


def _kid(token: str) -> str:
    return str(json.loads(b64url_decode(token.split(".")[0]))["kid"])


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[str, Callable[..., None]]]:
    """``(base URL, manage)``: the served site and a runner of its management commands."""
    env_vars = {
        "DJANGO_SETTINGS_MODULE": "self_site.settings",
        "E2E_KEY_DIR": str(tmp_path / "keys"),
        "E2E_SESSIONS_DB": str(tmp_path / "sessions.db"),
        "E2E_ISSUER": ISSUER,
        "E2E_AUDIENCE": AUDIENCE,
        "E2E_PASSWORD": PASSWORD,
        "JWT_GUARD_KEY_PASSPHRASE": PASSPHRASE,
    }
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(APPS), str(ROOT)]), **env_vars}

    def manage(*args: str) -> None:
        result = subprocess.run(
            [sys.executable, "-m", "django", *args],
            cwd=APPS,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr

    manage("jwt_guard_keygen")
    with serving(_one_worker, APPS, env_vars, tmp_path / "server.log") as url:
        yield url, manage


def _login(url: str) -> str:
    response = httpx.post(
        f"{url}/auth/token/", json={"username": "alice", "password": PASSWORD}, timeout=10
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def _me(url: str, token: str | None) -> httpx.Response:
    return httpx.get(f"{url}/api/me", headers=bearer(token) if token else {}, timeout=10)


def test_a_one_worker_server_verifies_the_tokens_it_issues_across_rotations(
    site: tuple[str, Callable[..., None]],
) -> None:
    url, manage = site
    first = _login(url)
    answer = _me(url, first)
    assert answer.status_code == 200
    assert answer.json() == {"subject": "7", "kid": _kid(first)}
    refused = _me(url, None)
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"] == 'Bearer realm="api"'
    wrong = _me(url, first[:-4] + ("AAAA" if not first.endswith("AAAA") else "BBBB"))
    assert wrong.status_code == 401
    assert wrong.headers["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'

    # A rotation by another process: the running server signs and verifies with it.
    manage("jwt_guard_rotate_keys")
    second = _login(url)
    assert _kid(second) != _kid(first)
    assert _me(url, second).json() == {"subject": "7", "kid": _kid(second)}
    assert _me(url, first).status_code == 200  # the retired key is still published

    # An emergency rotation: every earlier token is refused at once.
    manage("jwt_guard_rotate_keys", "--emergency", "--reason", "e2e")
    for old in (first, second):
        gone = _me(url, old)
        assert gone.status_code == 401
        assert gone.headers["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'
    third = _login(url)
    assert _me(url, third).json() == {"subject": "7", "kid": _kid(third)}
