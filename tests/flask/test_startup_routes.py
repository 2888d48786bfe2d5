"""Routes demanding DPoP while JWT_GUARD_DPOP is off (issue 15), reported before any such request.

Checked at the end of ``init_app`` (routes registered by then), once before
the first request (routes added since, whatever URL that request is for)
and by ``flask jwt-guard check`` (exit 1).
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from flask import Blueprint, Flask
from flask.views import MethodView

from jwt_guard_flask import JWTGuard, jwt_required, require_scopes

DPOP_OFF = "but JWT_GUARD_DPOP is 'off'"


@pytest.fixture
def logged(caplog: pytest.LogCaptureFixture) -> Any:
    caplog.set_level(logging.WARNING, logger="jwt_guard.flask")

    def _logged() -> list[str]:
        return [
            r.getMessage()
            for r in caplog.records
            if getattr(r, "jwt_guard_check", None) == "route_dpop_off"
        ]

    return _logged


def add_bound_route(app: Flask, path: str = "/bound") -> None:
    @app.get(path, endpoint=path.strip("/"))
    @require_scopes("orders:read")
    @jwt_required(dpop="required")
    def bound() -> str:
        return "never"


def test_a_route_registered_before_init_app_is_reported_by_init_app(base_config, logged):
    app = Flask("routes")
    app.config.update(base_config)
    add_bound_route(app)
    JWTGuard(app)
    [text] = logged()
    assert text.startswith(
        "jwt-guard: route '/bound' (endpoint 'bound') requires a DPoP-bound token "
        f"(dpop='required') {DPOP_OFF}"
    )
    assert "Set JWT_GUARD_DPOP to 'allowed'" in text


def test_a_route_added_after_init_app_is_reported_once_at_the_first_request(make_app, logged):
    app = make_app()
    assert logged() == []

    @app.get("/health")
    def health() -> str:
        return "ok"

    add_bound_route(app)
    client = app.test_client()
    assert client.get("/health").status_code == 200
    [text] = logged()
    assert text.startswith("jwt-guard: route '/bound' (endpoint 'bound') requires")
    client.get("/health")
    assert len(logged()) == 1


def test_a_route_reported_by_init_app_is_not_reported_again(base_config, logged):
    app = Flask("routes")
    app.config.update(base_config)
    add_bound_route(app)
    JWTGuard(app)
    app.test_client().get("/nothing")
    assert len(logged()) == 1


def test_a_method_view_method_and_a_protected_blueprint_are_found(make_app, logged):
    app = make_app()

    class Orders(MethodView):
        @jwt_required(dpop="required")
        def post(self) -> str:
            return "never"

    app.add_url_rule("/orders", view_func=Orders.as_view("orders"))
    blueprint = Blueprint("bound_api", __name__)

    @blueprint.get("/x")
    def x() -> str:
        return "never"

    app.extensions["jwt_guard"].protect(blueprint, dpop="required")
    app.register_blueprint(blueprint, url_prefix="/b")
    app.test_client().get("/nothing")
    texts = logged()
    assert len(texts) == 2
    assert texts[0].startswith("jwt-guard: route '/orders' (endpoint 'orders') requires")
    assert texts[1].startswith("jwt-guard: blueprint 'bound_api' (JWTGuard.protect) requires")


@pytest.mark.parametrize("mode", ["allowed", "required"])
def test_nothing_is_reported_with_dpop_on(make_app, logged, mode):
    app = make_app(JWT_GUARD_DPOP=mode)
    add_bound_route(app)
    app.test_client().get("/nothing")
    assert logged() == []


def test_step_up_alone_needs_no_setting(make_app, logged):
    app = make_app()

    @app.get("/pay")
    @jwt_required(acr_values="urn:example:mfa", max_age=300)
    def pay() -> str:
        return "never"

    app.test_client().get("/nothing")
    assert logged() == []


def test_cli_check_reports_the_route_and_exits_1(make_app):
    app = make_app()
    add_bound_route(app)
    result = app.test_cli_runner().invoke(args=["jwt-guard", "check"])
    assert result.exit_code == 1
    assert "ERROR: route '/bound' (endpoint 'bound') requires a DPoP-bound token" in result.output
    assert "1 error(s) found" in result.output
