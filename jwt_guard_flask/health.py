"""Opt-in ``/live`` and ``/ready`` probes answered by the core's
:func:`~jwt_guard_core.health.probe` (docs/production.md)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify

from jwt_guard_core.health import PROBES, probe

from ._state import current_state

__all__ = ["health_blueprint"]

health_blueprint = Blueprint("jwt_guard_health", __name__)


def _probe(name: str) -> Response:
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    status, report = probe(
        name, lambda: current_state().guard.key_sources(app), lambda: _backends(app)
    )
    response = jsonify(report)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


for _name in PROBES:
    health_blueprint.add_url_rule(f"/{_name}", _name, _probe, defaults={"name": _name})


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
