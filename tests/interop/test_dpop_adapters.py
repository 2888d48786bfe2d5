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
import subprocess
from collections.abc import Iterator

import pytest

from tests.e2e.servers import gunicorn, serving
from tests.interop.npm import node_with
from tests.interop.oidc_provider import INTEROP, PACKAGES, running_provider

APPS = INTEROP / "dpop_apps"
ALGS = 'algs="ES256 ES384 EdDSA Ed25519 PS256 RS256"'
METADATA = 'resource_metadata="https://api.example/.well-known/oauth-protected-resource"'


@pytest.fixture(scope="module")
def node() -> str:
    return node_with(INTEROP, PACKAGES, "the oidc-provider interop test")


@pytest.fixture(scope="module")
def provider(node: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_provider(node, tmp_path_factory.mktemp("op") / "provider.log") as issuer:
        yield issuer


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
