"""Round trip: a token issued here verifies through RemoteJWKS against the adapters' JWKS route.

A real server (gunicorn or uvicorn for Django, gunicorn for Flask) serves
``/.well-known/jwks.json`` from a key store directory; the test issues
tokens with ``TokenIssuer`` over the same directory and verifies them
through a ``RemoteJWKS`` pointed at the route, before and after a rotation
done by the management command, the flask CLI or the core CLI, and after an
emergency rotation, where the old tokens fail with ``unknown_kid``.

No sleeping: the verifier's ``RemoteJWKS`` runs on a fake clock that is
advanced past the unknown-kid cooldown between phases, so each new kid is
fetched exactly as a long-running verifier would fetch it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from jwt_guard_core import GuardConfig, UnknownKid, Verifier
from jwt_guard_core.encoding import b64url_decode
from jwt_guard_core.remote import RemoteJWKS
from jwt_guard_core.signing import FileKeyStore, KeyManager, TokenIssuer
from tests.factories import FakeClock

from .servers import ROOT, gunicorn, serving

APPS = ROOT / "tests" / "e2e" / "issuing_apps"
PASSPHRASE = "e2e issuing passphrase 0123456789"
ISSUER = "https://auth.e2e.example"
AUDIENCE = "orders-api"
COOLDOWN = 30.0  # RemoteJWKS's unknown_kid_cooldown, passed explicitly below

DJANGO_ENV = {"DJANGO_SETTINGS_MODULE": "issuer_site.settings"}
FLASK_APP = "flask_issuer:create_app"


def _uvicorn(app: str) -> Callable[[int], list[str]]:
    def command(port: int) -> list[str]:
        bind = ["--host", "127.0.0.1", "--port", str(port)]
        return [sys.executable, "-m", "uvicorn", *bind, "--lifespan", "off", app]

    return command


SERVERS: dict[str, tuple[Callable[[int], list[str]], dict[str, str], list[str]]] = {
    # name: (server command, environment, keygen command)
    "django-gunicorn": (
        gunicorn("issuer_site.wsgi:application"),
        DJANGO_ENV,
        ["-m", "django", "jwt_guard_keygen"],
    ),
    "django-uvicorn": (
        _uvicorn("issuer_site.asgi:application"),
        DJANGO_ENV,
        ["-m", "django", "jwt_guard_keygen"],
    ),
    "flask-gunicorn": (
        gunicorn(f"{FLASK_APP}()"),
        {},
        ["-m", "flask", "--app", FLASK_APP, "jwt-guard", "keygen"],
    ),
}


def _rotate_command(tool: str, key_dir: Path) -> list[str]:
    return {
        "manage": ["-m", "django", "jwt_guard_rotate_keys"],
        "flask-cli": ["-m", "flask", "--app", FLASK_APP, "jwt-guard", "rotate"],
        "core-cli": ["-m", "jwt_guard_core.cli", "rotate", "--store", str(key_dir)],
    }[tool]


class Site:
    """One issuing service under a real server, its key directory and its tools."""

    def __init__(self, url: str, key_dir: Path, env: dict[str, str]) -> None:
        self.url = url
        self.jwks_url = f"{url}/.well-known/jwks.json"
        self.key_dir = key_dir
        self.env = env

    def run(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, *args],
            cwd=APPS,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    def served_kids(self) -> list[str]:
        response = httpx.get(self.jwks_url)
        assert response.status_code == 200
        return [k["kid"] for k in response.json()["keys"]]


@pytest.fixture(
    params=[
        ("django-gunicorn", "manage"),
        ("django-uvicorn", "core-cli"),
        ("flask-gunicorn", "flask-cli"),
        ("flask-gunicorn", "core-cli"),
    ],
    ids=lambda p: "-".join(p),
)
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Site, str, str]]:
    """``(site, server name, rotation tool)``; the first key is made by the adapter's keygen."""
    server, tool = request.param
    command, server_env, keygen = SERVERS[server]
    key_dir = tmp_path / "keys"
    env_vars = {
        **server_env,
        "E2E_KEY_DIR": str(key_dir),
        "E2E_ISSUER": ISSUER,
        "E2E_AUDIENCE": AUDIENCE,
        "JWT_GUARD_KEY_PASSPHRASE": PASSPHRASE,
    }
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(APPS), str(ROOT)]),
        **env_vars,
    }
    Site("", key_dir, env).run(*keygen)
    with serving(command, APPS, env_vars, tmp_path / "server.log") as url:
        yield Site(url, key_dir, env), server, tool


def _kid(token: str) -> str:
    header = json.loads(b64url_decode(token.split(".")[0]))
    return str(header["kid"])


def _verifier(jwks_url: str, clock: FakeClock) -> tuple[Verifier, RemoteJWKS]:
    remote = RemoteJWKS(
        jwks_url, allow_http=True, unknown_kid_cooldown=COOLDOWN, refresh_ahead=None, clock=clock
    )
    config = GuardConfig(
        keys=remote,
        algorithms=["ES256"],
        issuer=ISSUER,
        audience=AUDIENCE,
        expected_type="at+jwt",
        clock=clock,
    )
    return Verifier(config), remote


def test_tokens_verify_through_the_served_jwks_across_rotations(
    site: tuple[Site, str, str],
) -> None:
    served, server, tool = site
    issuer = TokenIssuer(
        KeyManager(FileKeyStore(served.key_dir, passphrase=PASSPHRASE)),
        issuer=ISSUER,
        audience=AUDIENCE,
    )
    clock = FakeClock(time.time())
    verifier, remote = _verifier(served.jwks_url, clock)
    try:
        # Phase 1: the key keygen made signs, and the route publishes it.
        first = issuer.issue_access_token("customer-1", scopes=["orders:read"])
        assert served.served_kids() == [_kid(first)]
        verified = verifier.verify(first)
        assert verified.subject == "customer-1"
        assert verified.kid == _kid(first)
        response = httpx.get(served.jwks_url)
        assert response.headers["Content-Type"] == "application/jwk-set+json"
        assert response.headers["Cache-Control"] == "public, max-age=600"

        # Phase 2: a rotation by the tool; the new kid is fetched on first
        # sight, and the retired key still verifies the tokens it signed.
        served.run(*_rotate_command(tool, served.key_dir))
        second = issuer.issue_access_token("customer-2")
        assert _kid(second) != _kid(first)
        assert served.served_kids() == [_kid(second), _kid(first)]
        clock.advance(COOLDOWN + 1)
        assert verifier.verify(second).kid == _kid(second)
        assert verifier.verify(first).subject == "customer-1"

        # Phase 3: an emergency rotation; every earlier token is refused.
        served.run(*_rotate_command(tool, served.key_dir), "--emergency")
        third = issuer.issue_access_token("customer-3")
        assert served.served_kids() == [_kid(third)]
        clock.advance(COOLDOWN + 1)
        assert verifier.verify(third).subject == "customer-3"
        fresh, fresh_remote = _verifier(served.jwks_url, clock)
        try:
            for old in (first, second):
                for checker in (verifier, fresh):
                    with pytest.raises(UnknownKid) as refused:
                        checker.verify(old)
                    assert refused.value.reason == "unknown_kid"
            assert fresh.verify(third).kid == _kid(third)
        finally:
            fresh_remote.close()
    finally:
        remote.close()

    if server.startswith("flask"):
        _the_flask_service_verifies_its_own_tokens(served, first, third)


def _the_flask_service_verifies_its_own_tokens(served: Site, old: str, current: str) -> None:
    ok = httpx.get(f"{served.url}/api/me", headers={"Authorization": f"Bearer {current}"})
    assert ok.status_code == 200
    assert ok.json() == {"subject": "customer-3", "kid": _kid(current)}
    refused = httpx.get(f"{served.url}/api/me", headers={"Authorization": f"Bearer {old}"})
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'
    assert refused.json()["error"] == "invalid_token"


def test_discovery_document_leads_a_verifier_to_the_jwks(tmp_path: Path) -> None:
    """The served discovery document names the configured issuer and its JWKS URI."""
    key_dir = tmp_path / "keys"
    env_vars = {
        **DJANGO_ENV,
        "E2E_KEY_DIR": str(key_dir),
        "E2E_ISSUER": ISSUER,
        "E2E_AUDIENCE": AUDIENCE,
        "JWT_GUARD_KEY_PASSPHRASE": PASSPHRASE,
    }
    with serving(SERVERS["django-gunicorn"][0], APPS, env_vars, tmp_path / "s.log") as url:
        response = httpx.get(f"{url}/.well-known/openid-configuration")
    assert response.status_code == 200
    assert response.json() == {"issuer": ISSUER, "jwks_uri": f"{ISSUER}/.well-known/jwks.json"}
    assert response.headers["Cache-Control"] == "public, max-age=600"
