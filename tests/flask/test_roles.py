"""Flask: roles (require_roles / require_any_role) and the claims policy through the adapter."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from flask import Flask

from jwt_guard_core import ConfigurationError, InvalidClaim, VerifiedToken
from jwt_guard_flask import current_token, require_any_role, require_roles
from tests.flask.conftest import bearer, expect_error

ROLE_REFUSAL = 'Bearer realm="api", error="insufficient_scope"'


def paid_only(token: VerifiedToken) -> None:
    """A CLAIMS_CHECK given as a dotted path."""
    if token.claims.get("plan") != "paid":
        raise InvalidClaim("the plan is not paid", reason="unpaid")


def broken_check(token: VerifiedToken) -> None:
    raise RuntimeError("bug in the check")


async def async_check(token: VerifiedToken) -> None:
    return None


def _routes(app: Flask) -> Flask:
    @app.get("/admin")
    @require_roles("admin")
    def admin() -> Any:
        return {"roles": sorted(current_token.roles)}

    @app.get("/staff")
    @require_any_role("admin", "staff")
    async def staff() -> Any:
        return {"roles": sorted(current_token.roles)}

    @app.get("/both")
    @require_roles("admin", "ops")
    def both() -> Any:
        return {"ok": True}

    return app


@pytest.fixture
def app(make_app):
    return _routes(make_app())


def test_a_token_with_the_role_passes(app, mint):
    response = app.test_client().get("/admin", headers=bearer(mint(roles=["admin"])))
    assert response.status_code == 200
    assert response.get_json() == {"roles": ["admin"]}


def test_a_token_without_the_role_is_403_insufficient_scope(app, mint, security_events):
    response = app.test_client().get("/admin", headers=bearer(mint(roles=["staff"])))
    expect_error(response, 403, "insufficient_scope", www_authenticate=ROLE_REFUSAL)
    assert "insufficient_role" in security_events.text


def test_every_role_is_needed_with_require_roles(app, mint):
    response = app.test_client().get("/both", headers=bearer(mint(roles=["admin"])))
    expect_error(response, 403, "insufficient_scope", www_authenticate=ROLE_REFUSAL)
    response = app.test_client().get("/both", headers=bearer(mint(roles=["admin", "ops"])))
    assert response.status_code == 200


def test_one_role_is_enough_with_require_any_role_in_an_async_view(app, mint):
    response = app.test_client().get("/staff", headers=bearer(mint(roles=["staff"])))
    assert response.get_json() == {"roles": ["staff"]}
    response = app.test_client().get("/staff", headers=bearer(mint(roles=["guest"])))
    expect_error(response, 403, "insufficient_scope", www_authenticate=ROLE_REFUSAL)


def test_no_token_is_401_before_roles(app):
    expect_error(app.test_client().get("/admin"), 401, "unauthorized")


def test_roles_claim_paths_are_read_from_the_config(make_app, mint):
    app = _routes(
        make_app(JWT_GUARD_ROLES_CLAIM=[["realm_access", "roles"], "https://example.com/roles"])
    )
    token = mint(realm_access={"roles": ["ops"]}, **{"https://example.com/roles": ["admin"]})
    response = app.test_client().get("/both", headers=bearer(token))
    assert response.status_code == 200


def test_require_roles_needs_role_names():
    with pytest.raises(ConfigurationError):
        require_roles()
    with pytest.raises(ConfigurationError):
        require_any_role("admin", "")


# -- the claims policy through Flask


@pytest.mark.parametrize(
    ("config", "overrides"),
    [
        ({"JWT_GUARD_REQUIRED_CLAIMS": ["client_id", "token_use"]}, {"exp": None}),
        ({"JWT_GUARD_CLAIM_VALUES": {"tenant": "acme"}}, {"tenant": "other"}),
        ({"JWT_GUARD_CLAIM_VALUES": {"tenant": "acme"}}, {}),
        ({"JWT_GUARD_AUTHORIZED_PARTIES": "spa"}, {"azp": "evil"}),
        ({}, {"token_use": "id"}),
        ({}, {"typ": "Refresh"}),
        ({"JWT_GUARD_CLAIMS_CHECK": "tests.flask.test_roles.paid_only"}, {}),
        ({"JWT_GUARD_CLAIMS_CHECK": "tests.flask.test_roles.broken_check"}, {}),
    ],
)
def test_claims_policy_refusals_are_401_invalid_token(make_app, mint, config, overrides):
    app = _routes(make_app(**config))
    token = mint(**{"roles": ["admin"], "client_id": "spa", "token_use": "access", **overrides})
    response = app.test_client().get("/admin", headers=bearer(token))
    expect_error(response, 401, "invalid_token")


def test_a_cognito_access_token_passes_with_authorized_parties_and_no_audience(
    make_app, mint, caplog
):
    with caplog.at_level(logging.WARNING, logger="jwt_guard"):
        app = _routes(make_app(JWT_GUARD_AUDIENCE=None, JWT_GUARD_AUTHORIZED_PARTIES=["app"]))
    assert "AUDIENCE" not in caplog.text
    token = mint(aud=None, client_id="app", token_use="access", roles=["admin"])
    assert app.test_client().get("/admin", headers=bearer(token)).status_code == 200


def test_a_claims_check_by_dotted_path_accepts(make_app, mint):
    app = _routes(make_app(JWT_GUARD_CLAIMS_CHECK="tests.flask.test_roles.paid_only"))
    token = mint(roles=["admin"], plan="paid")
    assert app.test_client().get("/admin", headers=bearer(token)).status_code == 200


def test_an_async_claims_check_is_refused_at_init_app(make_app):
    with pytest.raises(ConfigurationError) as info:
        make_app(JWT_GUARD_CLAIMS_CHECK="tests.flask.test_roles.async_check")
    assert info.value.setting == "JWT_GUARD_CLAIMS_CHECK"


def test_optional_claims_are_warned_at_init_app(make_app, caplog):
    with caplog.at_level(logging.WARNING, logger="jwt_guard"):
        make_app(JWT_GUARD_OPTIONAL_CLAIMS=["iat"])
    assert "JWT_GUARD_OPTIONAL_CLAIMS" in caplog.text
