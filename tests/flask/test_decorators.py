"""@jwt_required and @require_scopes on sync views, async views and MethodView classes."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Blueprint, Flask
from flask.views import MethodView

from jwt_guard_core import ConfigurationError
from jwt_guard_flask import JWTGuard, current_token, get_jwt, jwt_required, require_scopes
from jwt_guard_flask.decorators import require_roles
from tests.flask.conftest import MakeApp, Mint, bearer, expect_error


@pytest.fixture
def app(make_app: MakeApp) -> Flask:
    app = make_app()

    @app.get("/sync")
    @jwt_required
    def sync_view() -> dict[str, Any]:
        return {"sub": current_token.subject, "kind": "sync"}

    @app.get("/async")
    @jwt_required()
    async def async_view() -> dict[str, Any]:
        return {"sub": current_token.subject, "kind": "async"}

    @app.get("/optional")
    @jwt_required(optional=True)
    def optional_view() -> dict[str, Any]:
        return {"sub": current_token.subject if current_token else None}

    @app.get("/async-optional")
    @jwt_required(optional=True)
    async def async_optional_view() -> dict[str, Any]:
        return {"claims": dict(get_jwt())}

    @app.get("/all")
    @jwt_required(scopes=["orders:read", "orders:write"])
    def all_scopes() -> str:
        return "ok"

    @app.get("/any")
    @jwt_required(scopes="orders:write orders:read", any_scope=True)
    def any_scope() -> str:
        return "ok"

    @app.post("/write")
    @require_scopes("orders:write")
    def write() -> str:
        return "written"

    @app.post("/async-write")
    @require_scopes("orders:write")
    async def async_write() -> str:
        return "written"

    @app.get("/stacked")
    @jwt_required
    @require_scopes("profile")
    def stacked() -> str:
        return "ok"

    class Orders(MethodView):
        decorators = [jwt_required(scopes=["orders:read"])]  # noqa: RUF012

        def get(self) -> dict[str, Any]:
            return {"sub": current_token.subject}

        @require_scopes("orders:write")
        def post(self) -> tuple[str, int]:
            return "created", 201

        async def delete(self) -> str:
            return "deleted"

    app.add_url_rule("/orders", view_func=Orders.as_view("orders"))
    return app


@pytest.mark.parametrize("path", ["/sync", "/async"])
def test_valid_token_reaches_sync_and_async_views(app: Flask, mint: Mint, path: str) -> None:
    response = app.test_client().get(path, headers=bearer(mint()))
    assert response.status_code == 200
    assert response.get_json() == {"sub": "user-1", "kind": path[1:]}


@pytest.mark.parametrize("path", ["/sync", "/async"])
def test_missing_token_is_refused_on_sync_and_async_views(app: Flask, path: str) -> None:
    expect_error(app.test_client().get(path), 401, "unauthorized")


@pytest.mark.parametrize("path", ["/sync", "/async"])
def test_expired_token_is_refused_on_sync_and_async_views(
    app: Flask, mint: Mint, path: str
) -> None:
    response = app.test_client().get(path, headers=bearer(mint(exp=1)))
    expect_error(response, 401, "invalid_token")


def test_optional_lets_a_request_without_token_through(app: Flask, mint: Mint) -> None:
    client = app.test_client()
    assert client.get("/optional").get_json() == {"sub": None}
    assert client.get("/optional", headers=bearer(mint())).get_json() == {"sub": "user-1"}
    assert client.get("/async-optional").get_json() == {"claims": {}}
    claims = client.get("/async-optional", headers=bearer(mint())).get_json()["claims"]
    assert claims["sub"] == "user-1"


@pytest.mark.parametrize("path", ["/optional", "/async-optional"])
def test_optional_still_refuses_an_invalid_token(app: Flask, mint: Mint, path: str) -> None:
    response = app.test_client().get(path, headers=bearer(mint(exp=1)))
    expect_error(response, 401, "invalid_token")


def test_optional_still_refuses_a_malformed_header(app: Flask) -> None:
    response = app.test_client().get("/optional", headers={"Authorization": "Bearer"})
    expect_error(response, 400, "invalid_request")


def test_all_scopes_are_required_by_default(app: Flask, mint: Mint) -> None:
    client = app.test_client()
    both = mint(scope="orders:read orders:write")
    assert client.get("/all", headers=bearer(both)).status_code == 200
    response = client.get("/all", headers=bearer(mint(scope="orders:read")))
    expect_error(response, 403, "insufficient_scope", scope="orders:read orders:write")


def test_any_scope_accepts_one_of_them(app: Flask, mint: Mint) -> None:
    client = app.test_client()
    assert client.get("/any", headers=bearer(mint(scope="orders:read"))).status_code == 200
    response = client.get("/any", headers=bearer(mint(scope="profile")))
    expect_error(response, 403, "insufficient_scope", scope="orders:write orders:read")


def test_scopes_from_an_scp_list_claim_count(app: Flask, mint: Mint) -> None:
    token = mint(scope=None, scp=["orders:read", "orders:write"])
    assert app.test_client().get("/all", headers=bearer(token)).status_code == 200


@pytest.mark.parametrize("path", ["/write", "/async-write"])
def test_require_scopes_alone_authenticates_and_checks(app: Flask, mint: Mint, path: str) -> None:
    client = app.test_client()
    expect_error(client.post(path), 401, "unauthorized")
    expect_error(
        client.post(path, headers=bearer(mint())), 403, "insufficient_scope", scope="orders:write"
    )
    ok = client.post(path, headers=bearer(mint(scope="orders:write")))
    assert ok.status_code == 200
    assert ok.get_data(as_text=True) == "written"


def test_stacked_decorators_verify_the_token_once(
    app: Flask, mint: Mint, security_events: pytest.LogCaptureFixture
) -> None:
    client = app.test_client()
    assert client.get("/stacked", headers=bearer(mint())).status_code == 200
    expect_error(client.get("/stacked", headers=bearer(mint(exp=1))), 401, "invalid_token")
    # One rejection event, not one per decorator.
    events = [r for r in security_events.records if getattr(r, "reason", None) == "token_expired"]
    assert len(events) == 1


def test_method_view_decorators_protect_every_method(app: Flask, mint: Mint) -> None:
    client = app.test_client()
    expect_error(client.get("/orders"), 401, "unauthorized")
    expect_error(client.delete("/orders"), 401, "unauthorized")
    assert client.get("/orders", headers=bearer(mint())).get_json() == {"sub": "user-1"}
    assert client.delete("/orders", headers=bearer(mint())).get_data(as_text=True) == "deleted"


def test_method_view_method_decorator_adds_a_scope(app: Flask, mint: Mint) -> None:
    client = app.test_client()
    expect_error(
        client.post("/orders", headers=bearer(mint())),
        403,
        "insufficient_scope",
        scope="orders:write",
    )
    token = mint(scope="orders:read orders:write")
    assert client.post("/orders", headers=bearer(token)).status_code == 201


def test_decorated_views_keep_their_name_and_doc() -> None:
    @jwt_required
    def listed() -> None:
        """Lists things."""

    @jwt_required(optional=True)
    async def alisted() -> None:
        """Lists async."""

    assert listed.__name__ == "listed"
    assert listed.__doc__ == "Lists things."
    assert alisted.__name__ == "alisted"


def test_unknown_location_fails_at_decoration_time() -> None:
    with pytest.raises(ValueError, match="unknown token location 'query'"):
        jwt_required(locations=["query"])


def test_bad_scope_names_fail_at_decoration_time() -> None:
    with pytest.raises(ValueError, match="is not a scope name"):
        jwt_required(scopes=["ok", ""])
    with pytest.raises(ValueError, match="at least one scope"):
        require_scopes()


def test_positional_non_callable_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="keyword arguments"):
        jwt_required(True)  # type: ignore[call-overload]


def test_locations_override_reads_only_the_cookie(make_app: MakeApp, mint: Mint) -> None:
    app = make_app(JWT_GUARD_TOKEN_LOCATION=["header", "cookie"])

    @app.get("/cookie-only")
    @jwt_required(locations="cookie")
    def cookie_only() -> str:
        return "ok"

    client = app.test_client()
    expect_error(client.get("/cookie-only", headers=bearer(mint())), 401, "unauthorized")
    client.set_cookie("access_token", mint())
    response = client.get("/cookie-only")
    assert response.status_code == 200


def test_require_scopes_any_of_accepts_one_of_them(make_app: MakeApp, mint: Mint) -> None:
    app = make_app()

    @app.get("/either")
    @require_scopes("admin", "orders:read", any_of=True)
    def either() -> str:
        return "ok"

    client = app.test_client()
    assert client.get("/either", headers=bearer(mint())).status_code == 200
    response = client.get("/either", headers=bearer(mint(scope="profile")))
    expect_error(response, 403, "insufficient_scope", scope="admin orders:read")


# A bad demand fails where it is written (at import), on a function view, a
# MethodView's decorators list and a protected blueprint alike: no request
# ever meets it. A value of the wrong shape is a ConfigurationError too.
@pytest.mark.parametrize(
    ("declare", "setting"),
    [
        (lambda: jwt_required(scopes=5), "scopes"),
        (lambda: jwt_required(scopes=["orders\tread"]), "scopes"),
        (lambda: jwt_required(acr_values=5), "acr_values"),
        (lambda: jwt_required(max_age="300"), "max_age"),
        (lambda: jwt_required(locations=5), "locations"),
        (lambda: require_scopes("orders read"), "scopes"),
        (lambda: require_roles(""), "require_roles"),
        (lambda: JWTGuard().protect(Blueprint("p1", __name__), scopes=5), "scopes"),
        (lambda: JWTGuard().protect(Blueprint("p2", __name__), acr_values=5), "acr_values"),
        (lambda: JWTGuard().protect(Blueprint("p3", __name__), max_age=-1), "max_age"),
    ],
)
def test_a_bad_demand_fails_when_declared(declare: Any, setting: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        declare()
    assert caught.value.setting == setting


def test_a_method_view_with_a_bad_decorator_fails_at_class_definition() -> None:
    with pytest.raises(ConfigurationError, match="'orders read' is not a scope name"):

        class Orders(MethodView):
            decorators = [jwt_required(scopes=["orders read"])]  # noqa: RUF012

            def get(self) -> str:  # pragma: no cover - never defined
                return "orders"
