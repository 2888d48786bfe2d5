"""The example orders API on Flask, protected by jwt-guard.

Configured from the environment (the same variables as the Django example):

* ``JWT_GUARD_ISSUER``: the ``iss`` tokens must carry (optional with
  ``JWT_GUARD_DISCOVERY_URL``, where the discovered issuer is used);
* ``JWT_GUARD_AUDIENCE``: this API's identifier, the ``aud`` tokens must carry;
* ``JWT_GUARD_JWKS_URL``: where the issuer publishes its keys, or
  ``JWT_GUARD_DISCOVERY_URL``: the issuer URL (or its
  ``/.well-known/openid-configuration``) for OpenID Connect discovery, or
  ``JWT_GUARD_JWKS_FILE``: a JWKS file (``jwt-guard keygen`` writes one);
* ``JWT_GUARD_ALGORITHMS``: comma-separated, default ``RS256``;
* ``JWT_GUARD_TOKEN_LOCATIONS``: comma-separated, default ``header``.

Serve it with ``gunicorn --bind 127.0.0.1:8000 'app:create_app()'`` (README.md).
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, jsonify, request
from flask.typing import ResponseReturnValue

from jwt_guard_flask import JWTGuard, current_token, jwt_required, require_scopes

_DISCOVERY_SUFFIX = "/.well-known/openid-configuration"

api = Blueprint("api", __name__, url_prefix="/api")
guard = JWTGuard()

# A stand-in for a database table, per process.
_orders: list[dict[str, Any]] = []
_ids = itertools.count(1)
_lock = threading.Lock()


@api.get("/me")
@jwt_required
def me() -> ResponseReturnValue:
    """The verified token's claims."""
    return jsonify(
        subject=current_token.subject,
        issuer=current_token.issuer,
        scopes=sorted(current_token.scopes),
        claims=dict(current_token.claims),
    )


@api.get("/orders")
@require_scopes("orders:read")
def list_orders() -> ResponseReturnValue:
    """Your orders; needs ``orders:read``."""
    with _lock:
        mine = [o for o in _orders if o["owner"] == current_token.subject]
    return jsonify(orders=mine)


@api.post("/orders")
@require_scopes("orders:write")
def create_order() -> ResponseReturnValue:
    """A new order from ``{"item": str, "quantity": int}``; needs ``orders:write``."""
    fields = _order_fields(request.get_json(silent=True))
    if isinstance(fields, str):
        return jsonify(error="invalid_body", error_description=fields), 400
    item, quantity = fields
    with _lock:
        order = {
            "id": next(_ids),
            "owner": current_token.subject,
            "item": item,
            "quantity": quantity,
        }
        _orders.append(order)
    return jsonify(order), 201


def _order_fields(body: Any) -> tuple[str, int] | str:
    """``(item, quantity)`` from the request body, or what is wrong with it."""
    if not isinstance(body, dict):
        return "send a JSON object"
    item, quantity = body.get("item"), body.get("quantity")
    if not isinstance(item, str) or not 1 <= len(item) <= 100:
        return "item: a string of 1 to 100 characters"
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= 1000:
        return "quantity: an integer from 1 to 1000"
    return item, quantity


def healthz() -> ResponseReturnValue:
    """200 while tokens can be verified, 503 when the key set is unavailable."""
    health = guard.health()
    status = 200 if health["ok"] else 503
    return jsonify(status="ok" if health["ok"] else "unavailable", **health), status


def _env(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name, "").strip()
    return value or None


def config_from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    """The ``JWT_GUARD_*`` config keys from the example's environment variables."""
    config: dict[str, Any] = {
        "JWT_GUARD_ISSUER": _env(environ, "JWT_GUARD_ISSUER"),
        "JWT_GUARD_AUDIENCE": _env(environ, "JWT_GUARD_AUDIENCE"),
        "JWT_GUARD_ALGORITHMS": _env(environ, "JWT_GUARD_ALGORITHMS") or "RS256",
        "JWT_GUARD_TOKEN_LOCATION": _env(environ, "JWT_GUARD_TOKEN_LOCATIONS") or "header",
        # Each worker fetches the keys as it starts, not on its first request.
        "JWT_GUARD_WARM_ON_STARTUP": True,
    }
    jwks_url = _env(environ, "JWT_GUARD_JWKS_URL")
    discovery = _env(environ, "JWT_GUARD_DISCOVERY_URL")
    jwks_file = _env(environ, "JWT_GUARD_JWKS_FILE")
    if len([v for v in (jwks_url, discovery, jwks_file) if v]) > 1:
        raise RuntimeError(
            "set one of JWT_GUARD_JWKS_URL, JWT_GUARD_DISCOVERY_URL and JWT_GUARD_JWKS_FILE, "
            "not both"
        )
    if jwks_url:
        config["JWT_GUARD_JWKS_URL"] = jwks_url
    elif discovery:
        issuer = discovery.removesuffix(_DISCOVERY_SUFFIX)
        config["JWT_GUARD_OIDC_ISSUER"] = issuer
    elif jwks_file:
        config["JWT_GUARD_JWKS"] = Path(jwks_file)
    else:
        raise RuntimeError(
            "set JWT_GUARD_JWKS_URL or JWT_GUARD_DISCOVERY_URL (or JWT_GUARD_JWKS_FILE)"
        )
    if not config["JWT_GUARD_AUDIENCE"]:
        raise RuntimeError("set JWT_GUARD_AUDIENCE to this API's identifier")
    if not config["JWT_GUARD_ISSUER"] and not discovery:
        raise RuntimeError("set JWT_GUARD_ISSUER (or use JWT_GUARD_DISCOVERY_URL)")
    return {key: value for key, value in config.items() if value is not None}


def create_app(environ: Mapping[str, str] | None = None) -> Flask:
    """The application, configured from ``environ`` (default: ``os.environ``)."""
    app = Flask(__name__)
    app.config.update(config_from_env(os.environ if environ is None else environ))
    guard.init_app(app)
    app.register_blueprint(api)
    app.add_url_rule("/healthz", view_func=healthz, methods=["GET"])
    return app
