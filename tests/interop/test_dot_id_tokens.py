"""Interop: ID tokens from django-oauth-toolkit, verified by the core and both adapters.

django-oauth-toolkit (the server of ``dot_server/``, under gunicorn on
loopback) with OpenID Connect on: RS256 ID tokens signed with a key the
fixture makes, discovery and JWKS at ``/o/.well-known/``. The ID token
comes from DOT's real authorization-code flow (a logged-in user, PKCE, a
nonce). DOT's access tokens are opaque (``test_dot_introspection.py``);
the JWT it issues is the ID token, which an API that takes its client's ID
tokens (as the ``google`` profile does) verifies with ``AUDIENCE`` = the
client id.

Checked the three ways of ``three_ways.ThreeWays``: accepted; refused with
the same reason for a tampered payload (``bad_signature``), an API of
another audience (``bad_audience``), a clock past its ``exp`` (DOT's
lifetime is one server setting, so the verifier's clock is moved:
``token_expired``), an API that wants RFC 9068 access tokens
(``EXPECTED_TYPE = "at+jwt"``: ``bad_type``) and an API that sets
``TOKEN_KIND = "access"`` with the client in ``AUTHORIZED_PARTIES``: DOT's
ID token names no ``azp`` (OIDC Core needs it only with several audiences),
so it is refused before the kind check as ``missing_claim``.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.interop.dot import running_dot
from tests.interop.three_ways import URLCONF, ThreeWays, accepted, refused, tampered
from tests.tools import require_module

require_module("oauth2_provider", "django-oauth-toolkit is not installed (the test extra)")

SPA = ("orders-spa", "orders-spa-secret")
REDIRECT = "http://127.0.0.1/callback"
NONCE = "n-0S6_WzA2Mj"

pytestmark = pytest.mark.urls(URLCONF)


@pytest.fixture(scope="module")
def dot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A DOT server with OpenID Connect on (its RS256 key made here)."""
    key = rsa.generate_private_key(65537, 2048).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with running_dot(tmp_path_factory.mktemp("dot"), {"DOT_OIDC_RSA_KEY": key.decode()}) as url:
        yield url


@pytest.fixture(scope="module")
def id_token(dot: str) -> str:
    """An ID token from DOT's authorization-code flow for user alice."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    with httpx.Client(base_url=dot, timeout=10) as http:
        logged_in = http.post(
            "/test-login", data={"username": "alice", "password": "alice-password"}
        )
        assert logged_in.status_code == 204, logged_in.text
        authorized = http.get(
            "/o/authorize/",
            params={"response_type": "code", "client_id": SPA[0], "redirect_uri": REDIRECT,
                    "scope": "openid orders:read", "nonce": NONCE,
                    "code_challenge": challenge.rstrip(b"=").decode(),
                    "code_challenge_method": "S256"},
        )  # fmt: skip
        assert authorized.status_code == 302, authorized.text
        code = httpx.URL(authorized.headers["location"]).params["code"]
        answer = http.post(
            "/o/token/",
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
                  "code_verifier": verifier},
            auth=SPA,
        )  # fmt: skip
    assert answer.status_code == 200, answer.text
    return str(answer.json()["id_token"])


@pytest.fixture(scope="module")
def configure(dot: str) -> Iterator[Any]:
    """``configure(**changes)``: jwt-guard set up for DOT's ID tokens, three ways."""
    made: list[ThreeWays] = []

    def _configure(**changes: Any) -> ThreeWays:
        settings = {"ALGORITHMS": ["RS256"], "OIDC_ISSUER": f"{dot}/o", "AUDIENCE": SPA[0]}
        made.append(ThreeWays({**settings, **changes}))
        return made[-1]

    yield _configure
    for ways in made:
        ways.close()


@pytest.fixture(scope="module")
def ways(configure: Any) -> ThreeWays:
    ways: ThreeWays = configure()
    return ways


def test_dots_id_token_is_what_oidc_core_describes(dot, id_token):
    claims = jwt.decode(id_token, options={"verify_signature": False})
    assert jwt.get_unverified_header(id_token)["alg"] == "RS256"
    assert (claims["iss"], claims["aud"], claims["nonce"]) == (f"{dot}/o", SPA[0], NONCE)
    assert "at_hash" in claims
    assert "azp" not in claims


def test_dots_id_token_is_accepted_by_an_api_for_that_client(ways, id_token):
    subject = jwt.decode(id_token, options={"verify_signature": False})["sub"]
    assert ways.check(id_token) == accepted(subject)


def test_a_tampered_id_token_is_refused_as_bad_signature(ways, id_token):
    assert ways.check(tampered(id_token, sub="mallory")) == refused("bad_signature")


def test_an_api_of_another_audience_refuses_it(configure, id_token):
    ways = configure(AUDIENCE="https://api.example")
    assert ways.check(id_token) == refused("bad_audience")


def test_past_its_exp_it_is_refused_as_expired(configure, id_token):
    expires = jwt.decode(id_token, options={"verify_signature": False})["exp"]
    ways = configure(CLOCK=lambda: expires + 600.0)
    assert ways.check(id_token) == refused("token_expired")


def test_an_api_wanting_rfc_9068_access_tokens_refuses_it_as_bad_type(configure, id_token):
    ways = configure(EXPECTED_TYPE="at+jwt")
    assert ways.check(id_token) == refused("bad_type")


def test_token_kind_with_authorized_parties_refuses_it(configure, id_token):
    ways = configure(TOKEN_KIND="access", AUTHORIZED_PARTIES=[SPA[0]])
    assert ways.check(id_token) == refused("missing_claim")
