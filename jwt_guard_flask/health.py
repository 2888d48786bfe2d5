"""Opt-in ``/live`` and ``/ready`` probes answered by the core's
:func:`~jwt_guard_core.health.probe` over the app's ``Served`` (docs/production.md)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from jwt_guard_core.health import PROBES, probe

from ._state import current_state

__all__ = ["health_blueprint"]

health_blueprint = Blueprint("jwt_guard_health", __name__)


def _probe(name: str) -> Response:
    # Read on ``ready`` only: ``live`` reads nothing.
    status, report = probe(
        name,
        lambda: current_state().served.key_sources(),
        lambda: current_state().served.backends(),
    )
    response = jsonify(report)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


for _name in PROBES:
    health_blueprint.add_url_rule(f"/{_name}", _name, _probe, defaults={"name": _name})
