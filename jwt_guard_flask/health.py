"""Liveness and readiness routes for probes (Kubernetes, a load balancer), opt-in.

::

    from jwt_guard_flask.health import health_blueprint

    app.register_blueprint(health_blueprint, url_prefix="/health")

serves ``/health/live`` (200 without any I/O: the process serves requests)
and ``/health/ready`` (200 when every key source can verify and every Redis
backend answers, 503 otherwise), with the core's report as JSON
(:func:`jwt_guard_core.health.health`; never a key, a secret or a URL's
credentials). Neither needs a token: serve them where only the probes
reach, or accept that anyone can see which issuers you trust.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify

from jwt_guard_core.health import liveness, readiness

from ._state import current_state

__all__ = ["health_blueprint"]

health_blueprint = Blueprint("jwt_guard_health", __name__)


def _answer(body: dict[str, Any], status: int = 200) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


@health_blueprint.route("/live", methods=["GET"])
def live() -> Response:
    """200 ``{"status": "alive"}``; reads nothing, fetches nothing."""
    return _answer(liveness())


@health_blueprint.route("/ready", methods=["GET"])
def ready() -> Response:
    """200 when this app can verify tokens, else 503; the report as JSON."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    status, report = readiness(lambda: current_state().guard.key_sources(app), _backends(app))
    return _answer(report, status)


def _backends(app: Flask) -> dict[str, Any]:
    backends: dict[str, Any] = {}
    sessions = app.extensions.get("jwt_guard_sessions")
    if sessions is not None:
        backends["sessions"] = lambda: sessions.side.store
    if app.config.get("JWT_GUARD_ISSUING_ISSUER") is not None:
        # Imported here: an app that issues no tokens never loads the signing side.
        from .issuing import get_key_manager

        backends["signing_keys"] = lambda: get_key_manager(app).store
    return backends
