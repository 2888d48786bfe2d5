"""A Flask app's routes checked against its settings (the core's ``route_findings``): at
``init_app``, once more before the first request, and by the CLI (docs/flask.md)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from flask import Flask

from jwt_guard_core.route_checks import RouteRequirements, requirements_of, route_findings
from jwt_guard_core.settings import Finding, GuardSettings
from jwt_guard_core.startup import report_once_more


def _routes(app: Flask) -> Iterator[tuple[str, RouteRequirements]]:
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
    return route_findings(settings, _routes(app))


def watch_routes(app: Flask, settings: GuardSettings, logger: logging.Logger) -> None:
    """Log the routes' findings now, and before the first request those of routes added since."""
    app.before_request(report_once_more(lambda: check_routes(app, settings), logger))
