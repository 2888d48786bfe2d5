"""JWTGuardMiddleware under ASGI (the async test client): the async path uses averify."""

from __future__ import annotations

import pytest

from jwt_guard_core import Verifier
from tests.django.bodies import INVALID_TOKEN_BODY, USER_1_ME

CHALLENGE = 'Bearer realm="api", error="invalid_token"'


@pytest.fixture
def verify_calls(monkeypatch):
    """Which Verifier entry point served the request (the real method still runs)."""
    calls: list[str] = []
    real_verify, real_averify = Verifier.verify, Verifier.averify

    def verify(self, token):
        calls.append("verify")
        return real_verify(self, token)

    async def averify(self, token):
        calls.append("averify")
        return await real_averify(self, token)

    monkeypatch.setattr(Verifier, "verify", verify)
    monkeypatch.setattr(Verifier, "averify", averify)
    return calls


async def test_valid_token_over_asgi_is_verified_with_averify(async_client, bearer, verify_calls):
    response = await async_client.get("/plain-async/", headers=bearer())
    assert response.status_code == 200
    assert response.json() == USER_1_ME
    assert verify_calls == ["averify"]


async def test_sync_view_behind_async_middleware_sees_the_token(async_client, bearer):
    response = await async_client.get("/plain/", headers=bearer())
    assert response.status_code == 200
    assert response.json()["user"] == "TokenUser"


async def test_no_token_over_asgi_passes_on_as_anonymous(async_client, verify_calls):
    response = await async_client.get("/plain-async/")
    assert response.status_code == 200
    assert response.json()["authenticated"] is False
    assert response.json()["user"] == "AnonymousUser"
    assert verify_calls == []


async def test_expired_token_over_asgi_is_401(async_client, bearer, clock):
    headers = bearer()
    clock.advance(3600)
    response = await async_client.get("/plain-async/", headers=headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == CHALLENGE
    assert response.json() == INVALID_TOKEN_BODY


async def test_malformed_header_over_asgi_is_400(async_client):
    response = await async_client.get("/plain-async/", headers={"Authorization": "Bearer a b"})
    assert response.status_code == 400
    assert response["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_request"'
    assert response.json() == {
        "error": "invalid_request",
        "error_description": "The request is malformed.",
    }


async def test_garbage_token_over_asgi_is_401(async_client):
    response = await async_client.get("/plain-async/", headers={"Authorization": "Bearer e30.e30."})
    assert response.status_code == 401
    assert response.json() == INVALID_TOKEN_BODY
