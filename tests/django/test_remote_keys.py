"""JWKS_URL and OIDC_ISSUER: keys from a real HTTP server on loopback."""

from __future__ import annotations

import pytest

from jwt_guard_core import StaticKeySet
from jwt_guard_django.verifier import get_verifier, key_set_health, warm
from tests.factories import claims, public_pem, sign

UNAVAILABLE_BODY = {
    "error": "temporarily_unavailable",
    "error_description": "Token verification is temporarily unavailable.",
}


@pytest.fixture
def jwks(keyring):
    return StaticKeySet.from_pem(public_pem(keyring.rsa), kid="rsa-1").jwks()


@pytest.fixture
def remote(configure, httpserver, jwks):
    httpserver.expect_request("/jwks.json").respond_with_json(
        jwks, headers={"Cache-Control": "max-age=600"}
    )
    configure(VERIFYING_KEY=None, JWKS_URL=httpserver.url_for("/jwks.json"))
    return httpserver


def _jwks_requests(server) -> int:
    return sum(1 for request, _ in server.log if request.path == "/jwks.json")


def test_token_verified_with_keys_from_jwks_url(client, remote, bearer):
    response = client.get("/plain/", headers=bearer())
    assert response.status_code == 200
    assert response.json()["sub"] == "user-1"
    assert client.get("/plain/", headers=bearer()).status_code == 200
    assert _jwks_requests(remote) == 1


async def test_token_verified_with_keys_from_jwks_url_over_asgi(async_client, remote, bearer):
    response = await async_client.get("/plain-async/", headers=bearer())
    assert response.status_code == 200
    assert response.json()["sub"] == "user-1"


def test_unknown_kid_is_401(client, remote, keyring):
    token = sign({"alg": "RS256", "kid": "other"}, claims(), keyring.rsa)
    response = client.get("/plain/", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'


def test_key_source_outage_is_503_with_retry_after(client, configure, httpserver, bearer):
    httpserver.expect_request("/down.json").respond_with_data("boom", status=500)
    configure(VERIFYING_KEY=None, JWKS_URL=httpserver.url_for("/down.json"))
    response = client.get("/plain/", headers=bearer())
    assert response.status_code == 503
    assert int(response["Retry-After"]) >= 1
    assert "WWW-Authenticate" not in response
    assert response.json() == UNAVAILABLE_BODY


async def test_key_source_outage_over_asgi_is_503(async_client, configure, httpserver, bearer):
    httpserver.expect_request("/down.json").respond_with_data("boom", status=503)
    configure(VERIFYING_KEY=None, JWKS_URL=httpserver.url_for("/down.json"))
    response = await async_client.get("/plain-async/", headers=bearer())
    assert response.status_code == 503
    assert int(response["Retry-After"]) >= 1
    assert response.json() == UNAVAILABLE_BODY


def test_drf_view_answers_503_with_retry_after(client, configure, httpserver, bearer):
    httpserver.expect_request("/down.json").respond_with_data("boom", status=500)
    configure(VERIFYING_KEY=None, JWKS_URL=httpserver.url_for("/down.json"))
    response = client.get("/drf/me/", headers=bearer())
    assert response.status_code == 503
    assert int(response["Retry-After"]) >= 1
    assert response.json() == UNAVAILABLE_BODY


def test_warm_fetches_the_key_set_before_the_first_request(client, remote, bearer):
    assert key_set_health()["key_sets"]["https://issuer.example"]["state"] == "cold"
    warm()
    assert _jwks_requests(remote) == 1
    health = key_set_health()
    assert health["ok"] is True
    assert health["key_sets"]["https://issuer.example"]["state"] == "ok"
    assert health["key_sets"]["https://issuer.example"]["kids"] == ["rsa-1"]
    assert client.get("/plain/", headers=bearer()).status_code == 200
    assert _jwks_requests(remote) == 1


def test_health_reports_an_unavailable_key_set(configure, httpserver):
    httpserver.expect_request("/down.json").respond_with_data("boom", status=500)
    configure(VERIFYING_KEY=None, JWKS_URL=httpserver.url_for("/down.json"))
    warm()
    health = key_set_health()
    assert health["ok"] is False
    assert health["key_sets"]["https://issuer.example"]["state"] == "unavailable"


def test_oidc_issuer_discovers_the_jwks_and_is_the_expected_issuer(
    client, configure, httpserver, jwks, keyring
):
    issuer = httpserver.url_for("/realms/test")
    httpserver.expect_request("/realms/test/.well-known/openid-configuration").respond_with_json(
        {"issuer": issuer, "jwks_uri": httpserver.url_for("/realms/test/certs")}
    )
    httpserver.expect_request("/realms/test/certs").respond_with_json(jwks)
    configure(VERIFYING_KEY=None, ISSUER=None, OIDC_ISSUER=issuer)
    token = sign({"alg": "RS256", "kid": "rsa-1"}, claims(iss=issuer), keyring.rsa)
    response = client.get("/plain/", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert get_verifier().config.issuer == issuer
    other = sign({"alg": "RS256", "kid": "rsa-1"}, claims(), keyring.rsa)
    response = client.get("/plain/", headers={"Authorization": f"Bearer {other}"})
    assert response.status_code == 401
