"""Interop: tokens made by real issuers, verified by the core and both adapters.

Three issuers, each configured the way its own documentation shows:

- panva's ``jose`` (npm) signs RFC 9068 access tokens (``typ: at+jwt``,
  ES256) and an OpenID Connect ID token with one key it generates; the
  public JWKS is served from a loopback server;
- ``oauth2-mock-server`` (npm, a real OAuth 2.0 / OIDC server in Node)
  serves discovery, its JWKS and its token endpoint on loopback: access
  tokens come from its client-credentials grant, the ID token from its
  authorization-code flow, and the expired token from its own
  ``beforeTokenSigning`` hook (``issuers/mock_server.mjs``);
- Authlib's RFC 9068 generator (``JWTBearerTokenGenerator``) makes access
  tokens and its OpenID Connect helper (``generate_id_token``) an ID token;
  the discovery document and JWKS are served from a loopback server.

Every token goes through ``three_ways.ThreeWays``: the core verifier, a
Django view and a Flask view, all built from the same settings. Accepted:
the issuer's access token. Refused, with the same reason in all three: a
tampered payload (``bad_signature``), a token for another audience
(``bad_audience``), an expired one (``token_expired``, from the issuer's own
lifetime option), and the issuer's ID token: by ``EXPECTED_TYPE = "at+jwt"``
(``bad_type``) where the issuer writes RFC 9068's ``typ``, and by
``TOKEN_KIND = "access"`` with ``AUTHORIZED_PARTIES`` when the API also
accepts the client's audience (``wrong_token_type``, or ``missing_claim``
for an ID token that names no authorized party at all).

The node packages are installed by the test into
``tests/interop/issuers/node_modules`` (pinned, ``tests/interop/npm.py``).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from pytest_httpserver import HTTPServer

from tests.e2e.servers import free_port
from tests.interop.npm import node_with
from tests.interop.three_ways import URLCONF, ThreeWays, accepted, refused, tampered
from tests.tools import require_module

ISSUERS = Path(__file__).resolve().parent / "issuers"
PACKAGES = ("jose@6.2.18", "oauth2-mock-server@8.2.3")
API = "https://api.example"
CLIENT = "orders-client"
NONCE = "n-0S6_WzA2Mj"

pytestmark = pytest.mark.urls(URLCONF)


@dataclass
class Issued:
    """What one issuer made, and jwt-guard configured for it."""

    name: str
    settings: dict[str, Any]
    tokens: dict[str, str]
    subject: str | None
    #: the ID token's refusal under ``settings``
    id_token_reason: str
    #: the ID token's refusal when the API also takes the client's audience
    kind_reason: str
    ways: ThreeWays = field(init=False)
    kind_ways: ThreeWays = field(init=False)

    def __post_init__(self) -> None:
        self.ways = ThreeWays(self.settings)
        # An API that also accepts tokens minted for its own client (as a
        # Google-style ID-token API does) relies on TOKEN_KIND to tell them apart.
        kind = {k: v for k, v in self.settings.items() if k != "EXPECTED_TYPE"}
        kind.update(AUDIENCE=[API, CLIENT], AUTHORIZED_PARTIES=[CLIENT], TOKEN_KIND="access")
        self.kind_ways = ThreeWays(kind)

    def close(self) -> None:
        self.ways.close()
        self.kind_ways.close()


@pytest.fixture(scope="module")
def node() -> str:
    return node_with(ISSUERS, PACKAGES, "the jose and oauth2-mock-server interop tests")


@pytest.fixture(scope="module")
def loopback() -> Iterator[HTTPServer]:
    """Serves the JWKS (and discovery) of the issuers that have no server of their own."""
    server = HTTPServer(host="127.0.0.1", port=free_port())
    server.start()
    try:
        yield server
    finally:
        server.clear()
        server.stop()


def _jose(node: str, loopback: HTTPServer) -> Issued:
    issuer = loopback.url_for("/jose").rstrip("/")
    access = {"sub": "alice", "aud": API, "scope": "orders:read", "client_id": CLIENT}
    soon = {"iat": "now", "exp": "5m"}
    billing = {**access, "aud": "https://billing.example"}
    id_claims = {"sub": "alice", "aud": CLIENT, "azp": CLIENT, "nonce": NONCE}
    jobs = [
        {"name": "access", "typ": "at+jwt", "claims": access, **soon},
        {"name": "other_audience", "typ": "at+jwt", "claims": billing, **soon},
        {"name": "expired", "typ": "at+jwt", "claims": access, "iat": "20 minutes ago",
         "exp": "10 minutes ago"},
        {"name": "id_token", "typ": "JWT", "claims": id_claims, **soon},
    ]  # fmt: skip
    done = subprocess.run(
        [node, str(ISSUERS / "jose_tokens.mjs")],
        input=json.dumps({"issuer": issuer, "jobs": jobs}),
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    made = json.loads(done.stdout)
    loopback.expect_request("/jose/jwks.json").respond_with_json(made["jwks"])
    settings = {
        "ALGORITHMS": ["ES256"],
        "ISSUER": issuer,
        "JWKS_URL": f"{issuer}/jwks.json",
        "AUDIENCE": API,
        "EXPECTED_TYPE": "at+jwt",
    }
    return Issued("jose", settings, made["tokens"], "alice", "bad_type", "wrong_token_type")


@contextmanager
def _mock_server(node: str, tmp: Path) -> Iterator[Issued]:
    port = free_port()
    with (tmp / "mock_server.log").open("wb") as log:
        process = subprocess.Popen(
            [node, str(ISSUERS / "mock_server.mjs"), str(port)],
            cwd=ISSUERS, stdout=subprocess.PIPE, stderr=log,
        )  # fmt: skip
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == b"ready", (tmp / "mock_server.log").read_text()
        issuer = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=issuer, auth=(CLIENT, "any-secret"), timeout=10) as http:
            tokens = _mock_server_tokens(http)
        settings = {
            "ALGORITHMS": ["RS256"],
            "OIDC_ISSUER": issuer,
            "AUDIENCE": API,
            # Its client-credentials tokens carry no sub (RFC 9068 would have the client's).
            "OPTIONAL_CLAIMS": ["sub"],
        }
        made = Issued(
            "oauth2-mock-server", settings, tokens, None, "bad_audience", "wrong_token_type"
        )
        try:
            yield made
        finally:
            made.close()
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def _mock_server_tokens(http: httpx.Client) -> dict[str, str]:
    def client_credentials(**form: str) -> str:
        form = {"grant_type": "client_credentials", "scope": "orders:read", "aud": API, **form}
        answer = http.post("/token", data=form)
        assert answer.status_code == 200, answer.text
        return str(answer.json()["access_token"])

    redirect = "http://127.0.0.1/callback"
    authorized = http.get(
        "/authorize",
        params={"response_type": "code", "client_id": CLIENT, "redirect_uri": redirect,
                "scope": "openid", "nonce": NONCE},
    )  # fmt: skip
    assert authorized.status_code == 302, authorized.text
    code = httpx.URL(authorized.headers["location"]).params["code"]
    answer = http.post(
        "/token", data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect}
    )
    assert answer.status_code == 200, answer.text
    return {
        "access": client_credentials(),
        "other_audience": client_credentials(aud="https://billing.example"),
        "expired": client_credentials(lifetime="-600"),
        "id_token": str(answer.json()["id_token"]),
    }


def _authlib(loopback: HTTPServer) -> Issued:
    require_module("authlib", "Authlib is not installed (the test extra)")
    from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
    from authlib.oidc.core.grants.util import generate_id_token
    from joserfc.jwk import KeySet, RSAKey

    issuer = loopback.url_for("/authlib").rstrip("/")
    key = RSAKey.generate_key(2048, {"kid": "authlib-1", "use": "sig", "alg": "RS256"})
    keys = KeySet([key])

    class Generator(JWTBearerTokenGenerator):  # type: ignore[misc]
        # Authlib's documented extension points: the keys, and the audience
        # (its default is the client id; RFC 8707 resources are a TODO there).
        def get_jwks(self) -> KeySet:
            return keys

    class ForTheAPI(Generator):
        def get_audiences(self, client: Any, user: Any, scope: Any) -> str:
            return API

    class Client:  # authlib.oauth2.rfc6749.ClientMixin, the two methods used
        def get_client_id(self) -> str:
            return CLIENT

        def get_allowed_scope(self, scope: str) -> str:
            return scope

    class User:
        def get_user_id(self) -> str:
            return "alice"

    def access(generator: JWTBearerTokenGenerator) -> dict[str, Any]:
        made: dict[str, Any] = generator(
            grant_type="authorization_code", client=Client(), user=User(),
            scope="orders:read", include_refresh_token=False,
        )  # fmt: skip
        return made

    token = access(ForTheAPI(issuer))
    tokens = {
        "access": token["access_token"],
        "other_audience": access(Generator(issuer))["access_token"],
        "expired": access(ForTheAPI(issuer, expires_generator=lambda client, grant: -600))[
            "access_token"
        ],
        "id_token": generate_id_token(
            token, {"sub": "alice"}, keys, issuer, CLIENT, nonce=NONCE, kid="authlib-1"
        ),
    }
    loopback.expect_request("/authlib/.well-known/openid-configuration").respond_with_json(
        {"issuer": issuer, "jwks_uri": f"{issuer}/jwks"}
    )
    loopback.expect_request("/authlib/jwks").respond_with_json(keys.as_dict(private=False))
    settings = {
        "ALGORITHMS": ["RS256"],
        "OIDC_ISSUER": issuer,
        "AUDIENCE": API,
        "EXPECTED_TYPE": "at+jwt",
    }
    return Issued("authlib", settings, tokens, "alice", "bad_type", "missing_claim")


@pytest.fixture(scope="module", params=["jose", "oauth2-mock-server", "authlib"])
def issued(request, loopback, tmp_path_factory) -> Iterator[Issued]:
    if request.param == "oauth2-mock-server":
        node = request.getfixturevalue("node")
        with _mock_server(node, tmp_path_factory.mktemp("mock")) as made:
            yield made
        return
    if request.param == "jose":
        made = _jose(request.getfixturevalue("node"), loopback)
    else:
        made = _authlib(loopback)
    try:
        yield made
    finally:
        made.close()


def test_the_issuers_access_token_is_accepted(issued):
    assert issued.ways.check(issued.tokens["access"]) == accepted(issued.subject)


def test_a_tampered_payload_is_refused_as_bad_signature(issued):
    token = tampered(issued.tokens["access"], sub="mallory", scope="orders:read orders:admin")
    assert issued.ways.check(token) == refused("bad_signature")


def test_a_token_for_another_audience_is_refused(issued):
    assert issued.ways.check(issued.tokens["other_audience"]) == refused("bad_audience")


def test_a_token_the_issuer_made_already_expired_is_refused(issued):
    assert issued.ways.check(issued.tokens["expired"]) == refused("token_expired")


def test_the_issuers_id_token_is_not_an_access_token(issued):
    assert issued.ways.check(issued.tokens["id_token"]) == refused(issued.id_token_reason)


def test_token_kind_refuses_the_id_token_where_the_audience_would_admit_it(issued):
    assert issued.kind_ways.check(issued.tokens["access"]) == accepted(issued.subject)
    assert issued.kind_ways.check(issued.tokens["id_token"]) == refused(issued.kind_reason)


@pytest.mark.parametrize("issued", ["oauth2-mock-server"], indirect=True)
def test_an_rfc_9068_api_refuses_oauth2_mock_servers_plain_jwt_access_tokens(issued):
    # oauth2-mock-server writes typ "JWT" on every token: EXPECTED_TYPE = "at+jwt"
    # refuses even its access tokens, so its settings above leave EXPECTED_TYPE out.
    ways = ThreeWays({**issued.settings, "EXPECTED_TYPE": "at+jwt"})
    try:
        assert ways.check(issued.tokens["access"]) == refused("bad_type")
    finally:
        ways.close()
