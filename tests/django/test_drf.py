"""DRF: JWTGuardAuthentication, HasScopes and HasAnyScope."""

from __future__ import annotations

import pytest
from rest_framework.test import APIRequestFactory

from jwt_guard_django.authentication import JWTGuardAuthentication
from tests.django.bodies import INVALID_TOKEN_BODY, SCOPE_BODY, USER_1_ME


def test_authenticate_returns_none_without_credentials():
    request = APIRequestFactory().get("/")
    from rest_framework.request import Request

    assert JWTGuardAuthentication().authenticate(Request(request)) is None


def test_authenticate_returns_user_and_token(make_token):
    from rest_framework.request import Request

    request = APIRequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {make_token()}")
    user, token = JWTGuardAuthentication().authenticate(Request(request))
    assert user.username == "user-1"
    assert token.subject == "user-1"
    assert token.issuer == "https://issuer.example"


def test_authenticate_header_is_the_bearer_challenge():
    from rest_framework.request import Request

    request = Request(APIRequestFactory().get("/"))
    assert JWTGuardAuthentication().authenticate_header(request) == 'Bearer realm="api"'


def test_drf_view_with_valid_token_gets_user_and_auth(client, middleware_mode, bearer):
    response = client.get("/drf/me/", headers=bearer())
    assert response.status_code == 200
    assert response.json() == USER_1_ME


def test_drf_view_without_token_is_401_with_challenge(client, middleware_mode):
    response = client.get("/drf/me/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response.json() == {"detail": "Authentication credentials were not provided."}


def test_drf_view_with_expired_token_is_401_invalid_token(client, middleware_mode, bearer, clock):
    headers = bearer()
    clock.advance(3600)
    response = client.get("/drf/me/", headers=headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'
    assert response.json() == INVALID_TOKEN_BODY


def test_drf_open_view_with_invalid_token_is_still_401(client, middleware_mode):
    # A token that is sent must be valid, even where none is needed.
    response = client.get("/drf/open/", headers={"Authorization": "Bearer a.b.c"})
    assert response.status_code == 401
    assert response.json() == INVALID_TOKEN_BODY


def test_drf_open_view_without_token_is_anonymous(client, middleware_mode):
    response = client.get("/drf/open/")
    assert response.status_code == 200
    assert response.json()["authenticated"] is False


def test_drf_malformed_header_is_400_invalid_request(client, middleware_mode):
    response = client.get("/drf/me/", headers={"Authorization": "Bearer a b"})
    assert response.status_code == 400
    assert response["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_request"'
    assert response.json() == {
        "error": "invalid_request",
        "error_description": "The request is malformed.",
    }


def test_drf_cookie_post_without_csrf_is_403_without_middleware(configure, make_token, settings):
    from django.test import Client

    settings.MIDDLEWARE = [
        m for m in settings.MIDDLEWARE if m != "jwt_guard_django.middleware.JWTGuardMiddleware"
    ]
    configure(TOKEN_LOCATIONS=["cookie"])
    client = Client(enforce_csrf_checks=True)
    client.cookies["access_token"] = make_token()
    response = client.post("/drf/me/")
    assert response.status_code == 403
    assert response.json() == {
        "error": "csrf_failed",
        "error_description": "CSRF verification failed.",
    }
    assert "WWW-Authenticate" not in response
    assert client.get("/drf/me/").status_code == 200


def test_has_scopes_reads_required_scopes_per_method(client, middleware_mode, bearer):
    read_only = bearer(scope="orders:read")
    assert client.get("/drf/orders/", headers=read_only).status_code == 200
    response = client.post("/drf/orders/", headers=read_only)
    assert response.status_code == 403
    assert response["WWW-Authenticate"] == (
        'Bearer realm="api", error="insufficient_scope", scope="orders:write"'
    )
    assert response.json() == SCOPE_BODY
    writer = bearer(scope="orders:write")
    assert client.post("/drf/orders/", headers=writer).status_code == 201


def test_has_scopes_head_falls_back_to_get(client, bearer):
    assert client.head("/drf/orders/", headers=bearer(scope="orders:read")).status_code == 200
    assert client.head("/drf/orders/", headers=bearer(scope="profile")).status_code == 403


def test_has_scopes_refuses_a_method_the_mapping_does_not_name(client, bearer):
    response = client.delete("/drf/orders/", headers=bearer(scope="orders:read orders:write"))
    assert response.status_code == 403
    assert response["WWW-Authenticate"] == 'Bearer realm="api", error="insufficient_scope"'
    assert response.json() == SCOPE_BODY


def test_has_scopes_without_token_is_401(client):
    response = client.get("/drf/orders/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_has_any_scope_needs_one_of_them(client, bearer):
    assert client.get("/drf/any-scope/", headers=bearer(scope="admin")).status_code == 200
    response = client.get("/drf/any-scope/", headers=bearer(scope="orders:read"))
    assert response.status_code == 403
    assert response["WWW-Authenticate"] == (
        'Bearer realm="api", error="insufficient_scope", scope="orders:write admin"'
    )


@pytest.mark.urls("tests.django.test_checks_views")  # its views fail the checks (E022)
def test_view_without_required_scopes_is_a_configuration_error(bearer):
    from django.core.exceptions import ImproperlyConfigured
    from django.test import Client

    with pytest.raises(ImproperlyConfigured, match="sets no required_scopes"):
        Client(raise_request_exception=True).get("/bad/no-scopes", headers=bearer())


async def test_drf_view_over_asgi(async_client, bearer):
    response = await async_client.get("/drf/orders/", headers=bearer(scope="orders:read"))
    assert response.status_code == 200
    response = await async_client.post("/drf/orders/", headers=bearer(scope="orders:read"))
    assert response.status_code == 403
    assert response.json() == SCOPE_BODY
    response = await async_client.get("/drf/me/", headers={"Authorization": "Bearer x.y.z"})
    assert response.status_code == 401
    assert response.json() == INVALID_TOKEN_BODY
