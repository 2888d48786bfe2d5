"""Step-up authentication (RFC 9470) per Flask view: ``acr_values=``, ``max_age=``."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Blueprint, Flask

from jwt_guard_core import ConfigurationError
from jwt_guard_flask import JWTGuard, current_token, jwt_required
from tests.factories import NOW
from tests.flask.conftest import MakeApp
from tests.sender_support import METADATA, METADATA_URL

MFA = "urn:example:mfa"
HWK = "urn:example:hwk"
STEP_UP = 'Bearer realm="api", error="insufficient_user_authentication"'


@pytest.fixture
def app(make_app: MakeApp) -> Flask:
    app = make_app()

    @app.get("/pay")
    @jwt_required(acr_values=[MFA, HWK], max_age=300)
    def pay() -> dict[str, Any]:
        return {"acr": current_token.claims["acr"]}

    @app.get("/async-pay")
    @jwt_required(acr_values=f"{MFA} {HWK}")
    async def async_pay() -> dict[str, Any]:
        return {"acr": current_token.claims["acr"]}

    @app.get("/recent")
    @jwt_required(max_age=60, scopes=["orders:read"])
    def recent() -> str:
        return "ok"

    return app


def _get(app: Flask, path: str, token: str) -> Any:
    return app.test_client().get(path, headers={"Authorization": f"Bearer {token}"})


@pytest.mark.parametrize("path", ["/pay", "/async-pay"])
def test_a_token_meeting_the_demand_is_accepted(app, mint, path):
    response = _get(app, path, mint(acr=HWK, auth_time=int(NOW) - 10))
    assert response.status_code == 200
    assert response.get_json() == {"acr": HWK}


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"auth_time": int(NOW) - 10}, "acr_missing"),
        ({"acr": "urn:example:pwd", "auth_time": int(NOW) - 10}, "acr_not_accepted"),
        ({"acr": MFA}, "auth_time_missing"),
        ({"acr": MFA, "auth_time": int(NOW) - 3600}, "auth_time_too_old"),
        ({"acr": MFA, "auth_time": "yesterday"}, "auth_time_invalid"),
    ],
)
def test_a_token_falling_short_gets_401_naming_what_would_do(app, mint, rejected, claims, reason):
    response = _get(app, "/pay", mint(**claims))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == (
        f'{STEP_UP}, acr_values="{MFA} {HWK}", max_age="300"'
    )
    assert response.get_json() == {
        "error": "insufficient_user_authentication",
        "error_description": "A stronger or more recent authentication is required.",
    }
    assert rejected == [reason]


def test_the_async_view_names_only_acr_values(app, mint, rejected):
    response = _get(app, "/async-pay", mint())
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == f'{STEP_UP}, acr_values="{MFA} {HWK}"'
    assert rejected == ["acr_missing"]


def test_max_age_alone(app, mint, rejected):
    assert _get(app, "/recent", mint(auth_time=int(NOW) - 30)).status_code == 200
    response = _get(app, "/recent", mint(auth_time=int(NOW) - 120))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == f'{STEP_UP}, max_age="60"'
    assert rejected == ["auth_time_too_old"]


def test_the_challenge_names_the_metadata_when_configured(make_app, mint):
    app = make_app(JWT_GUARD_RESOURCE_METADATA=METADATA)

    @app.get("/pay")
    @jwt_required(max_age=60)
    def pay() -> str:
        return "ok"

    response = _get(app, "/pay", mint())
    assert response.headers["WWW-Authenticate"] == (
        f'{STEP_UP}, max_age="60", resource_metadata="{METADATA_URL}"'
    )


def test_a_protected_blueprint_can_demand_step_up(make_app, mint, rejected):
    app = make_app()
    blueprint = Blueprint("admin", __name__)

    @blueprint.get("/admin")
    def admin() -> str:
        return "ok"

    app.extensions["jwt_guard"].protect(blueprint, acr_values=MFA)
    app.register_blueprint(blueprint)
    assert _get(app, "/admin", mint(acr=MFA)).status_code == 200
    response = _get(app, "/admin", mint(acr="urn:example:pwd"))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == f'{STEP_UP}, acr_values="{MFA}"'
    assert rejected == ["acr_not_accepted"]


@pytest.mark.parametrize(
    "kwargs", [{"max_age": -1}, {"max_age": "300"}, {"acr_values": ["a b"]}, {"dpop": "yes"}]
)
def test_bad_decorator_arguments_fail_at_decoration(kwargs):
    with pytest.raises(ConfigurationError):
        jwt_required(**kwargs)


def test_guard_protect_checks_its_arguments_too():
    with pytest.raises(ConfigurationError):
        JWTGuard().protect(Blueprint("b", __name__), max_age=True)
