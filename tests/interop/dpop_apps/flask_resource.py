"""A Flask resource server requiring DPoP (``gunicorn flask_resource:app``)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from settings_from_env import settings

from jwt_guard_flask import JWTGuard, current_token, jwt_required

app = Flask(__name__)
app.config.update({f"JWT_GUARD_{key}": value for key, value in settings().items()})
JWTGuard(app)


@app.get("/healthz")
def healthz() -> str:
    return "ok"


@app.route("/orders", methods=["GET", "POST"])
@jwt_required(scopes=["orders:read"])
def orders() -> dict[str, Any]:
    return {"sub": current_token.subject, "framework": "flask"}
