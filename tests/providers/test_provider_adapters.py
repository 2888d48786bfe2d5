"""Each provider's tokens through both adapters, configured by PROVIDER alone (plus test keys)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from django.http import HttpRequest, JsonResponse
from django.urls import path
from flask import Flask

from jwt_guard_django import jwt_required as django_jwt_required
from jwt_guard_flask import JWTGuard, current_token
from jwt_guard_flask import jwt_required as flask_jwt_required
from tests.factories import public_pem, sign
from tests.providers.shapes import SHAPES, Shape

IDS = [s.provider for s in SHAPES]
INVALID = 'Bearer realm="api", error="invalid_token"'
pytestmark = pytest.mark.urls(__name__)


@django_jwt_required
def grants(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        {"roles": sorted(request.auth.roles), "scopes": sorted(request.auth.scopes)}
    )


urlpatterns = [path("grants/", grants)]


def _token(shape: Shape, keyring: Any, **changes: Any) -> str:
    payload = {k: v for k, v in {**shape.claims, **changes}.items() if v is not None}
    return sign({"alg": "RS256", "kid": "rsa-1", **shape.header}, payload, keyring.rsa)


def _expected(shape: Shape) -> dict[str, Any]:
    return {"roles": sorted(shape.roles), "scopes": sorted(shape.scopes)}


@pytest.fixture
def django_provider(settings, keyring, clock):
    def _configure(shape: Shape) -> None:
        settings.JWT_GUARD = {
            "PROVIDER": {"name": shape.provider, **shape.params},
            "VERIFYING_KEY": {"rsa-1": public_pem(keyring.rsa).decode()},
            "CLOCK": clock,
        }

    return _configure


@pytest.fixture
def flask_app(keyring, clock):
    def _make(shape: Shape) -> Flask:
        app = Flask("provider_test")
        app.config.update(
            JWT_GUARD_PROVIDER={"name": shape.provider, **shape.params},
            JWT_GUARD_PUBLIC_KEY={"rsa-1": public_pem(keyring.rsa)},
            JWT_GUARD_CLOCK=clock,
        )
        JWTGuard(app)

        @app.get("/grants")
        @flask_jwt_required
        def grants() -> Any:
            return {"roles": sorted(current_token.roles), "scopes": sorted(current_token.scopes)}

        return app

    return _make


@pytest.mark.parametrize("shape", SHAPES, ids=IDS)
def test_django_accepts_the_providers_access_token(shape, django_provider, client, keyring):
    django_provider(shape)
    response = client.get("/grants/", headers={"Authorization": f"Bearer {_token(shape, keyring)}"})
    assert response.status_code == 200
    assert response.json() == _expected(shape)


@pytest.mark.parametrize("shape", SHAPES, ids=IDS)
def test_django_async_accepts_it_too(shape, django_provider, async_client, keyring):
    django_provider(shape)

    async def run() -> Any:
        return await async_client.get(
            "/grants/", headers={"Authorization": f"Bearer {_token(shape, keyring)}"}
        )

    assert asyncio.run(run()).json() == _expected(shape)


@pytest.mark.parametrize("shape", SHAPES, ids=IDS)
def test_flask_accepts_the_providers_access_token(shape, flask_app, keyring):
    response = (
        flask_app(shape)
        .test_client()
        .get("/grants", headers={"Authorization": f"Bearer {_token(shape, keyring)}"})
    )
    assert response.status_code == 200
    assert response.get_json() == _expected(shape)


@pytest.mark.parametrize(
    ("shape", "other"),
    [(s, o) for s in SHAPES for o in (*s.others, {"iss": "https://evil.example/"})],
    ids=[f"{s.provider}-{i}" for s in SHAPES for i in range(len(s.others) + 1)],
)
def test_both_adapters_refuse_other_tokens_with_401(
    shape, other, django_provider, client, flask_app, keyring
):
    headers = {"Authorization": f"Bearer {_token(shape, keyring, **other)}"}
    django_provider(shape)
    response = client.get("/grants/", headers=headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == INVALID
    response = flask_app(shape).test_client().get("/grants", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == INVALID
