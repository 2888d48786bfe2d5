"""Every refusal: status, RFC 6750 WWW-Authenticate, JSON body; never a 500."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from flask import Flask, jsonify

from jwt_guard_flask import (
    JWTGuardHTTPException,
    ScopeForbidden,
    TokenBadRequest,
    TokenUnauthorized,
    jwt_required,
)
from tests.factories import NOW, KeyRing, sign
from tests.flask.conftest import MakeApp, Mint, bearer, expect_error


@pytest.fixture
def app(make_app: MakeApp) -> Flask:
    app = make_app()

    @app.route("/orders", methods=["GET", "POST"])
    @jwt_required(scopes=["orders:read"])
    def orders() -> dict[str, Any]:
        return {"ok": True}

    return app


def test_no_token_is_401_with_only_the_realm(app: Flask) -> None:
    expect_error(app.test_client().get("/orders"), 401, "unauthorized")


def test_another_auth_scheme_counts_as_no_token(app: Flask) -> None:
    response = app.test_client().get("/orders", headers={"Authorization": "Basic dXNlcjpwdw=="})
    expect_error(response, 401, "unauthorized")


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"exp": int(NOW) - 3600}, "token_expired"),
        ({"aud": "https://other.example"}, "bad_audience"),
        ({"iss": "https://evil.example"}, "bad_issuer"),
        ({"nbf": int(NOW) + 3600}, "not_yet_valid"),
        ({"sub": None}, "missing_claim"),
    ],
)
def test_invalid_token_is_401_invalid_token_and_the_reason_stays_in_the_logs(
    app: Flask,
    mint: Mint,
    security_events: pytest.LogCaptureFixture,
    claims: dict[str, Any],
    reason: str,
) -> None:
    response = app.test_client().get("/orders", headers=bearer(mint(**claims)))
    expect_error(response, 401, "invalid_token")
    assert reason not in response.get_data(as_text=True)
    assert [r.reason for r in security_events.records if hasattr(r, "jwt_guard_event")] == [reason]


def test_bad_signature_is_401_invalid_token(app: Flask, mint: Mint) -> None:
    header, payload, signature = mint().split(".")
    forged = f"{header}.{payload}.{signature[::-1]}"
    expect_error(app.test_client().get("/orders", headers=bearer(forged)), 401, "invalid_token")


def test_unknown_kid_is_401_invalid_token(app: Flask, mint: Mint) -> None:
    response = app.test_client().get("/orders", headers=bearer(mint(kid="nope")))
    expect_error(response, 401, "invalid_token")


def test_hs256_token_against_an_rsa_config_is_401(app: Flask, keyring: KeyRing) -> None:
    token = sign({"alg": "HS256", "kid": "rsa-1"}, {"sub": "x"}, keyring.secret)
    expect_error(app.test_client().get("/orders", headers=bearer(token)), 401, "invalid_token")


@pytest.mark.parametrize(
    "authorization",
    ["Bearer", "Bearer ", "Bearer a b", "Bearer t\u00f6ken", "Bearer {json}"],
)
def test_malformed_authorization_header_is_400_invalid_request(
    app: Flask, authorization: str
) -> None:
    response = app.test_client().get("/orders", headers={"Authorization": authorization})
    expect_error(response, 400, "invalid_request")


@pytest.mark.parametrize(
    "garbage",
    ["x", "a.b", "a.b.c", "....", "e30.e30.", "A" * 9000, "eyJhbGciOiJub25lIn0.e30."],
)
def test_garbage_tokens_are_401_never_500(app: Flask, garbage: str) -> None:
    response = app.test_client().get("/orders", headers=bearer(garbage))
    expect_error(response, 401, "invalid_token")


def test_missing_scope_is_403_insufficient_scope_with_the_scope_param(
    app: Flask, mint: Mint
) -> None:
    response = app.test_client().get("/orders", headers=bearer(mint(scope="profile")))
    expect_error(response, 403, "insufficient_scope", scope="orders:read")


def test_realm_comes_from_config(make_app: MakeApp, mint: Mint) -> None:
    app = make_app(JWT_GUARD_REALM="orders-api")

    @app.get("/x")
    @jwt_required
    def x() -> str:
        return "ok"

    expect_error(app.test_client().get("/x"), 401, "unauthorized", realm="orders-api")
    response = app.test_client().get("/x", headers=bearer(mint(exp=1)))
    expect_error(response, 401, "invalid_token", realm="orders-api")


def test_exceptions_are_the_matching_werkzeug_classes(app: Flask) -> None:
    from werkzeug import exceptions as wz

    assert issubclass(TokenUnauthorized, wz.Unauthorized)
    assert issubclass(TokenBadRequest, wz.BadRequest)
    assert issubclass(ScopeForbidden, wz.Forbidden)
    assert issubclass(TokenUnauthorized, JWTGuardHTTPException)


def test_an_app_errorhandler_for_401_sees_the_refusal(make_app: MakeApp) -> None:
    app = make_app()
    seen: list[JWTGuardHTTPException] = []

    @app.errorhandler(401)
    def on_401(exc: Any) -> Any:
        seen.append(exc)
        return exc

    @app.get("/x")
    @jwt_required
    def x() -> str:
        return "ok"

    response = app.test_client().get("/x")
    # Flask prefers a handler registered for the status code; ours is a 401.
    assert [type(e) for e in seen] == [TokenUnauthorized]
    expect_error(response, 401, "unauthorized")


def test_guard_error_handler_customises_every_refusal(make_app: MakeApp, mint: Mint) -> None:
    app = make_app()
    guard = app.extensions["jwt_guard"]

    @guard.error_handler
    def custom(exc: JWTGuardHTTPException) -> Any:
        response = jsonify(problem=exc.data["error"], why=exc.reason)
        response.status_code = exc.code or 500
        response.headers.update(exc.headers)
        return response

    @app.get("/x")
    @jwt_required(scopes=["admin"])
    def x() -> str:
        return "ok"

    client = app.test_client()
    missing = client.get("/x")
    assert missing.status_code == 401
    assert missing.get_json() == {"problem": "unauthorized", "why": "missing_token"}
    assert missing.headers["WWW-Authenticate"] == 'Bearer realm="api"'
    expired = client.get("/x", headers=bearer(mint(exp=1)))
    assert expired.status_code == 401
    assert expired.get_json() == {"problem": "invalid_token", "why": "token_expired"}
    scope = client.get("/x", headers=bearer(mint()))
    assert scope.status_code == 403
    assert scope.get_json() == {"problem": "insufficient_scope", "why": "insufficient_scope"}
    assert scope.headers["WWW-Authenticate"] == (
        'Bearer realm="api", error="insufficient_scope", scope="admin"'
    )


def test_refusals_are_not_logged_as_server_errors(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    app.test_client().get("/orders", headers=bearer("a.b.c"))
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_repr_names_status_and_reason(app: Flask) -> None:
    from jwt_guard_flask.errors import http_error

    assert repr(http_error(None)) == "TokenUnauthorized(status=401, reason='missing_token')"
