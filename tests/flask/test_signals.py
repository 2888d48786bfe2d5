"""Blinker signals token_verified and token_rejected."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from flask import Flask

from jwt_guard_core import TokenExpired, VerifiedToken
from jwt_guard_flask import jwt_required, token_rejected, token_verified
from tests.flask.conftest import MakeApp, Mint, bearer


@pytest.fixture
def app(make_app: MakeApp) -> Flask:
    app = make_app()

    @app.get("/x")
    @jwt_required(scopes=["orders:read"])
    def x() -> str:
        return "ok"

    return app


@pytest.fixture
def received(app: Flask) -> Any:
    log: list[tuple[str, Any, dict[str, Any]]] = []

    def on_verified(sender: Flask, **kwargs: Any) -> None:
        log.append(("verified", sender, kwargs))

    def on_rejected(sender: Flask, **kwargs: Any) -> None:
        log.append(("rejected", sender, kwargs))

    token_verified.connect(on_verified, app)
    token_rejected.connect(on_rejected, app)
    yield log
    token_verified.disconnect(on_verified, app)
    token_rejected.disconnect(on_rejected, app)


def test_token_verified_is_sent_with_the_app_and_the_token(
    app: Flask, mint: Mint, received: Any
) -> None:
    assert app.test_client().get("/x", headers=bearer(mint())).status_code == 200
    [(kind, sender, kwargs)] = received
    assert kind == "verified"
    assert sender is app
    assert isinstance(kwargs["token"], VerifiedToken)
    assert kwargs["token"].subject == "user-1"


def test_token_rejected_carries_the_reason_and_error(app: Flask, mint: Mint, received: Any) -> None:
    app.test_client().get("/x", headers=bearer(mint(exp=1)))
    [(kind, sender, kwargs)] = received
    assert (kind, sender, kwargs["reason"]) == ("rejected", app, "token_expired")
    assert isinstance(kwargs["error"], TokenExpired)


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "missing_token"),
        ({"Authorization": "Bearer"}, "invalid_request"),
    ],
)
def test_token_rejected_for_missing_and_malformed_credentials(
    app: Flask, received: Any, headers: dict[str, str], reason: str
) -> None:
    app.test_client().get("/x", headers=headers)
    assert [(k, kw["reason"]) for k, _, kw in received] == [("rejected", reason)]


def test_insufficient_scope_sends_verified_then_rejected(
    app: Flask, mint: Mint, received: Any
) -> None:
    app.test_client().get("/x", headers=bearer(mint(scope="profile")))
    assert [(k, kw.get("reason")) for k, _, kw in received] == [
        ("verified", None),
        ("rejected", "insufficient_scope"),
    ]


def test_a_failing_receiver_is_logged_and_does_not_change_the_response(
    app: Flask, mint: Mint, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(sender: Flask, **kwargs: Any) -> None:
        raise RuntimeError("receiver bug")

    with token_verified.connected_to(broken, app):
        response = app.test_client().get("/x", headers=bearer(mint()))
    assert response.status_code == 200
    failures = [r for r in caplog.records if r.name == "jwt_guard.flask"]
    assert [r.levelno for r in failures] == [logging.ERROR]
    assert "signal receiver" in failures[0].getMessage()


def test_receivers_of_another_app_are_not_called(app: Flask, make_app: MakeApp, mint: Mint) -> None:
    other = make_app()
    calls: list[Any] = []

    def on_verified(sender: Flask, **kwargs: Any) -> None:
        calls.append(sender)

    with token_verified.connected_to(on_verified, other):
        app.test_client().get("/x", headers=bearer(mint()))
    assert calls == []
