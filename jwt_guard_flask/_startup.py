"""A Flask app's routes checked against its settings: at init_app, first request, CLI.

Routes are often added after ``init_app``, so they are checked again before
the first request (see "Warnings at start-up" in docs/flask.md); the
decision is the core's (:func:`jwt_guard_core.route_checks.route_findings`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from flask import Flask

from jwt_guard_core.route_checks import RouteRequirements, requirements_of, route_findings
from jwt_guard_core.settings import Finding, GuardSettings
from jwt_guard_core.startup import report_once_more

__all__ = ["app_routes", "check_routes", "watch_routes"]


def app_routes(app: Flask) -> Iterator[tuple[str, RouteRequirements]]:
    """``(label, requirements)`` of every route and blueprint guard that demands something."""
    for rule in app.url_map.iter_rules():
        view = app.view_functions.get(rule.endpoint)
        if view is None:
            continue
        # A MethodView's methods may carry the decorator themselves.
        view_class = getattr(view, "view_class", None)
        methods = [getattr(view_class, m.lower(), None) for m in sorted(rule.methods or ())]
        requirements = requirements_of(view, *(m for m in methods if m is not None))
        if requirements is not None:
            yield f"route {rule.rule!r} (endpoint {rule.endpoint!r})", requirements
    for blueprint, functions in app.before_request_funcs.items():
        for function in functions:
            requirements = requirements_of(function)
            if requirements is not None:
                yield f"blueprint {blueprint!r} (JWTGuard.protect)", requirements


def check_routes(app: Flask, settings: GuardSettings) -> list[Finding]:
    """The findings for ``app``'s routes as registered now."""
    return route_findings(settings, app_routes(app))


def watch_routes(app: Flask, settings: GuardSettings, logger: logging.Logger) -> None:
    """Log the findings for the routes now, and once more before the first request for new ones."""
    app.before_request(report_once_more(lambda: check_routes(app, settings), logger))
