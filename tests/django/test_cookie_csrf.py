"""Tokens from the HttpOnly cookie: location order, and CSRF on unsafe methods."""

from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.test import AsyncClient, Client

from jwt_guard_django.cookies import delete_auth_cookie, set_auth_cookie
from jwt_guard_django.signals import token_rejected

CSRF_BODY = {"error": "csrf_failed", "error_description": "CSRF verification failed."}
CSRF_SECRET = "A" * 16 + "b" * 16  # Django's 32-character secret format


@pytest.fixture
def csrf_client():
    # The default test client skips CSRF; a browser-like one does not.
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def cookie_mode(configure):
    configure(TOKEN_LOCATIONS=["header", "cookie"])


@pytest.fixture
def rejected_reasons():
    reasons: list[str] = []

    def receiver(sender, **kwargs):
        reasons.append(kwargs["reason"])

    token_rejected.connect(receiver)
    yield reasons
    token_rejected.disconnect(receiver)


def test_cookie_token_is_accepted_on_a_safe_method_without_csrf(
    csrf_client, cookie_mode, make_token
):
    csrf_client.cookies["access_token"] = make_token()
    response = csrf_client.get("/plain/")
    assert response.status_code == 200
    assert response.json()["sub"] == "user-1"


def test_cookie_token_on_post_without_csrf_proof_is_403_csrf_failed(
    csrf_client, cookie_mode, make_token, rejected_reasons
):
    csrf_client.cookies["access_token"] = make_token()
    response = csrf_client.post("/plain/")
    assert response.status_code == 403
    assert response.json() == CSRF_BODY
    assert "WWW-Authenticate" not in response
    assert rejected_reasons == ["csrf_failed"]


def test_cookie_token_on_post_with_csrf_token_is_accepted(csrf_client, cookie_mode, make_token):
    csrf_client.cookies["access_token"] = make_token()
    csrf_client.cookies["csrftoken"] = CSRF_SECRET
    response = csrf_client.post("/plain/", headers={"X-CSRFToken": CSRF_SECRET})
    assert response.status_code == 200
    assert response.json()["sub"] == "user-1"


def test_cookie_token_with_csrf_token_from_a_foreign_origin_is_403(
    csrf_client, cookie_mode, make_token
):
    csrf_client.cookies["access_token"] = make_token()
    csrf_client.cookies["csrftoken"] = CSRF_SECRET
    response = csrf_client.post(
        "/plain/", headers={"X-CSRFToken": CSRF_SECRET, "Origin": "https://evil.example"}
    )
    assert response.status_code == 403
    assert response.json() == CSRF_BODY


def test_cookie_token_with_wrong_csrf_token_is_403(csrf_client, cookie_mode, make_token):
    csrf_client.cookies["access_token"] = make_token()
    csrf_client.cookies["csrftoken"] = CSRF_SECRET
    response = csrf_client.post("/plain/", headers={"X-CSRFToken": "C" * 32})
    assert response.status_code == 403
    assert response.json() == CSRF_BODY


def test_header_token_on_post_needs_no_csrf(csrf_client, cookie_mode, bearer):
    response = csrf_client.post("/plain/", headers=bearer())
    assert response.status_code == 200
    assert response.json()["sub"] == "user-1"


def test_cookie_csrf_can_be_turned_off(csrf_client, configure, make_token):
    configure(TOKEN_LOCATIONS=["cookie"], AUTH_COOKIE_CSRF=False)
    csrf_client.cookies["access_token"] = make_token()
    response = csrf_client.post("/plain/")
    assert response.status_code == 200


def test_cookie_is_ignored_when_only_the_header_is_configured(csrf_client, make_token):
    csrf_client.cookies["access_token"] = make_token()
    response = csrf_client.get("/plain/")
    assert response.status_code == 200
    assert response.json()["authenticated"] is False


def test_locations_are_tried_in_the_configured_order(client, configure, make_token):
    client.cookies["access_token"] = make_token(sub="from-cookie")
    headers = {"Authorization": "Bearer not-a-token"}
    configure(TOKEN_LOCATIONS=["header", "cookie"])
    response = client.get("/plain/", headers=headers)
    assert response.status_code == 401
    configure(TOKEN_LOCATIONS=["cookie", "header"])
    response = client.get("/plain/", headers=headers)
    assert response.status_code == 200
    assert response.json()["sub"] == "from-cookie"


def test_cookie_name_comes_from_auth_cookie(client, configure, make_token):
    configure(TOKEN_LOCATIONS=["cookie"], AUTH_COOKIE="jwt")
    client.cookies["jwt"] = make_token()
    response = client.get("/plain/")
    assert response.status_code == 200
    assert response.json()["sub"] == "user-1"


def test_invalid_cookie_token_is_401(client, configure):
    configure(TOKEN_LOCATIONS=["cookie"])
    client.cookies["access_token"] = "e30.e30.e30"
    response = client.get("/plain/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'


async def test_cookie_token_on_post_without_csrf_over_asgi_is_403(cookie_mode, make_token):
    client = AsyncClient(enforce_csrf_checks=True)
    client.cookies["access_token"] = make_token()
    response = await client.post("/plain-async/")
    assert response.status_code == 403
    assert response.json() == CSRF_BODY
    client.cookies["csrftoken"] = CSRF_SECRET
    response = await client.post("/plain-async/", headers={"X-CSRFToken": CSRF_SECRET})
    assert response.status_code == 200


def test_drf_view_refuses_cookie_post_without_csrf(csrf_client, cookie_mode, make_token):
    csrf_client.cookies["access_token"] = make_token()
    response = csrf_client.post("/drf/me/")
    assert response.status_code == 403
    assert response.json() == CSRF_BODY


def test_set_auth_cookie_applies_the_configured_attributes(configure):
    configure(AUTH_COOKIE="jwt", AUTH_COOKIE_SAMESITE="Strict", AUTH_COOKIE_PATH="/api")
    response = HttpResponse()
    set_auth_cookie(response, "tok.en.value", max_age=600)
    morsel = response.cookies["jwt"]
    assert morsel.value == "tok.en.value"
    assert morsel["secure"] is True
    assert morsel["httponly"] is True
    assert morsel["samesite"] == "Strict"
    assert morsel["path"] == "/api"
    assert morsel["max-age"] == 600


def test_delete_auth_cookie_expires_it():
    response = HttpResponse()
    delete_auth_cookie(response)
    morsel = response.cookies["access_token"]
    assert morsel.value == ""
    assert morsel["max-age"] == 0
    assert morsel["expires"] == "Thu, 01 Jan 1970 00:00:00 GMT"
