"""The Django example project under real servers: gunicorn (WSGI) and uvicorn (ASGI).

The test kit's LocalIssuer serves the JWKS and discovery on loopback; the example
is configured only through its environment variables, as its README says,
and is called over real HTTP on a free loopback port.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from jwt_guard_core.testing import LocalIssuer, TokenFactory

from .servers import ROOT, gunicorn, key_source, serving
from .servers import bearer as _auth
from .shared_tests import (
    test_healthz_reports_the_warmed_key_set as test_healthz_reports_the_warmed_key_set,
)
from .shared_tests import (
    test_me_returns_the_verified_claims as test_me_returns_the_verified_claims,
)

PROJECT = ROOT / "example_projects" / "django_api"

SERVERS: dict[str, Any] = {
    "gunicorn": gunicorn("orders_api.wsgi:application"),
    "uvicorn": lambda port: [
        sys.executable,
        "-m",
        "uvicorn",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--lifespan",
        "off",
        "orders_api.asgi:application",
    ],
}


@pytest.fixture(scope="module", params=["gunicorn-jwks", "uvicorn-jwks", "uvicorn-discovery"])
def served(
    request: pytest.FixtureRequest, e2e_issuer: LocalIssuer, tmp_path_factory: Any
) -> Iterator[tuple[str, str]]:
    """``(base_url, issuer)`` of the example running under a real server."""
    server, keys = request.param.split("-")
    issuer, env = key_source(e2e_issuer, keys)
    env.update(DJANGO_SETTINGS_MODULE="orders_api.settings", JWT_GUARD_TOKEN_LOCATIONS="header")
    log_path = tmp_path_factory.mktemp("server") / f"{request.param}.log"
    with serving(SERVERS[server], PROJECT, env, log_path) as url:
        yield url, issuer


def test_me_without_token_is_401_with_the_bearer_challenge(base_url: str) -> None:
    response = httpx.get(f"{base_url}/api/me")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response.json() == {"detail": "Authentication credentials were not provided."}


def test_expired_token_is_401_invalid_token(base_url: str, tokens: TokenFactory) -> None:
    expired = tokens.expired()
    response = httpx.get(f"{base_url}/api/me", headers=_auth(expired))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'
    assert response.json() == {
        "error": "invalid_token",
        "error_description": "The access token is invalid or expired.",
    }


def test_token_signed_by_another_key_is_401(base_url: str, tokens: TokenFactory) -> None:
    response = httpx.get(f"{base_url}/api/me", headers=_auth(tokens.unknown_key()))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'


def test_token_from_another_issuer_is_401(base_url: str, tokens: TokenFactory) -> None:
    response = httpx.get(f"{base_url}/api/me", headers=_auth(tokens.wrong_issuer()))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'


def test_token_for_another_audience_is_401(base_url: str, tokens: TokenFactory) -> None:
    response = httpx.get(f"{base_url}/api/me", headers=_auth(tokens.wrong_audience()))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"


def test_malformed_authorization_header_is_400_invalid_request(base_url: str) -> None:
    response = httpx.get(f"{base_url}/api/me", headers={"Authorization": "Bearer a b c"})
    assert response.status_code == 400
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_request"'
    assert response.json() == {
        "error": "invalid_request",
        "error_description": "The request is malformed.",
    }


def test_orders_need_orders_read(base_url: str, token: Any) -> None:
    response = httpx.get(f"{base_url}/api/orders", headers=_auth(token(scope="orders:read")))
    assert response.status_code == 200
    assert isinstance(response.json()["orders"], list)
    response = httpx.get(f"{base_url}/api/orders", headers=_auth(token(scope="profile")))
    assert response.status_code == 403
    assert response.headers["WWW-Authenticate"] == (
        'Bearer realm="api", error="insufficient_scope", scope="orders:read"'
    )
    assert response.json() == {
        "error": "insufficient_scope",
        "error_description": "The access token does not grant the required scope.",
    }


def test_creating_an_order_needs_orders_write(base_url: str, token: Any) -> None:
    order = {"item": "teapot", "quantity": 2}
    reader = _auth(token(scope="orders:read"))
    response = httpx.post(f"{base_url}/api/orders", json=order, headers=reader)
    assert response.status_code == 403
    assert response.headers["WWW-Authenticate"] == (
        'Bearer realm="api", error="insufficient_scope", scope="orders:write"'
    )
    writer = _auth(token(scope="orders:read orders:write", sub="writer-7"))
    response = httpx.post(f"{base_url}/api/orders", json=order, headers=writer)
    assert response.status_code == 201
    created = response.json()
    assert created["item"] == "teapot"
    assert created["quantity"] == 2
    assert created["owner"] == "writer-7"


def test_invalid_order_body_is_400_from_validation(base_url: str, token: Any) -> None:
    writer = _auth(token(scope="orders:write"))
    response = httpx.post(
        f"{base_url}/api/orders", json={"item": "", "quantity": 0}, headers=writer
    )
    assert response.status_code == 400
    assert set(response.json()) == {"item", "quantity"}
