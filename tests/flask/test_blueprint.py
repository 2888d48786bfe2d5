"""guard.protect(blueprint): every view of a blueprint needs a token."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Blueprint, Flask

from jwt_guard_flask import current_token, jwt_required
from tests.flask.conftest import MakeApp, Mint, bearer, expect_error


@pytest.fixture
def app(make_app: MakeApp) -> Flask:
    app = make_app()
    guard = app.extensions["jwt_guard"]

    api = Blueprint("api", __name__, url_prefix="/api")

    @api.get("/me")
    def me() -> dict[str, Any]:
        return {"sub": current_token.subject}

    @api.get("/async")
    async def async_me() -> dict[str, Any]:
        return {"sub": current_token.subject}

    @api.get("/admin")
    @jwt_required(scopes=["admin"])
    def admin() -> str:
        return "admin"

    guard.protect(api)

    orders = Blueprint("orders", __name__, url_prefix="/orders")

    @orders.get("/")
    def list_orders() -> str:
        return "orders"

    guard.protect(orders, scopes=["orders:read"])

    public = Blueprint("public", __name__)

    @public.get("/healthz")
    def healthz() -> str:
        return "ok"

    app.register_blueprint(api)
    app.register_blueprint(orders)
    app.register_blueprint(public)
    return app


@pytest.mark.parametrize("path", ["/api/me", "/api/async"])
def test_every_view_of_a_protected_blueprint_needs_a_token(
    app: Flask, mint: Mint, path: str
) -> None:
    client = app.test_client()
    expect_error(client.get(path), 401, "unauthorized")
    expect_error(client.get(path, headers=bearer(mint(exp=1))), 401, "invalid_token")
    assert client.get(path, headers=bearer(mint())).get_json() == {"sub": "user-1"}


def test_blueprint_scopes_apply_to_all_its_views(app: Flask, mint: Mint) -> None:
    client = app.test_client()
    response = client.get("/orders/", headers=bearer(mint(scope="profile")))
    expect_error(response, 403, "insufficient_scope", scope="orders:read")
    assert client.get("/orders/", headers=bearer(mint())).get_data(as_text=True) == "orders"


def test_a_view_decorator_adds_to_the_blueprint_check(app: Flask, mint: Mint) -> None:
    client = app.test_client()
    response = client.get("/api/admin", headers=bearer(mint()))
    expect_error(response, 403, "insufficient_scope", scope="admin")
    assert client.get("/api/admin", headers=bearer(mint(scope="admin"))).status_code == 200


def test_other_blueprints_stay_public(app: Flask) -> None:
    assert app.test_client().get("/healthz").get_data(as_text=True) == "ok"


def test_optional_blueprint_lets_anonymous_requests_through(make_app: MakeApp) -> None:
    app = make_app()
    bp = Blueprint("opt", __name__)

    @bp.get("/maybe")
    def maybe() -> dict[str, Any]:
        return {"anonymous": not current_token}

    app.extensions["jwt_guard"].protect(bp, optional=True)
    app.register_blueprint(bp)
    assert app.test_client().get("/maybe").get_json() == {"anonymous": True}
