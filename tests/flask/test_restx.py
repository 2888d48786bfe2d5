"""Under Flask-RESTX the refusals keep their status, headers and body: never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask_restx import Api, Resource
from pytest_httpserver import HTTPServer

from jwt_guard_flask import current_token, jwt_required, require_scopes
from tests.flask.conftest import MakeApp, Mint, bearer, expect_error


@pytest.fixture
def app(make_app: MakeApp) -> Flask:
    app = make_app(JWT_GUARD_TOKEN_LOCATION=["header", "cookie"])
    api = Api(app)

    @api.route("/orders")
    class Orders(Resource):  # type: ignore[misc]
        method_decorators = [jwt_required]  # noqa: RUF012

        def get(self) -> dict[str, Any]:
            return {"sub": current_token.subject}

        @require_scopes("orders:write")
        def post(self) -> tuple[dict[str, Any], int]:
            return {"created": True}, 201

    return app


def test_valid_token_reaches_the_resource(app: Flask, mint: Mint) -> None:
    response = app.test_client().get("/orders", headers=bearer(mint()))
    assert response.status_code == 200
    assert response.get_json() == {"sub": "user-1"}


def test_missing_token_is_401_with_www_authenticate(app: Flask) -> None:
    expect_error(app.test_client().get("/orders"), 401, "unauthorized")


def test_invalid_token_is_401_invalid_token(app: Flask, mint: Mint) -> None:
    response = app.test_client().get("/orders", headers=bearer(mint(exp=1)))
    expect_error(response, 401, "invalid_token")


def test_malformed_header_is_400_invalid_request(app: Flask) -> None:
    response = app.test_client().get("/orders", headers={"Authorization": "Bearer"})
    expect_error(response, 400, "invalid_request")


def test_missing_scope_is_403_with_scope_param(app: Flask, mint: Mint) -> None:
    response = app.test_client().post("/orders", headers=bearer(mint()))
    expect_error(response, 403, "insufficient_scope", scope="orders:write")


def test_csrf_failure_is_403(app: Flask, mint: Mint) -> None:
    client = app.test_client()
    client.set_cookie("access_token", mint(scope="orders:write"))
    expect_error(client.post("/orders"), 403, "csrf_failed")


def test_valid_scope_creates(app: Flask, mint: Mint) -> None:
    response = app.test_client().post("/orders", headers=bearer(mint(scope="orders:write")))
    assert response.status_code == 201
    assert response.get_json() == {"created": True}


def test_restx_with_error_message_off_still_sends_our_body(make_app: MakeApp) -> None:
    app = make_app(ERROR_INCLUDE_MESSAGE=False)
    api = Api(app)

    @api.route("/x")
    class X(Resource):  # type: ignore[misc]
        @jwt_required
        def get(self) -> str:
            return "ok"

    expect_error(app.test_client().get("/x"), 401, "unauthorized")


def test_key_source_outage_is_503_with_retry_after(
    make_app: MakeApp, httpserver: HTTPServer, mint: Mint
) -> None:
    httpserver.expect_request("/jwks").respond_with_data("down", status=500)
    app = make_app(JWT_GUARD_PUBLIC_KEY=None, JWT_GUARD_JWKS_URL=httpserver.url_for("/jwks"))
    api = Api(app)

    @api.route("/x")
    class X(Resource):  # type: ignore[misc]
        @jwt_required
        def get(self) -> str:
            return "ok"

    response = app.test_client().get("/x", headers=bearer(mint()))
    expect_error(response, 503, "temporarily_unavailable")
    assert int(response.headers["Retry-After"]) >= 1
