"""A Flask app's routes checked against its settings (issue 15): at init_app, first request, CLI.

Flask has no "the app is ready" moment: routes are often added after
``init_app`` (``JWTGuard(app)`` first, views below it). So the routes are
checked three times, each reporting what the earlier ones could not see:

* at the end of ``init_app``, for the routes registered by then;
* once, before the app's first request, for every route registered since
  (logged once, whichever URL that request is for);
* by ``flask jwt-guard check``, which a deploy pipeline runs and which
  exits 1 on an error.

The decision is the core's (:func:`jwt_guard_core.route_checks.route_findings`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

from flask import Flask

from jwt_guard_core.route_checks import RouteRequirements, requirements_of, route_findings
from jwt_guard_core.settings import Finding, GuardSettings
from jwt_guard_core.startup import log_findings

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
    found = check_routes(app, settings)
    log_findings(found, logger)
    reported = {f.message for f in found}
    lock = threading.Lock()
    done = threading.Event()

    def _check_routes_once() -> None:
        # One Event test per request once done.
        if done.is_set():
            return
        with lock:
            if done.is_set():
                return
            done.set()
        log_findings([f for f in check_routes(app, settings) if f.message not in reported], logger)

    app.before_request(_check_routes_once)
