"""Fixtures for the Flask adapter tests: apps built the way a user builds them.

``make_app(**config)`` returns a Flask app with a :class:`JWTGuard`
registered on it, configured for RS256 tokens from ``ISSUER`` for
``AUDIENCE`` with the session RSA key (kid ``rsa-1``) and the fake clock;
keyword arguments override or add ``JWT_GUARD_*`` keys (give ``None`` to
leave a key unset). ``mint(**claims)`` signs a token that app accepts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask

from jwt_guard_flask import JWTGuard, token_rejected
from tests.factories import AUDIENCE, ISSUER, FakeClock, KeyRing, claims, public_pem, sign

MakeApp = Callable[..., Flask]
Mint = Callable[..., str]


@pytest.fixture
def base_config(keyring: KeyRing, clock: FakeClock) -> dict[str, Any]:
    return {
        "JWT_GUARD_ALGORITHMS": ["RS256"],
        "JWT_GUARD_PUBLIC_KEY": {"rsa-1": public_pem(keyring.rsa)},
        "JWT_GUARD_ISSUER": ISSUER,
        "JWT_GUARD_AUDIENCE": AUDIENCE,
        "JWT_GUARD_CLOCK": clock,
    }


@pytest.fixture
def make_app(base_config: dict[str, Any]) -> MakeApp:
    def _make(**config: Any) -> Flask:
        app = Flask("jwt_guard_test")
        app.config["TESTING"] = True
        merged = {**base_config, **config}
        app.config.update({k: v for k, v in merged.items() if v is not None})
        JWTGuard(app)
        return app

    return _make


@pytest.fixture
def rejected() -> Iterator[list[str]]:
    """The ``reason`` of every ``token_rejected`` signal sent during the test, in order."""
    seen: list[str] = []

    def on_rejected(sender: Flask, **kwargs: Any) -> None:
        seen.append(kwargs["reason"])

    token_rejected.connect(on_rejected)
    yield seen
    token_rejected.disconnect(on_rejected)


@pytest.fixture
def mint(keyring: KeyRing) -> Mint:
    """``mint(**claim_overrides)``: an RS256 token with kid ``rsa-1`` (``kid=None``: none)."""

    def _mint(*, kid: str | None = "rsa-1", **overrides: Any) -> str:
        header = {"alg": "RS256", "typ": "JWT", "kid": kid}
        return sign(
            {k: v for k, v in header.items() if v is not None}, claims(**overrides), keyring.rsa
        )

    return _mint


@pytest.fixture
def security_events(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG, logger="jwt_guard")
    return caplog


@pytest.fixture(scope="session")
def httpserver_listen_address() -> tuple[str, int]:
    """pytest-httpserver on loopback only, on a free port."""
    return ("127.0.0.1", 0)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def expect_error(
    response: Any,
    status: int,
    error: str,
    *,
    www_authenticate: str | None = None,
    realm: str = "api",
    scope: str | None = None,
) -> None:
    """Assert a jwt-guard refusal: status, every header we set, and the exact JSON body."""
    descriptions = {
        "invalid_token": "The access token is invalid or expired.",
        "invalid_request": "The request is malformed.",
        "insufficient_scope": "The access token does not grant the required scope.",
        "temporarily_unavailable": "Token verification is temporarily unavailable.",
        "unauthorized": "Authentication is required.",
        "csrf_failed": "CSRF verification failed.",
    }
    assert response.status_code == status
    assert response.mimetype == "application/json"
    assert response.get_json() == {"error": error, "error_description": descriptions[error]}
    if www_authenticate is None:
        if error == "unauthorized":
            www_authenticate = f'Bearer realm="{realm}"'
        elif error in ("invalid_token", "invalid_request", "insufficient_scope"):
            www_authenticate = f'Bearer realm="{realm}", error="{error}"'
            if scope is not None:
                www_authenticate += f', scope="{scope}"'
    expected = {"Content-Type", "Content-Length"}
    if www_authenticate:
        assert response.headers["WWW-Authenticate"] == www_authenticate
        expected.add("WWW-Authenticate")
    else:
        assert "WWW-Authenticate" not in response.headers
    if status == 503:
        # The value is the key set's backoff; the callers check it is a positive integer.
        assert int(response.headers["Retry-After"]) >= 1
        expected.add("Retry-After")
    assert set(response.headers.keys()) == expected
