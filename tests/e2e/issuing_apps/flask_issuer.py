"""A Flask service that issues tokens and verifies its own, configured from the environment."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask

from jwt_guard_flask import JWTGuard, current_token, jwt_required
from jwt_guard_flask.blueprint import issuing_blueprint
from jwt_guard_flask.issuing import get_key_manager


def create_app() -> Flask:
    app = Flask("flask_issuer")
    issuer, audience = os.environ["E2E_ISSUER"], os.environ["E2E_AUDIENCE"]
    app.config.update(
        JWT_GUARD_ISSUING_KEY_DIR=os.environ["E2E_KEY_DIR"],
        JWT_GUARD_ISSUING_ISSUER=issuer,
        JWT_GUARD_ISSUING_AUDIENCE=audience,
        JWT_GUARD_ALGORITHMS=["ES256"],
        JWT_GUARD_ISSUER=issuer,
        JWT_GUARD_AUDIENCE=audience,
    )
    # The service verifies its own tokens with the key manager as key source.
    app.config["JWT_GUARD_KEYS"] = get_key_manager(app)
    JWTGuard(app)
    app.register_blueprint(issuing_blueprint)

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        return {"status": "ok"}

    @app.get("/api/me")
    @jwt_required
    def me() -> dict[str, Any]:
        return {"subject": current_token.subject, "kid": current_token.kid}

    return app
