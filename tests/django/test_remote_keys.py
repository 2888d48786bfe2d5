"""JWKS_URL and OIDC_ISSUER: keys from a real HTTP server on loopback."""

from __future__ import annotations

import pytest

from jwt_guard_core import StaticKeySet
from jwt_guard_django.verifier import awarm, get_verifier, key_set_health, warm
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


def test_failed_warm_is_logged_and_health_reports_unavailable(configure, httpserver, caplog):
    httpserver.expect_request("/down.json").respond_with_data("boom", status=500)
    configure(VERIFYING_KEY=None, JWKS_URL=httpserver.url_for("/down.json"))
    with caplog.at_level("WARNING", logger="jwt_guard.django"):
        warm()
    assert [r.jwt_guard_event for r in caplog.records if r.name == "jwt_guard.django"] == [
        "warm_failed"
    ]
    health = key_set_health()
    assert health["ok"] is False
    assert health["key_sets"]["https://issuer.example"]["state"] == "unavailable"


async def test_awarm_fetches_without_blocking_the_loop(remote, bearer, async_client):
    await awarm()
    assert _jwks_requests(remote) == 1
    assert key_set_health()["key_sets"]["https://issuer.example"]["state"] == "ok"
    assert (await async_client.get("/plain-async/", headers=bearer())).status_code == 200
    assert _jwks_requests(remote) == 1


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


def test_app_ready_warms_the_key_sets_when_configured(configure, remote):
    from django.apps import apps

    configure(WARM_ON_STARTUP=True)
    apps.get_app_config("jwt_guard").ready()
    assert _jwks_requests(remote) == 1
    assert key_set_health()["key_sets"]["https://issuer.example"]["state"] == "ok"


def test_app_ready_does_not_fetch_unless_configured(configure, remote):
    from django.apps import apps

    apps.get_app_config("jwt_guard").ready()
    assert _jwks_requests(remote) == 0


def test_app_ready_with_bad_settings_logs_and_leaves_it_to_the_checks(configure, caplog):
    from django.apps import apps

    configure(WARM_ON_STARTUP=True, AUDIENCE=None)
    with caplog.at_level("ERROR", logger="jwt_guard.django"):
        apps.get_app_config("jwt_guard").ready()
    assert "jwt-guard is misconfigured" in caplog.text
