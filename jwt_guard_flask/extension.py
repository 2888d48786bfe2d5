"""The Flask extension: ``JWTGuard(app)`` or ``guard.init_app(app)``."""

from __future__ import annotations

import copy
import logging
import weakref
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any, TypeVar

from flask import Blueprint, Flask, current_app, jsonify
from flask.typing import ResponseReturnValue

from jwt_guard_core import KeySource, VerifiedToken, Verifier
from jwt_guard_core.route_policy import declare_route

from ._request import add_dpop_nonce
from ._sessions import init_sessions
from ._startup import watch_routes
from ._state import AppState
from .cli import register_cli
from .config import DEFAULTS
from .decorators import route_check
from .errors import JWTGuardHTTPException
from .issuing import get_issuing
from .session_routes import SessionsMixin

__all__ = ["JWTGuard"]

logger = logging.getLogger("jwt_guard.flask")

F = TypeVar("F", bound=Callable[..., Any])


class JWTGuard(SessionsMixin):
    """Protects a Flask app's views with JSON Web Tokens (see docs/flask.md).

    ``JWTGuard(app)``, or ``guard = JWTGuard()`` and later
    ``guard.init_app(app)`` (one guard can serve several apps).
    """

    def __init__(self, app: Flask | None = None) -> None:
        self._states: weakref.WeakKeyDictionary[Flask, AppState] = weakref.WeakKeyDictionary()
        self._user_loader: Callable[[VerifiedToken], Any] | None = None
        self._error_handler: Callable[[JWTGuardHTTPException], ResponseReturnValue] | None = None
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Configure ``app``: sets every ``JWT_GUARD_*`` key with ``setdefault``, validates them.

        A bad value raises :class:`~jwt_guard_core.ConfigurationError` naming
        the key; a risky one is logged (docs/flask.md).
        """
        if "jwt_guard" in app.extensions:
            raise RuntimeError(
                f"jwt-guard is already registered on app {app.name!r}; call init_app once per app"
            )
        for key, default in DEFAULTS.items():
            app.config.setdefault(key, copy.copy(default))
        # The app's Served, built now: sessions first, their revocation service
        # becomes the verifier's (unless JWT_GUARD_REVOCATION names another).
        state = AppState.build(
            app.config,
            "flask",
            logger,
            open_sessions=partial(init_sessions, app),
            issuing=partial(get_issuing, app),
            guard=self,
        )
        self._states[app] = state
        state.warn_unreached_loader(self._user_loader, app.name, logger)
        app.extensions["jwt_guard"] = self
        app.register_error_handler(JWTGuardHTTPException, self._handle_error)
        resource = state.resource
        if resource.dpop.nonces is not None:
            # Only DPoP nonces put a header on every response (RFC 9449 section 8.2).
            app.after_request(add_dpop_nonce)
        if resource.metadata is not None:
            # RFC 9728 section 3: the document lives at the well-known path
            # derived from JWT_GUARD_RESOURCE_METADATA["resource"].
            document = resource.metadata.document
            endpoint = "jwt_guard_protected_resource_metadata"
            app.add_url_rule(resource.metadata.path, endpoint, lambda: jsonify(document()))
        register_cli(app)
        watch_routes(app, state.served.settings(), logger)  # routes demanding what is off
        state.served.warm_up()

    def _state_for(self, app: Flask | None = None) -> AppState:
        app = app if app is not None else current_app._get_current_object()  # type: ignore[attr-defined]
        try:
            return self._states[app]
        except KeyError:
            raise RuntimeError(
                f"this JWTGuard was not initialised for app {app.name!r}; call init_app(app)"
            ) from None

    # -- customisation

    def user_loader(self, loader: F) -> F:
        """Register ``loader(token) -> user``; its result is :data:`current_user`.

        Called once per request after the token is verified, only for tokens
        of an issuer in ``JWT_GUARD_USER_ISSUERS`` (a user is its issuer *and*
        subject, OpenID Connect Core 5.7); ``None`` refuses the request with
        401 (reason ``user_not_found``).
        """
        self._user_loader = loader
        for app, state in list(self._states.items()):
            state.warn_unreached_loader(loader, app.name, logger)
        return loader

    def error_handler(self, handler: F) -> F:
        """Register ``handler(exc) -> response`` for every jwt-guard rejection.

        ``exc`` is a :class:`~jwt_guard_flask.errors.JWTGuardHTTPException`;
        keep its ``headers`` (``WWW-Authenticate``, ``Retry-After``).
        """
        self._error_handler = handler
        return handler

    def _handle_error(self, exc: JWTGuardHTTPException) -> ResponseReturnValue:
        if self._error_handler is not None:
            return self._error_handler(exc)
        return exc.get_response()

    # -- protecting a blueprint

    def protect(
        self,
        blueprint: Blueprint,
        *,
        optional: bool = False,
        scopes: Iterable[str] | str = (),
        any_scope: bool = False,
        locations: Iterable[str] | str | None = None,
        dpop: str | None = None,
        acr_values: Iterable[str] | str = (),
        max_age: int | None = None,
    ) -> Blueprint:
        """Require a valid token (and ``scopes``) on every view of ``blueprint``.

        Call before the blueprint is registered on the app; the arguments are
        those of :func:`~jwt_guard_flask.jwt_required`.
        """
        route, where = declare_route(scopes, any_scope, locations, dpop, acr_values, max_age)
        blueprint.before_request(route_check(route, optional=optional, locations=where))
        return blueprint

    # -- key sources

    def verifier(self, app: Flask | None = None) -> Verifier:
        """The app's :class:`~jwt_guard_core.Verifier` (default: the current app)."""
        return self._state_for(app).verifier

    def key_sources(self, app: Flask | None = None) -> dict[str | None, KeySource]:
        """The key source of each configured issuer (``None``: any issuer)."""
        return self._state_for(app).served.key_sources()

    def warm(self, app: Flask | None = None) -> None:
        """Fetch every remote key set now; a failure is logged, not raised."""
        self._state_for(app).served.warm()

    async def awarm(self, app: Flask | None = None) -> None:
        """Like :meth:`warm`, without blocking the event loop."""
        await self._state_for(app).served.awarm()

    def health(self, app: Flask | None = None) -> dict[str, Any]:
        """``{"ok": bool, "key_sets": {issuer or "*": {...}}}``, for a health endpoint."""
        return self._state_for(app).served.key_set_health()
