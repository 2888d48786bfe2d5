"""Double-submit CSRF for cookie tokens on unsafe methods."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, Response

from jwt_guard_core import StaticKeySet
from jwt_guard_flask import jwt_required, set_access_cookies, unset_access_cookies
from tests.factories import KeyRing, claims, public_pem, sign
from tests.flask.conftest import MakeApp, Mint, bearer, expect_error

CSRF = "a-random-csrf-value-0123456789abcdef"


@pytest.fixture
def app(make_app: MakeApp) -> Flask:
    app = make_app(JWT_GUARD_TOKEN_LOCATION=["header", "cookie"])

    @app.route("/orders", methods=["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"])
    @jwt_required
    def orders() -> str:
        return "ok"

    return app


def _cookies(response: Any) -> dict[str, tuple[str, set[str]]]:
    """Set-Cookie headers as name -> (value, attributes), Expires left out (it is a date)."""
    found = {}
    for header in response.headers.getlist("Set-Cookie"):
        pair, *attributes = header.split("; ")
        name, _, value = pair.partition("=")
        found[name] = (value, {a for a in attributes if not a.startswith("Expires=")})
    return found


def _client(app: Flask, token: str, csrf_cookie: str | None = CSRF) -> Any:
    client = app.test_client()
    client.set_cookie("access_token", token)
    if csrf_cookie is not None:
        client.set_cookie("csrf_token", csrf_cookie)
    return client


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_cookie_token_on_unsafe_method_without_csrf_header_is_403(
    app: Flask, mint: Mint, method: str
) -> None:
    response = _client(app, mint()).open("/orders", method=method)
    expect_error(response, 403, "csrf_failed")


def test_csrf_header_not_equal_to_the_cookie_is_403(app: Flask, mint: Mint) -> None:
    response = _client(app, mint()).post("/orders", headers={"X-CSRF-Token": CSRF + "x"})
    expect_error(response, 403, "csrf_failed")


def test_csrf_header_without_the_csrf_cookie_is_403(app: Flask, mint: Mint) -> None:
    client = _client(app, mint(), csrf_cookie=None)
    expect_error(client.post("/orders", headers={"X-CSRF-Token": CSRF}), 403, "csrf_failed")


def test_empty_csrf_cookie_and_header_never_match(app: Flask, mint: Mint) -> None:
    client = _client(app, mint(), csrf_cookie="")
    expect_error(client.post("/orders", headers={"X-CSRF-Token": ""}), 403, "csrf_failed")


def test_matching_csrf_header_lets_the_request_through(app: Flask, mint: Mint) -> None:
    response = _client(app, mint()).post("/orders", headers={"X-CSRF-Token": CSRF})
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "ok"


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS"])
def test_safe_methods_need_no_csrf_proof(app: Flask, mint: Mint, method: str) -> None:
    assert _client(app, mint()).open("/orders", method=method).status_code == 200


def test_header_token_on_unsafe_method_needs_no_csrf_proof(app: Flask, mint: Mint) -> None:
    assert app.test_client().post("/orders", headers=bearer(mint())).status_code == 200


def test_csrf_is_checked_before_the_token_is_verified(
    app: Flask, security_events: pytest.LogCaptureFixture
) -> None:
    response = _client(app, "not.a.token").post("/orders")
    expect_error(response, 403, "csrf_failed")
    assert [getattr(r, "reason", None) for r in security_events.records] == ["csrf_failed"]


def test_invalid_cookie_token_with_valid_csrf_is_401(app: Flask, mint: Mint) -> None:
    response = _client(app, mint(exp=1)).post("/orders", headers={"X-CSRF-Token": CSRF})
    expect_error(response, 401, "invalid_token")


def test_header_and_cookie_names_come_from_config(make_app: MakeApp, mint: Mint) -> None:
    app = make_app(
        JWT_GUARD_TOKEN_LOCATION="cookies",
        JWT_GUARD_COOKIE_NAME="jwt",
        JWT_GUARD_CSRF_COOKIE_NAME="xsrf",
        JWT_GUARD_CSRF_HEADER_NAME="X-XSRF-TOKEN",
    )

    @app.post("/x")
    @jwt_required
    def x() -> str:
        return "ok"

    client = app.test_client()
    client.set_cookie("jwt", mint())
    client.set_cookie("xsrf", CSRF)
    expect_error(client.post("/x", headers={"X-CSRF-Token": CSRF}), 403, "csrf_failed")
    assert client.post("/x", headers={"X-XSRF-TOKEN": CSRF}).status_code == 200


def test_csrf_protect_off_accepts_cookie_tokens_without_proof(
    make_app: MakeApp, mint: Mint
) -> None:
    app = make_app(JWT_GUARD_TOKEN_LOCATION=["cookie"], JWT_GUARD_COOKIE_CSRF_PROTECT=False)

    @app.post("/x")
    @jwt_required
    def x() -> str:
        return "ok"

    assert _client(app, mint(), csrf_cookie=None).post("/x").status_code == 200


def test_double_submit_works_for_tokens_of_any_issuer(
    make_app: MakeApp, keyring: KeyRing, mint: Mint
) -> None:
    # Tokens from an identity provider carry no csrf claim: nothing binds
    # the CSRF value to the token, so any issuer's token works.
    idp = "https://idp.example"
    app = make_app(
        JWT_GUARD_TOKEN_LOCATION=["cookie"],
        JWT_GUARD_PUBLIC_KEY=None,
        JWT_GUARD_ISSUER=None,
        JWT_GUARD_ISSUERS={
            "https://issuer.example": {"PUBLIC_KEY": {"rsa-1": public_pem(keyring.rsa)}},
            idp: {"JWKS": StaticKeySet.from_pem(public_pem(keyring.p256), kid="ec-1").jwks()},
        },
        JWT_GUARD_ALGORITHMS=["RS256", "ES256"],
    )

    @app.post("/x")
    @jwt_required
    def x() -> str:
        return "ok"

    idp_token = sign({"alg": "ES256", "kid": "ec-1"}, claims(iss=idp), keyring.p256)
    for token in (mint(), idp_token):
        client = _client(app, token)
        expect_error(client.post("/x"), 403, "csrf_failed")
        assert client.post("/x", headers={"X-CSRF-Token": CSRF}).status_code == 200


def test_set_access_cookies_sets_an_httponly_token_and_a_readable_csrf_cookie(
    app: Flask, mint: Mint
) -> None:
    token = mint()

    @app.post("/login")
    def login() -> Response:
        response = Response("logged in")
        value = set_access_cookies(response, token, max_age=600)
        response.headers["X-Issued-CSRF"] = value
        return response

    @app.post("/logout")
    def logout() -> Response:
        response = Response("bye")
        unset_access_cookies(response)
        return response

    client = app.test_client()
    response = client.post("/login")
    csrf_value = response.headers["X-Issued-CSRF"]
    assert len(csrf_value) >= 43  # 256 random bits, base64url
    assert _cookies(response) == {
        "access_token": (token, {"Max-Age=600", "Secure", "HttpOnly", "Path=/", "SameSite=Lax"}),
        "csrf_token": (csrf_value, {"Max-Age=600", "Secure", "Path=/", "SameSite=Lax"}),
    }
    # The browser flow: cookie token + echoed CSRF value.
    assert client.post("/orders", headers={"X-CSRF-Token": csrf_value}).status_code == 200
    expect_error(client.post("/orders"), 403, "csrf_failed")

    out = client.post("/logout")
    assert _cookies(out) == {
        "access_token": ("", {"Max-Age=0", "Secure", "Path=/", "SameSite=Lax"}),
        "csrf_token": ("", {"Max-Age=0", "Secure", "Path=/", "SameSite=Lax"}),
    }
    expect_error(client.post("/orders", headers={"X-CSRF-Token": csrf_value}), 401, "unauthorized")


def test_cookie_attributes_come_from_config(make_app: MakeApp, mint: Mint) -> None:
    app = make_app(
        JWT_GUARD_TOKEN_LOCATION="cookie",
        JWT_GUARD_COOKIE_SECURE=False,
        JWT_GUARD_COOKIE_SAMESITE="Strict",
        JWT_GUARD_COOKIE_DOMAIN="api.example",
        JWT_GUARD_COOKIE_PATH="/api",
        JWT_GUARD_CSRF_COOKIE_NAME="xsrf",
    )
    token = mint()

    @app.post("/login")
    def login() -> Response:
        response = Response("logged in")
        response.headers["X-Issued-CSRF"] = set_access_cookies(response, token)
        return response

    response = app.test_client().post("/login")
    csrf_value = response.headers["X-Issued-CSRF"]
    assert _cookies(response) == {
        "access_token": (token, {"Domain=api.example", "HttpOnly", "Path=/api", "SameSite=Strict"}),
        "xsrf": (csrf_value, {"Domain=api.example", "Path=/api", "SameSite=Strict"}),
    }
