"""current_token, get_jwt(), current_user and @guard.user_loader."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask

from jwt_guard_core import VerifiedToken
from jwt_guard_flask import (
    current_token,
    current_user,
    get_current_user,
    get_jwt,
    get_jwt_header,
    jwt_required,
    token_rejected,
)
from tests.flask.conftest import MakeApp, Mint, bearer, expect_error


@dataclass
class User:
    id: str
    name: str


USERS = {"user-1": User("user-1", "Ada")}


@pytest.fixture
def app(make_app: MakeApp) -> Flask:
    app = make_app()
    guard = app.extensions["jwt_guard"]

    @guard.user_loader
    def load(token: VerifiedToken) -> User | None:
        return USERS.get(token.subject or "")

    @app.get("/me")
    @jwt_required
    def me() -> dict[str, Any]:
        return {
            "name": current_user.name,
            "same": get_current_user() is current_user._get_current_object(),
        }

    @app.get("/async-me")
    @jwt_required
    async def async_me() -> dict[str, Any]:
        return {"name": current_user.name}

    return app


def test_current_token_get_jwt_and_header_in_a_protected_view(
    make_app: MakeApp, mint: Mint
) -> None:
    app = make_app()

    @app.get("/claims")
    @jwt_required
    def claims() -> dict[str, Any]:
        return {
            "sub": current_token.subject,
            "iss": current_token.issuer,
            "kid": current_token.kid,
            "scopes": sorted(current_token.scopes),
            "claims_sub": get_jwt()["sub"],
            "alg": get_jwt_header()["alg"],
        }

    response = app.test_client().get("/claims", headers=bearer(mint()))
    assert response.get_json() == {
        "sub": "user-1",
        "iss": "https://issuer.example",
        "kid": "rsa-1",
        "scopes": ["orders:read", "profile"],
        "claims_sub": "user-1",
        "alg": "RS256",
    }


def test_outside_a_request_everything_is_empty(make_app: MakeApp) -> None:
    assert not current_token
    assert get_jwt() == {}
    assert get_jwt_header() == {}
    assert get_current_user() is None
    app = make_app()
    with app.test_request_context("/"):
        assert not current_token
        assert get_jwt() == {}


def test_claims_are_read_only(make_app: MakeApp, mint: Mint) -> None:
    app = make_app()

    @app.get("/mutate")
    @jwt_required
    def mutate() -> str:
        get_jwt()["sub"] = "admin"  # type: ignore[index]
        return "mutated"

    app.config["PROPAGATE_EXCEPTIONS"] = True
    with pytest.raises(TypeError):
        app.test_client().get("/mutate", headers=bearer(mint()))


@pytest.mark.parametrize("path", ["/me", "/async-me"])
def test_user_loader_feeds_current_user(app: Flask, mint: Mint, path: str) -> None:
    response = app.test_client().get(path, headers=bearer(mint()))
    assert response.status_code == 200
    assert response.get_json()["name"] == "Ada"


def test_sync_view_current_user_matches_get_current_user(app: Flask, mint: Mint) -> None:
    assert app.test_client().get("/me", headers=bearer(mint())).get_json()["same"] is True


@pytest.mark.parametrize("path", ["/me", "/async-me"])
def test_unknown_user_is_401_invalid_token_with_reason_user_not_found(
    app: Flask, mint: Mint, path: str
) -> None:
    reasons: list[str] = []

    def on_rejected(sender: Flask, reason: str, **extra: Any) -> None:
        reasons.append(reason)

    with token_rejected.connected_to(on_rejected, app):
        response = app.test_client().get(path, headers=bearer(mint(sub="ghost")))
    expect_error(response, 401, "invalid_token")
    assert reasons == ["user_not_found"]


def test_async_user_loader_is_awaited_in_async_and_sync_views(
    make_app: MakeApp, mint: Mint
) -> None:
    app = make_app()
    guard = app.extensions["jwt_guard"]

    @guard.user_loader
    async def load(token: VerifiedToken) -> User | None:
        return USERS.get(token.subject or "")

    @app.get("/sync")
    @jwt_required
    def sync_view() -> str:
        return str(current_user.name)

    @app.get("/async")
    @jwt_required
    async def async_view() -> str:
        return str(current_user.name)

    client = app.test_client()
    assert client.get("/sync", headers=bearer(mint())).get_data(as_text=True) == "Ada"
    assert client.get("/async", headers=bearer(mint())).get_data(as_text=True) == "Ada"
    expect_error(client.get("/async", headers=bearer(mint(sub="ghost"))), 401, "invalid_token")


def test_without_a_loader_current_user_is_none(make_app: MakeApp, mint: Mint) -> None:
    app = make_app()

    @app.get("/u")
    @jwt_required
    def u() -> dict[str, Any]:
        return {"user": get_current_user()}

    assert app.test_client().get("/u", headers=bearer(mint())).get_json() == {"user": None}
