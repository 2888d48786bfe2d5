"""Fixtures shared by the end-to-end tests; each test module defines ``served``.

``served`` yields ``(base_url, issuer)`` of an example project running under
a real server (see :mod:`tests.e2e.servers`).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from jwt_guard_core import StaticKeySet
from tests.factories import KeyRing, public_pem, sign

from .servers import AUDIENCE


@pytest.fixture(scope="module")
def jwks_server(keyring: KeyRing) -> Iterator[HTTPServer]:
    """A real JWKS endpoint, an OpenID provider at ``/idp``, and a failing ``/down/jwks.json``."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    jwks = StaticKeySet.from_pem(public_pem(keyring.rsa), kid="e2e-1").jwks()
    server.expect_request("/jwks.json").respond_with_json(
        jwks, headers={"Cache-Control": "max-age=300"}
    )
    # An OpenID provider for the discovery variant: its issuer is this URL.
    server.expect_request("/idp/.well-known/openid-configuration").respond_with_json(
        {"issuer": server.url_for("/idp"), "jwks_uri": server.url_for("/jwks.json")}
    )
    server.expect_request("/down/jwks.json").respond_with_data("down", status=500)
    yield server
    server.clear()
    server.stop()


@pytest.fixture
def base_url(served: tuple[str, str]) -> str:
    return served[0]


@pytest.fixture
def token(keyring: KeyRing, served: tuple[str, str]) -> Any:
    """``token(scope=..., **claims)``: a real-time RS256 token for the served example."""
    issuer = served[1]

    def _token(scope: str = "", key: Any = None, **overrides: Any) -> str:
        now = int(time.time())
        claims = {
            "iss": issuer,
            "aud": AUDIENCE,
            "sub": "customer-42",
            "iat": now,
            "nbf": now,
            "exp": now + 300,
            "scope": scope,
            **overrides,
        }
        return sign({"alg": "RS256", "kid": "e2e-1", "typ": "JWT"}, claims, key or keyring.rsa)

    return _token
