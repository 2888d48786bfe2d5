"""The Flask app benchmarks/soak.py serves under gunicorn: issuing, sessions, a protected route.

Configured from the environment by soak.py: ``SOAK_REDIS_URL`` (the Redis
Cluster holding refresh tokens, revocations and the rate limiter's
counts), ``SOAK_KEY_DIR`` (the signing keys, made before the workers
start), ``SOAK_EVENTS`` (a file where each worker appends the security
events the soak counts) and ``JWT_GUARD_KEY_PASSPHRASE``.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask

from jwt_guard_core import events
from jwt_guard_flask import JWTGuard, current_token, jwt_required
from jwt_guard_flask.issuing import get_key_manager

ISSUER = "https://soak.example"
AUDIENCE = "https://api.soak.example"
PASSWORD = "soak-password"
#: The events the soak reports, counted from every worker.
COUNTED = ("refresh_token_reuse", "breaker_opened", "session_store_unavailable")


def configure(app: Flask) -> None:
    app.config.update(
        JWT_GUARD_ISSUING_KEY_DIR=os.environ["SOAK_KEY_DIR"],
        JWT_GUARD_ISSUING_ISSUER=ISSUER,
        JWT_GUARD_ISSUING_AUDIENCE=AUDIENCE,
        JWT_GUARD_ALGORITHMS=["ES256"],
        JWT_GUARD_ISSUER=ISSUER,
        JWT_GUARD_AUDIENCE=AUDIENCE,
        JWT_GUARD_SESSIONS_BACKEND="redis",
        JWT_GUARD_SESSIONS_REDIS_URL=os.environ["SOAK_REDIS_URL"],
        JWT_GUARD_SESSIONS_REDIS_PREFIX="soak",
        # Every client is 127.0.0.1: the highest limit over a short window
        # is exercised (Redis calls per failure) without refusing the
        # soak's own expected failures (revoked tokens, replays).
        JWT_GUARD_SESSIONS_RATE_LIMIT=10_000,
        JWT_GUARD_SESSIONS_RATE_LIMIT_WINDOW=10,
    )


def _record(path: str) -> Any:
    def hook(event: events.SecurityEvent) -> None:
        if event.name in COUNTED:
            # O_APPEND: one short line per write, whole, from any worker.
            with open(path, "a", encoding="utf-8") as handle:
                handle.write(event.name + "\n")

    return hook


def create_app() -> Flask:
    app = Flask("jwt_guard_soak")
    configure(app)
    app.config["JWT_GUARD_KEYS"] = get_key_manager(app)
    guard = JWTGuard(app)
    events.subscribe(_record(os.environ["SOAK_EVENTS"]))

    @guard.credentials_loader
    def check(username: str, password: str) -> tuple[str, list[str]] | None:
        return (username, ["soak"]) if password == PASSWORD else None

    app.register_blueprint(guard.sessions_blueprint(), url_prefix="/auth")

    @app.get("/api/me")
    @jwt_required
    def me() -> dict[str, Any]:
        return {"subject": current_token.subject}

    return app
