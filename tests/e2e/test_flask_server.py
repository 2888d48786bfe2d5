"""The Flask example project under a real gunicorn, called over real HTTP.

The test kit's LocalIssuer serves the JWKS and discovery on loopback; the example
is configured only through its environment variables, as its README says,
and served with the README's command on a free loopback port.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest

from jwt_guard_core.testing import LocalIssuer, TokenFactory

from .servers import AUDIENCE, ROOT, gunicorn, key_source, serving
from .servers import bearer as _auth
from .shared_tests import (
    test_healthz_reports_the_warmed_key_set as test_healthz_reports_the_warmed_key_set,
)
from .shared_tests import (
    test_me_returns_the_verified_claims as test_me_returns_the_verified_claims,
)

PROJECT = ROOT / "example_projects" / "flask_api"
CSRF = "e2e-csrf-value-0123456789abcdefghijklmnop"


def _gunicorn(env_vars: dict[str, str], log_path: Path) -> AbstractContextManager[str]:
    # The README's command, ``gunicorn --bind 127.0.0.1:PORT 'app:create_app()'``.
    return serving(gunicorn("app:create_app()"), PROJECT, env_vars, log_path)


@pytest.fixture(scope="module", params=["jwks", "discovery"])
def served(
    request: pytest.FixtureRequest, e2e_issuer: LocalIssuer, tmp_path_factory: Any
) -> Iterator[tuple[str, str]]:
    """``(base_url, issuer)`` of the example running under gunicorn."""
    issuer, env = key_source(e2e_issuer, request.param)
    env["JWT_GUARD_TOKEN_LOCATIONS"] = "header,cookie"
    log_path = tmp_path_factory.mktemp("server") / f"{request.param}.log"
    with _gunicorn(env, log_path) as url:
        yield url, issuer


def _refusal(response: httpx.Response, status: int, error: str, challenge: str | None) -> None:
    descriptions = {
        "unauthorized": "Authentication is required.",
        "invalid_token": "The access token is invalid or expired.",
        "invalid_request": "The request is malformed.",
        "insufficient_scope": "The access token does not grant the required scope.",
        "temporarily_unavailable": "Token verification is temporarily unavailable.",
        "csrf_failed": "CSRF verification failed.",
    }
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"error": error, "error_description": descriptions[error]}
    assert response.headers.get("WWW-Authenticate") == challenge


def test_me_without_token_is_401_with_the_bearer_challenge(base_url: str) -> None:
    response = httpx.get(f"{base_url}/api/me")
    _refusal(response, 401, "unauthorized", 'Bearer realm="api"')


def test_expired_token_is_401_invalid_token(base_url: str, tokens: TokenFactory) -> None:
    expired = tokens.expired()
    response = httpx.get(f"{base_url}/api/me", headers=_auth(expired))
    _refusal(response, 401, "invalid_token", 'Bearer realm="api", error="invalid_token"')


def test_token_signed_by_another_key_is_401(base_url: str, tokens: TokenFactory) -> None:
    response = httpx.get(f"{base_url}/api/me", headers=_auth(tokens.unknown_key()))
    _refusal(response, 401, "invalid_token", 'Bearer realm="api", error="invalid_token"')


def test_token_from_another_issuer_is_401(base_url: str, tokens: TokenFactory) -> None:
    response = httpx.get(f"{base_url}/api/me", headers=_auth(tokens.wrong_issuer()))
    _refusal(response, 401, "invalid_token", 'Bearer realm="api", error="invalid_token"')


def test_token_for_another_audience_is_401(base_url: str, tokens: TokenFactory) -> None:
    response = httpx.get(f"{base_url}/api/me", headers=_auth(tokens.wrong_audience()))
    _refusal(response, 401, "invalid_token", 'Bearer realm="api", error="invalid_token"')


def test_malformed_authorization_header_is_400_invalid_request(base_url: str) -> None:
    response = httpx.get(f"{base_url}/api/me", headers={"Authorization": "Bearer a b c"})
    _refusal(response, 400, "invalid_request", 'Bearer realm="api", error="invalid_request"')


def test_orders_need_orders_read(base_url: str, token: Any) -> None:
    response = httpx.get(f"{base_url}/api/orders", headers=_auth(token(scope="orders:read")))
    assert response.status_code == 200
    assert isinstance(response.json()["orders"], list)
    response = httpx.get(f"{base_url}/api/orders", headers=_auth(token(scope="profile")))
    _refusal(
        response,
        403,
        "insufficient_scope",
        'Bearer realm="api", error="insufficient_scope", scope="orders:read"',
    )


def test_creating_an_order_needs_orders_write(base_url: str, token: Any) -> None:
    order = {"item": "teapot", "quantity": 2}
    reader = _auth(token(scope="orders:read"))
    response = httpx.post(f"{base_url}/api/orders", json=order, headers=reader)
    _refusal(
        response,
        403,
        "insufficient_scope",
        'Bearer realm="api", error="insufficient_scope", scope="orders:write"',
    )
    writer = _auth(token(scope="orders:read orders:write", sub="writer-7"))
    response = httpx.post(f"{base_url}/api/orders", json=order, headers=writer)
    assert response.status_code == 201
    assert response.json() == {"id": response.json()["id"], "owner": "writer-7", **order}


def test_invalid_order_body_is_400(base_url: str, token: Any) -> None:
    writer = _auth(token(scope="orders:write"))
    response = httpx.post(
        f"{base_url}/api/orders", json={"item": "", "quantity": 0}, headers=writer
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_body",
        "error_description": "item: a string of 1 to 100 characters",
    }


def test_cookie_token_post_needs_the_csrf_header(base_url: str, token: Any) -> None:
    cookies = {"access_token": token(scope="orders:write"), "csrf_token": CSRF}
    order = {"item": "kettle", "quantity": 1}
    with httpx.Client(base_url=base_url, cookies=cookies) as client:
        _refusal(client.post("/api/orders", json=order), 403, "csrf_failed", None)
        wrong = client.post("/api/orders", json=order, headers={"X-CSRF-Token": "guess"})
        _refusal(wrong, 403, "csrf_failed", None)
        ok = client.post("/api/orders", json=order, headers={"X-CSRF-Token": CSRF})
        assert ok.status_code == 201
        # Reading needs no CSRF proof.
        assert client.get("/api/me").status_code == 200


def test_key_source_outage_is_503_with_retry_after(tmp_path: Path) -> None:
    # A second issuer whose JWKS answers 500 from the start: the example has no keys cached.
    with LocalIssuer(algorithm="RS256", audience=AUDIENCE) as down, down.outage(500):
        env = {"JWT_GUARD_ISSUER": down.url, "JWT_GUARD_JWKS_URL": down.jwks_url}
        token = down.tokens().token("s")
        with _gunicorn(env, tmp_path / "outage.log") as base_url:
            health = httpx.get(f"{base_url}/healthz")
            assert health.status_code == 503
            assert health.json()["status"] == "unavailable"
            assert health.json()["key_sets"][down.url]["state"] == "unavailable"
            response = httpx.get(f"{base_url}/api/me", headers=_auth(token))
            _refusal(response, 503, "temporarily_unavailable", None)
            assert int(response.headers["Retry-After"]) >= 1
