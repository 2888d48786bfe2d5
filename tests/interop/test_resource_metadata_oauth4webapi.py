"""Interop: oauth4webapi reads both adapters' RFC 9728 Protected Resource Metadata.

panva's oauth4webapi (the client library; pinned, installed by the test into
``tests/interop/node_modules``) is the metadata consumer. The Flask and the
Django resource servers of ``dpop_apps/`` run under gunicorn, each told its
own loopback URL as its resource identifier (``RESOURCE_URL`` by gunicorn's
``--env``), with DPoP ``allowed`` so that a refusal carries two challenges,
and panva's oidc-provider as the authorization server they name. For a
resource at the origin's root and one with a path (``/orders``: the
metadata then lives at ``/.well-known/oauth-protected-resource/orders``,
RFC 9728 section 3.1), ``resource_metadata_client.mjs`` checks:

- ``resourceDiscoveryRequest`` + ``processResourceDiscoveryResponse`` find
  and accept the document, which is exactly what the settings say;
- the same document is refused when the client expected another resource
  (the ``resource`` comparison of RFC 9728 section 3.3);
- a refused request's ``WWW-Authenticate`` is parsed by oauth4webapi into a
  ``Bearer`` and a ``DPoP`` challenge, both with ``resource_metadata``;
  oauth4webapi 3.8.8 exports no ``parseWwwAuthenticateChallenges``: its
  parser is reached through ``protectedResourceRequest``, which throws a
  ``WWWAuthenticateChallengeError`` whose ``cause`` is the parsed list;
- that URL, fetched, validates for the resource the client was calling;
- the authorization server it names answers oauth4webapi's discovery.

Everything is plain http on 127.0.0.1: oauth4webapi refuses http:// unless
a call passes ``allowInsecureRequests``, which the script does (after
checking that without it the discovery is refused).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.servers import gunicorn, serving
from tests.interop.npm import node_with
from tests.interop.oidc_provider import INTEROP, PACKAGES, running_provider

APPS = INTEROP / "dpop_apps"
ALGS = ["ES256", "ES384", "EdDSA", "Ed25519", "PS256", "RS256"]
WELL_KNOWN = "/.well-known/oauth-protected-resource"
SERVERS = [
    (app, path)
    for app in ("flask_resource:app", "django_resource:application")
    for path in ("", "/orders")
]


@pytest.fixture(scope="module")
def node() -> str:
    return node_with(INTEROP, PACKAGES, "the oauth4webapi resource metadata test")


@pytest.fixture(scope="module")
def provider(node: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_provider(node, tmp_path_factory.mktemp("op") / "provider.log") as issuer:
        yield issuer


@pytest.fixture(
    scope="module",
    params=SERVERS,
    ids=[f"{a.split('_')[0]}-{p.strip('/') or 'root'}" for a, p in SERVERS],
)
def resource(request, provider, tmp_path_factory) -> Iterator[tuple[str, str]]:
    """``(resource identifier, base URL)`` of a resource server under gunicorn."""
    app, path = request.param
    workdir = tmp_path_factory.mktemp("resource")
    serve = gunicorn(app)

    def command(port: int) -> list[str]:
        return [*serve(port), "--env", f"RESOURCE_URL=http://127.0.0.1:{port}{path}"]

    env = {
        "RESOURCE_ISSUER": provider,
        "RESOURCE_DPOP": "allowed",
        "RESOURCE_NONCE_SECRET": "interop-nonce-secret-0123456789abcdef",
        "RESOURCE_REPLAY_DB": str(workdir / "replay.sqlite3"),
        "DJANGO_SETTINGS_MODULE": "django_resource",
    }
    with serving(command, APPS, env, workdir / "server.log") as url:
        yield f"{url}{path}", url


@pytest.fixture(scope="module")
def steps(node, resource) -> dict[str, Any]:
    identifier, base = resource
    done = subprocess.run(
        [node, str(INTEROP / "resource_metadata_client.mjs"), identifier, f"{base}/orders"],
        cwd=INTEROP, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    found: dict[str, Any] = json.loads(done.stdout)
    return found


def _metadata_url(resource: tuple[str, str]) -> str:
    identifier, base = resource
    return f"{base}{WELL_KNOWN}{identifier.removeprefix(base)}"


def test_oauth4webapi_discovers_the_document_the_settings_describe(steps, resource, provider):
    identifier, _ = resource
    assert steps["discovery"] == {
        "url": _metadata_url(resource),
        "metadata": {
            "resource": identifier,
            "authorization_servers": [provider],
            "bearer_methods_supported": ["header"],
            "dpop_signing_alg_values_supported": ALGS,
            "dpop_bound_access_tokens_required": False,
        },
    }


def test_without_allow_insecure_requests_oauth4webapi_refuses_http(steps):
    error = steps["without_insecure"]["error"]
    assert (error["name"], error["code"]) == (
        "OperationProcessingError",
        "OAUTH_HTTP_REQUEST_FORBIDDEN",
    )


def test_the_document_is_refused_for_another_resource(steps):
    error = steps["other_resource"]["error"]
    assert (error["name"], error["code"]) == (
        "OperationProcessingError",
        "OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED",
    )


def test_oauth4webapi_parses_both_challenges_with_resource_metadata(steps, resource):
    url = _metadata_url(resource)
    assert steps["challenge"]["status"] == 401
    assert steps["challenge"]["challenges"] == [
        {
            "scheme": "bearer",
            "parameters": {"realm": "api", "error": "invalid_token", "resource_metadata": url},
        },
        {
            "scheme": "dpop",
            "parameters": {"realm": "api", "algs": " ".join(ALGS), "resource_metadata": url},
        },
    ]


def test_the_challenges_resource_metadata_validates_for_the_resource(steps, resource):
    assert steps["from_challenge"]["url"] == _metadata_url(resource)
    assert steps["from_challenge"]["metadata"] == steps["discovery"]["metadata"]


def test_the_authorization_server_it_names_answers_discovery(steps, provider):
    assert steps["authorization_server"] == {
        "issuer": provider,
        "token_endpoint": f"{provider}/token",
    }
