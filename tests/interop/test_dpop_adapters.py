"""Interop: oidc-provider issues DPoP-bound tokens, oauth4webapi presents them to both adapters.

panva's oidc-provider (the authorization server, a real Node process) issues
JWT access tokens bound to the client's key (``cnf.jkt``) by the
client_credentials grant; panva's oauth4webapi (the client) obtains one with
its own DPoP key and calls a Flask and a Django resource server, each under
gunicorn with two workers, that require DPoP with nonces and an SQLite
replay store shared by the workers. The resource finds the provider's keys
by OpenID discovery. Checked: the first call is answered ``use_dpop_nonce``
and the retry accepted; a replayed proof, a missing proof and the token sent
as a bearer token are refused with the right challenge. The packages are
installed by the test into ``tests/interop/node_modules`` (pinned); without
``node`` and ``npm`` the test is skipped.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.servers import free_port, gunicorn, serving
from tests.tools import missing

INTEROP = Path(__file__).resolve().parent
APPS = INTEROP / "dpop_apps"
PACKAGES = ("oidc-provider@9.13.3", "oauth4webapi@3.8.8")
ALGS = 'algs="ES256 ES384 EdDSA Ed25519 PS256 RS256"'
METADATA = 'resource_metadata="https://api.example/.well-known/oauth-protected-resource"'


@pytest.fixture(scope="module")
def node() -> str:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        missing("node and npm are needed for the oidc-provider interop test")
    modules = INTEROP / "node_modules"
    if not all((modules / p.rsplit("@", 1)[0] / "package.json").exists() for p in PACKAGES):
        subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--no-save", "--no-package-lock",
             "--prefix", str(INTEROP), *PACKAGES],
            check=True, capture_output=True, timeout=300,
        )  # fmt: skip
    return node


@pytest.fixture(scope="module")
def provider(node: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = tmp_path_factory.mktemp("op") / "provider.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [node, str(INTEROP / "dpop_provider.mjs"), str(port), "https://api.example"],
            cwd=INTEROP,
            stdout=subprocess.PIPE,
            stderr=out,
        )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.strip() == b"ready", log.read_text()
        issuer = f"http://127.0.0.1:{port}"
        httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=10).raise_for_status()
        yield issuer
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


@pytest.fixture(params=["flask_resource:app", "django_resource:application"])
def resource(request, provider, tmp_path) -> Iterator[tuple[str, str]]:
    env = {
        "RESOURCE_ISSUER": provider,
        "RESOURCE_NONCE_SECRET": "interop-nonce-secret-0123456789abcdef",
        "RESOURCE_REPLAY_DB": str(tmp_path / "replay.sqlite3"),
        "DJANGO_SETTINGS_MODULE": "django_resource",
    }
    with serving(gunicorn(request.param), APPS, env, tmp_path / "server.log") as url:
        yield url, request.param.split("_", 1)[0]


def test_dpop_bound_tokens_from_oidc_provider_are_accepted_and_misuse_refused(
    node, provider, resource
):
    url, framework = resource
    done = subprocess.run(
        [node, str(INTEROP / "dpop_token_client.mjs"), provider, url],
        cwd=INTEROP,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    steps = {s["step"]: s for s in map(json.loads, done.stdout.decode().splitlines())}
    assert steps["token"]["token_type"].lower() == "dpop"
    for step in ("first", "second"):
        assert steps[step]["status"] == 200, steps[step]
        assert steps[step]["nonce"]
    assert steps["first"]["retried"] is True  # answered use_dpop_nonce, then accepted
    assert steps["second"]["retried"] is False  # the nonce of the last response did
    # A replayed proof (same jti), maybe on the other worker: the SQLite store catches it.
    assert steps["replayed"]["status"] == 401
    assert steps["replayed"]["www"] == (
        f'DPoP realm="api", error="invalid_dpop_proof", {ALGS}, {METADATA}'
    )
    assert steps["no_proof"]["status"] == 401
    assert steps["no_proof"]["www"] == steps["replayed"]["www"]
    # The bound token as a bearer token: RFC 9449 section 7.2.
    assert steps["as_bearer"]["status"] == 401
    assert (
        steps["as_bearer"]["www"] == f'DPoP realm="api", error="invalid_token", {ALGS}, {METADATA}'
    )
    assert framework in ("flask", "django")
