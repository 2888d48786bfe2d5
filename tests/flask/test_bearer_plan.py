"""The common bearer request takes the core's plan; everything else the full path (issue 14)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Blueprint, Flask

from jwt_guard_flask import (
    JWTGuard,
    current_token,
    current_user,
    get_jwt,
    jwt_required,
    token_verified,
)
from jwt_guard_flask import _request as flask_request
from tests.flask.conftest import MakeApp, Mint, bearer


@pytest.fixture
def full_path(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """One entry per request that went the full path (the core's ``locate``)."""
    calls: list[str] = []
    locate = flask_request.locate

    def spy(view: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(view.method)
        return locate(view, *args, **kwargs)

    monkeypatch.setattr(flask_request, "locate", spy)
    return calls


def _app(make_app: MakeApp, **config: Any) -> Flask:
    app = make_app(**config)

    @app.route("/me", methods=["GET", "POST"])
    @jwt_required
    def me() -> dict[str, Any]:
        return {"sub": current_token.subject, "claims_sub": get_jwt()["sub"]}

    @app.get("/orders")
    @jwt_required(scopes="orders:write")
    def orders() -> str:
        return "ok"

    return app


def test_a_bearer_request_takes_the_plan(make_app: MakeApp, mint: Mint, full_path: list[str]):
    app = _app(make_app)
    verified: list[str] = []

    def on_verified(sender: Flask, **kwargs: Any) -> None:
        verified.append(kwargs["token"].subject)

    token_verified.connect(on_verified)
    try:
        response = app.test_client().get("/me", headers=bearer(mint()))
    finally:
        token_verified.disconnect(on_verified)
    assert response.status_code == 200
    assert response.get_json() == {"sub": "user-1", "claims_sub": "user-1"}
    assert verified == ["user-1"]
    assert full_path == []


def test_a_refused_bearer_token_keeps_its_answer_on_the_plan(
    make_app: MakeApp, mint: Mint, full_path: list[str], rejected: list[str]
):
    client = _app(make_app).test_client()
    response = client.get("/me", headers=bearer(mint(kid="unknown")))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith(
        'Bearer realm="api", error="invalid_token"'
    )
    assert rejected == ["unknown_kid"]
    assert full_path == []


def test_a_route_demand_not_met_is_refused_by_the_route_check(
    make_app: MakeApp, mint: Mint, full_path: list[str], rejected: list[str]
):
    response = _app(make_app).test_client().get("/orders", headers=bearer(mint()))
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]
    assert 'scope="orders:write"' in response.headers["WWW-Authenticate"]
    assert rejected == ["insufficient_scope"]
    assert full_path == []


@pytest.mark.parametrize(
    ("header", "status"),
    [
        (None, 401),
        ("Bearer a$b", 400),
        ("Bearer  two.spaces.x", 401),
        ("Basic dXNlcjpwYXNz", 401),
        ("DPoP abc", 401),
    ],
)
def test_a_request_outside_the_plan_takes_the_full_path(
    make_app: MakeApp, full_path: list[str], header: str | None, status: int
):
    headers = {"Authorization": header} if header is not None else {}
    response = _app(make_app).test_client().get("/me", headers=headers)
    assert response.status_code == status
    assert "WWW-Authenticate" in response.headers
    assert full_path == ["GET"]


def test_a_cookie_configuration_takes_the_full_path(
    make_app: MakeApp, mint: Mint, full_path: list[str]
):
    client = _app(make_app, JWT_GUARD_TOKEN_LOCATION=["header", "cookie"]).test_client()
    assert client.get("/me", headers=bearer(mint())).status_code == 200
    client.set_cookie("access_token", mint())
    assert client.get("/me").status_code == 200
    assert full_path == ["GET", "GET"]


def test_a_dpop_configuration_takes_the_full_path(
    make_app: MakeApp, mint: Mint, full_path: list[str]
):
    client = _app(make_app, JWT_GUARD_DPOP="allowed").test_client()
    assert client.get("/me", headers=bearer(mint())).status_code == 200
    assert full_path == ["GET"]


def test_a_user_loader_takes_the_full_path(make_app: MakeApp, mint: Mint, full_path: list[str]):
    app = make_app()
    guard: JWTGuard = app.extensions["jwt_guard"]
    guard.user_loader(lambda token: {"name": token.subject})

    @app.get("/who")
    @jwt_required
    def who() -> dict[str, Any]:
        return dict(current_user)

    response = app.test_client().get("/who", headers=bearer(mint()))
    assert response.get_json() == {"name": "user-1"}
    assert full_path == ["GET"]


def test_a_blueprint_guard_and_a_view_decorator_verify_once_on_the_plan(
    make_app: MakeApp, mint: Mint, full_path: list[str]
):
    app = make_app()
    guard: JWTGuard = app.extensions["jwt_guard"]
    api = guard.protect(Blueprint("api", __name__))
    verified: list[str] = []

    @api.get("/inner")
    @jwt_required(scopes="admin:write")
    def inner() -> str:
        return current_token.subject

    app.register_blueprint(api, url_prefix="/api")
    verify = guard.verifier(app).verify

    def counted(raw: str) -> Any:
        verified.append(raw)
        return verify(raw)

    app.extensions["jwt_guard"]._state_for(app).verifier.verify = counted  # type: ignore[method-assign]
    token = mint(scope="orders:read admin:write")
    response = app.test_client().get("/api/inner", headers=bearer(token))
    assert (response.status_code, response.text) == (200, "user-1")
    assert verified == [token]
    refused = app.test_client().get("/api/inner", headers=bearer(mint(scope="orders:read")))
    assert refused.status_code == 403
    assert full_path == []
