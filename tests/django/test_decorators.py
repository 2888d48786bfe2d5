"""jwt_required, jwt_optional and require_scopes on sync and async views."""

from __future__ import annotations

import pytest

from jwt_guard_django.decorators import require_scopes
from tests.django.bodies import INVALID_TOKEN_BODY, NO_CREDENTIALS_BODY, SCOPE_BODY


@pytest.mark.parametrize("url", ["/required/", "/required-async/"])
def test_jwt_required_without_token_is_401_with_realm_only(client, middleware_mode, url):
    response = client.get(url)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response.json() == NO_CREDENTIALS_BODY


@pytest.mark.parametrize("url", ["/required/", "/required-async/"])
def test_jwt_required_with_valid_token_runs_the_view(client, middleware_mode, bearer, url):
    response = client.get(url, headers=bearer())
    assert response.status_code == 200
    assert response.json()["sub"] == "user-1"
    assert response.json()["user"] == "TokenUser"


@pytest.mark.parametrize("url", ["/required/", "/required-async/"])
def test_jwt_required_with_expired_token_is_401_invalid_token(
    client, middleware_mode, bearer, clock, url
):
    headers = bearer()
    clock.advance(7200)
    response = client.get(url, headers=headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'
    assert response.json() == INVALID_TOKEN_BODY


@pytest.mark.parametrize("url", ["/required/", "/required-async/"])
def test_jwt_required_with_malformed_header_is_400(client, middleware_mode, url):
    response = client.get(url, headers={"Authorization": "Bearer "})
    assert response.status_code == 400
    assert response["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_request"'


@pytest.mark.parametrize("url", ["/optional/", "/optional-async/"])
def test_jwt_optional_without_token_runs_the_view_anonymously(client, middleware_mode, url):
    response = client.get(url)
    assert response.status_code == 200
    assert response.json()["sub"] is None
    assert response.json()["authenticated"] is False


@pytest.mark.parametrize("url", ["/optional/", "/optional-async/"])
def test_jwt_optional_with_invalid_token_is_401(client, middleware_mode, url):
    response = client.get(url, headers={"Authorization": "Bearer a.b.c"})
    assert response.status_code == 401
    assert response.json() == INVALID_TOKEN_BODY


@pytest.mark.parametrize("url", ["/optional/", "/optional-async/"])
def test_jwt_optional_with_valid_token_sets_the_user(client, middleware_mode, bearer, url):
    response = client.get(url, headers=bearer())
    assert response.status_code == 200
    assert response.json()["username"] == "user-1"


@pytest.mark.parametrize("url", ["/scoped/", "/scoped-async/"])
def test_require_scopes_with_too_few_scopes_is_403_insufficient_scope(
    client, middleware_mode, bearer, url
):
    response = client.get(url, headers=bearer(scope="orders:read"))
    assert response.status_code == 403
    assert response["WWW-Authenticate"] == (
        'Bearer realm="api", error="insufficient_scope", scope="orders:write"'
    )
    assert response.json() == SCOPE_BODY


@pytest.mark.parametrize("url", ["/scoped/", "/scoped-async/"])
def test_require_scopes_with_the_scope_runs_the_view(client, middleware_mode, bearer, url):
    response = client.get(url, headers=bearer(scope="orders:read orders:write"))
    assert response.status_code == 200
    assert response.json()["scopes"] == ["orders:read", "orders:write"]


@pytest.mark.parametrize("url", ["/scoped/", "/scoped-async/"])
def test_require_scopes_without_token_is_401(client, middleware_mode, url):
    response = client.get(url)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_require_scopes_reads_scp_lists_too(client, bearer):
    response = client.get("/scoped/", headers=bearer(scope=None, scp=["orders:write"]))
    assert response.status_code == 200


def test_require_scopes_any_of_needs_one_of_them(client, bearer):
    assert client.get("/any-scope/", headers=bearer(scope="admin")).status_code == 200
    response = client.get("/any-scope/", headers=bearer(scope="profile"))
    assert response.status_code == 403
    assert response["WWW-Authenticate"] == (
        'Bearer realm="api", error="insufficient_scope", scope="orders:write admin"'
    )


async def test_async_decorated_view_over_asgi_is_guarded(async_client, bearer):
    response = await async_client.get("/scoped-async/", headers=bearer(scope="orders:read"))
    assert response.status_code == 403
    assert response["WWW-Authenticate"] == (
        'Bearer realm="api", error="insufficient_scope", scope="orders:write"'
    )
    response = await async_client.get("/scoped-async/", headers=bearer(scope="orders:write"))
    assert response.status_code == 200
    response = await async_client.get("/required-async/")
    assert response.status_code == 401


def test_require_scopes_without_names_is_a_type_error():
    with pytest.raises(TypeError, match="one or more scope names"):
        require_scopes()


@pytest.mark.parametrize("name", ["orders:read orders:write", "orders:read\t", "caf\u00e9"])
def test_require_scopes_refuses_a_name_outside_the_grammar_when_declared(name):
    from jwt_guard_core import ConfigurationError

    with pytest.raises(ConfigurationError, match="scope"):
        require_scopes(name)


# Function views validate their demands when declared (at import), so the
# start-up route walk has nothing to find on them (DRF views: test_checks_views).
@pytest.mark.parametrize(
    ("declare", "setting"),
    [
        (lambda d: d.require_scopes("orders\tread"), "scopes"),
        (lambda d: d.require_scopes("orders:read", "orders read"), "scopes"),
        (lambda d: d.require_roles(), "require_roles"),
        (lambda d: d.require_roles(""), "require_roles"),
        (lambda d: d.require_any_role(5), "require_any_role"),
        (lambda d: d.jwt_required(max_age="300"), "max_age"),
        (lambda d: d.jwt_required(acr_values=5), "acr_values"),
        (lambda d: d.jwt_required(acr_values=["urn:a b"]), "acr_values"),
        (lambda d: d.jwt_required(dpop="yes"), "dpop"),
    ],
)
def test_a_bad_decorator_argument_fails_when_the_view_is_declared(declare, setting):
    from jwt_guard_core import ConfigurationError
    from jwt_guard_django import decorators

    with pytest.raises(ConfigurationError) as caught:
        declare(decorators)
    assert caught.value.setting == setting
