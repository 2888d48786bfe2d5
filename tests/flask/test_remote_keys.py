"""JWT_GUARD_JWKS_URL and JWT_GUARD_OIDC_ISSUER against a real HTTP server on loopback."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from flask import Flask
from pytest_httpserver import HTTPServer

from jwt_guard_core import StaticKeySet
from jwt_guard_flask import jwt_required
from tests.factories import FakeClock
from tests.flask.conftest import MakeApp, Mint, bearer, expect_error

JWKS_PATH = "/.well-known/jwks.json"


def _route(app: Flask) -> Flask:
    @app.get("/x")
    @jwt_required
    def x() -> str:
        return "ok"

    return app


@pytest.fixture
def remote_app(make_app: MakeApp, httpserver: HTTPServer, clock: FakeClock) -> Any:
    def _make(**config: Any) -> Flask:
        return _route(
            make_app(
                JWT_GUARD_PUBLIC_KEY=None,
                JWT_GUARD_JWKS_URL=httpserver.url_for(JWKS_PATH),
                JWT_GUARD_JWKS_OPTIONS={"clock": clock},
                **config,
            )
        )

    return _make


def test_tokens_verify_against_the_fetched_jwks(
    remote_app: Any, httpserver: HTTPServer, rsa_keys: StaticKeySet, mint: Mint
) -> None:
    httpserver.expect_request(JWKS_PATH).respond_with_json(rsa_keys.jwks())
    app = remote_app()
    client = app.test_client()
    assert client.get("/x", headers=bearer(mint())).status_code == 200
    assert client.get("/x", headers=bearer(mint())).status_code == 200
    expect_error(client.get("/x", headers=bearer(mint(kid="other"))), 401, "invalid_token")
    # One fetch for the set, one more for the unknown kid at most.
    assert 1 <= len(httpserver.log) <= 2


def test_key_source_outage_is_503_with_retry_after_and_no_www_authenticate(
    remote_app: Any, httpserver: HTTPServer, mint: Mint
) -> None:
    httpserver.expect_request(JWKS_PATH).respond_with_data("down", status=500)
    app = remote_app()
    response = app.test_client().get("/x", headers=bearer(mint()))
    expect_error(response, 503, "temporarily_unavailable")
    assert int(response.headers["Retry-After"]) >= 1


def test_outage_under_an_async_view_is_503_too(
    remote_app: Any, httpserver: HTTPServer, mint: Mint
) -> None:
    httpserver.expect_request(JWKS_PATH).respond_with_data("down", status=503)
    app = remote_app()

    @app.get("/async")
    @jwt_required
    async def async_view() -> str:
        return "ok"

    response = app.test_client().get("/async", headers=bearer(mint()))
    expect_error(response, 503, "temporarily_unavailable")
    assert int(response.headers["Retry-After"]) >= 1


def test_garbage_never_reaches_the_key_server(remote_app: Any, httpserver: HTTPServer) -> None:
    app = remote_app()
    expect_error(app.test_client().get("/x", headers=bearer("a.b.c")), 401, "invalid_token")
    assert httpserver.log == []


def test_oidc_discovery_finds_the_jwks(
    make_app: MakeApp,
    httpserver: HTTPServer,
    rsa_keys: StaticKeySet,
    mint: Mint,
    clock: FakeClock,
) -> None:
    issuer = httpserver.url_for("/tenant")
    httpserver.expect_request("/tenant/.well-known/openid-configuration").respond_with_json(
        {"issuer": issuer, "jwks_uri": httpserver.url_for(JWKS_PATH)}
    )
    httpserver.expect_request(JWKS_PATH).respond_with_json(rsa_keys.jwks())
    app = _route(
        make_app(
            JWT_GUARD_PUBLIC_KEY=None,
            JWT_GUARD_ISSUER=None,
            JWT_GUARD_OIDC_ISSUER=issuer,
            JWT_GUARD_JWKS_OPTIONS={"clock": clock},
        )
    )
    client = app.test_client()
    assert client.get("/x", headers=bearer(mint(iss=issuer))).status_code == 200
    expect_error(client.get("/x", headers=bearer(mint())), 401, "invalid_token")


def test_warm_on_startup_fetches_before_the_first_request(
    remote_app: Any, httpserver: HTTPServer, rsa_keys: StaticKeySet
) -> None:
    httpserver.expect_request(JWKS_PATH).respond_with_json(rsa_keys.jwks())
    app = remote_app(JWT_GUARD_WARM_ON_STARTUP=True)
    assert len(httpserver.log) == 1
    health = app.extensions["jwt_guard"].health(app)
    assert health["ok"] is True
    entry = health["key_sets"]["https://issuer.example"]
    assert entry["type"] == "remote"
    assert entry["state"] == "ok"
    assert entry["kids"] == ["rsa-1"]
    assert entry["url"] == httpserver.url_for(JWKS_PATH)


def test_failed_warm_up_is_logged_and_the_app_still_starts(
    remote_app: Any, httpserver: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="jwt_guard.flask")
    httpserver.expect_request(JWKS_PATH).respond_with_data("{}", status=502)
    app = remote_app(JWT_GUARD_WARM_ON_STARTUP=True)
    warned = [r for r in caplog.records if r.name == "jwt_guard.flask"]
    assert len(warned) == 1
    assert "could not warm the key set" in warned[0].getMessage()
    health = app.extensions["jwt_guard"].health(app)
    assert health["ok"] is False
    assert health["key_sets"]["https://issuer.example"]["state"] == "unavailable"


def test_health_of_a_static_key_set(make_app: MakeApp) -> None:
    app = make_app()
    assert app.extensions["jwt_guard"].health(app) == {
        "ok": True,
        "key_sets": {"https://issuer.example": {"type": "static", "keys": 1}},
    }


def test_one_remote_per_issuer_in_issuers(
    make_app: MakeApp,
    httpserver: HTTPServer,
    rsa_keys: StaticKeySet,
    mint: Mint,
) -> None:
    httpserver.expect_request("/a/jwks").respond_with_data(
        json.dumps(rsa_keys.jwks()), content_type="application/json"
    )
    app = _route(
        make_app(
            JWT_GUARD_PUBLIC_KEY=None,
            JWT_GUARD_ISSUER=None,
            JWT_GUARD_ISSUERS={
                "https://a.example": {"JWKS_URL": httpserver.url_for("/a/jwks")},
                "https://b.example": {"JWKS_URL": httpserver.url_for("/b/jwks")},
            },
        )
    )
    client = app.test_client()
    assert client.get("/x", headers=bearer(mint(iss="https://a.example"))).status_code == 200
    # b's JWKS URL answers 500 (no handler): an outage for b only.
    response = client.get("/x", headers=bearer(mint(iss="https://b.example")))
    expect_error(response, 503, "temporarily_unavailable")
