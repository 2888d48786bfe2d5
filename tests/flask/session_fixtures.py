"""Fixtures for the Flask session tests: an app that issues, verifies and serves sessions.

Import them into a test module (and list them in ``__all__``)::

    from tests.flask.session_fixtures import key_dir, sessions_app

``sessions_app(**JWT_GUARD_SESSIONS_suffixes)`` builds an app with the
issuing side over a fresh key directory, a verifier for its published
JWKS, the session routes under ``/auth``, a credentials loader that knows
``alice`` and two protected views.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, jsonify, request

from jwt_guard_flask import JWTGuard, current_token, jwt_required
from jwt_guard_flask.issuing import build_issuing
from tests.factories import AUDIENCE, ISSUER, FakeClock

PASSPHRASE = "flask sessions passphrase 0123456789"
PASSWORD = "correct horse battery staple"
USERS = {"alice": ("user-alice", ["orders:read", "profile"])}

SessionsApp = Callable[..., Flask]


def build_sessions_app(name: str, key_dir: Path, clock: FakeClock, config: dict[str, Any]) -> Flask:
    """An app that issues over ``key_dir``, verifies its own JWKS and serves sessions.

    Session routes under ``/auth``, a credentials loader that knows
    ``alice``, and ``/api/me``, ``POST /api/orders``, ``/api/cookies``.
    ``config`` is applied last, before the guard is created.
    """
    issuing = {
        "JWT_GUARD_ISSUING_KEY_DIR": str(key_dir),
        "JWT_GUARD_ISSUING_ISSUER": ISSUER,
        "JWT_GUARD_ISSUING_AUDIENCE": AUDIENCE,
        "JWT_GUARD_CLOCK": clock,
    }
    keys = build_issuing(issuing).keys
    keys.active_key()
    app = Flask(name)
    app.config.update(
        JWT_GUARD_ALGORITHMS=["ES256"],
        JWT_GUARD_ISSUER=ISSUER,
        JWT_GUARD_AUDIENCE=AUDIENCE,
        JWT_GUARD_JWKS=keys.jwks(),
        **issuing,
    )
    app.config.update(config)
    guard = JWTGuard(app)

    @guard.credentials_loader
    def check(username: str, password: str) -> Any:
        if username in USERS and password == PASSWORD:
            return USERS[username]
        return None

    app.register_blueprint(guard.sessions_blueprint(), url_prefix="/auth")

    @app.get("/api/me")
    @jwt_required()
    def me() -> Any:
        token = current_token
        return jsonify(sub=token.subject, sid=token.claims.get("sid"))

    @app.post("/api/orders")
    @jwt_required()
    def orders() -> Any:
        return jsonify(ok=True)

    @app.get("/api/cookies")
    def cookies() -> Any:
        return jsonify(sorted(request.cookies))

    return app


@pytest.fixture
def key_dir(tmp_path: Path) -> Path:
    return tmp_path / "keys"


@pytest.fixture
def sessions_app(key_dir: Path, monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> SessionsApp:
    monkeypatch.setenv("JWT_GUARD_KEY_PASSPHRASE", PASSPHRASE)

    def _make(*, config: dict[str, Any] | None = None, **suffixes: Any) -> Flask:
        merged = {"BACKEND": "memory", **suffixes}
        return build_sessions_app(
            "jwt_guard_sessions_test",
            key_dir,
            clock,
            {
                "TESTING": True,
                "JWT_GUARD_TOKEN_LOCATION": ["header", "cookie"],
                **{f"JWT_GUARD_SESSIONS_{k}": v for k, v in merged.items()},
                **(config or {}),
            },
        )

    return _make


def login(client: Any, username: str = "alice", password: str = PASSWORD) -> Any:
    return client.post("/auth/token", json={"username": username, "password": password})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def set_cookies(response: Any) -> dict[str, dict[str, str]]:
    """Each ``Set-Cookie`` of a real response: name -> attributes (lower-cased, flags as "")."""
    found: dict[str, dict[str, str]] = {}
    for header in response.headers.getlist("Set-Cookie"):
        first, *parts = [p.strip() for p in header.split(";")]
        name, _, value = first.partition("=")
        attributes = {"value": value}
        for part in parts:
            key, _, val = part.partition("=")
            attributes[key.lower()] = val
        found[name] = attributes
    return found
