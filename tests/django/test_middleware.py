"""JWTGuardMiddleware under WSGI (the sync test client)."""

from __future__ import annotations

import json

import pytest

from tests.django.bodies import INVALID_TOKEN_BODY, USER_1_ME
from tests.factories import sign

CHALLENGE = 'Bearer realm="api", error="invalid_token"'


def test_valid_bearer_token_sets_request_auth_and_a_token_user(client, bearer):
    response = client.get("/plain/", headers=bearer())
    assert response.status_code == 200
    assert response.json() == USER_1_ME
    assert "WWW-Authenticate" not in response


def test_request_without_token_passes_on_as_anonymous(client):
    response = client.get("/plain/")
    assert response.status_code == 200
    assert response.json() == {
        "sub": None,
        "scopes": [],
        "authenticated": False,
        "user": "AnonymousUser",
        "username": None,
    }


def test_other_authorization_scheme_passes_on_as_anonymous(client):
    response = client.get("/plain/", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert response.status_code == 200
    assert response.json()["authenticated"] is False


def test_expired_token_is_rejected_with_401_invalid_token_and_no_details(client, bearer, clock):
    headers = bearer()
    clock.advance(3600)
    response = client.get("/plain/", headers=headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == CHALLENGE
    assert response["Content-Type"] == "application/json"
    assert response.json() == INVALID_TOKEN_BODY


def test_tampered_token_is_rejected_with_401(client, make_token):
    token = make_token()
    head, _payload, sig = token.split(".")
    forged = sign({"alg": "RS256", "kid": "rsa-1"}, {"sub": "admin"}, b"x" * 32, alg="HS256")
    response = client.get(
        "/plain/", headers={"Authorization": f"Bearer {head}.{forged.split('.')[1]}.{sig}"}
    )
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == CHALLENGE
    assert response.json() == INVALID_TOKEN_BODY


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"aud": "https://other.example"}, "bad_audience"),
        ({"iss": "https://evil.example"}, "bad_issuer"),
        ({"sub": None}, "missing_claim"),
    ],
)
def test_token_failing_a_claim_check_is_rejected_with_401(client, bearer, overrides, reason):
    from jwt_guard_django.signals import token_rejected

    seen = []

    def receiver(sender, **kwargs):
        seen.append(kwargs["reason"])

    token_rejected.connect(receiver)
    try:
        response = client.get("/plain/", headers=bearer(**overrides))
    finally:
        token_rejected.disconnect(receiver)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == CHALLENGE
    assert response.json() == INVALID_TOKEN_BODY
    assert seen == [reason]


@pytest.mark.parametrize(
    "authorization",
    ["Bearer", "Bearer ", "Bearer a b", "Bearer abc$def", "bearer \u00e9t\u00e9"],
)
def test_malformed_authorization_header_is_400_invalid_request(client, authorization):
    response = client.get("/plain/", headers={"Authorization": authorization})
    assert response.status_code == 400
    assert response["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_request"'
    assert response.json() == {
        "error": "invalid_request",
        "error_description": "The request is malformed.",
    }


@pytest.mark.parametrize("garbage", ["abc", "a.b.c", "....", "e30.e30.", "x" * 10000])
def test_garbage_token_is_401_never_500(client, garbage):
    response = client.get("/plain/", headers={"Authorization": f"Bearer {garbage}"})
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == CHALLENGE
    assert response.json() == INVALID_TOKEN_BODY


def test_realm_setting_is_used_in_the_challenge(client, configure):
    configure(REALM='orders "api"')
    response = client.get("/plain/", headers={"Authorization": "Bearer abc"})
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="orders \\"api\\"", error="invalid_token"'


def test_custom_header_type_is_accepted(client, configure, make_token):
    configure(AUTH_HEADER_TYPES=["JWT"])
    response = client.get("/plain/", headers={"Authorization": f"JWT {make_token()}"})
    assert response.status_code == 200
    assert response.json()["sub"] == "user-1"
    # Bearer is no longer ours: another scheme, passed on as anonymous.
    response = client.get("/plain/", headers={"Authorization": f"Bearer {make_token()}"})
    assert response.status_code == 200
    assert response.json()["authenticated"] is False


def test_session_user_is_kept_when_no_token_is_sent(client, django_user_model, db):
    user = django_user_model.objects.create_user(username="alice", password="pw-alice-123")
    client.force_login(user)
    response = client.get("/plain/")
    assert response.status_code == 200
    assert response.json()["username"] == "alice"
    assert response.json()["sub"] is None


def test_verifier_is_built_once_and_rebuilt_when_settings_change(client, bearer, configure):
    from jwt_guard_django.verifier import get_verifier

    first = get_verifier()
    assert client.get("/plain/", headers=bearer()).status_code == 200
    assert get_verifier() is first
    configure(AUDIENCE="https://other-api.example")
    assert get_verifier() is not first
    response = client.get("/plain/", headers=bearer())
    assert response.status_code == 401
    assert json.loads(response.content) == INVALID_TOKEN_BODY
