"""One app's session services: built at ``init_app`` from ``JWT_GUARD_SESSIONS_*``, kept.

Validation, the services and their wiring to the issuing side are the
core's (:func:`jwt_guard_core.settings.sides.open_sessions`); the routes
that serve them are :mod:`jwt_guard_flask.session_routes`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app, request

from jwt_guard_core import VerifiedToken, Verifier
from jwt_guard_core.settings import GuardSettings

from .config import DEFAULTS, read

if TYPE_CHECKING:
    # The session side is imported when an app configures sessions.
    from jwt_guard_core.sessions import CookiePolicy
    from jwt_guard_core.sessions.endpoints import SessionEndpoints
    from jwt_guard_core.settings.sides import SessionSide

__all__ = [
    "EXTENSION",
    "SESSIONS_DEFAULTS",
    "SessionsState",
    "build_sessions",
    "get_sessions",
    "init_sessions",
    "verify_limited",
]

PREFIX = "JWT_GUARD_SESSIONS_"
EXTENSION = "jwt_guard_sessions"

#: Every ``JWT_GUARD_SESSIONS_*`` key with its default (docs/flask.md lists them).
SESSIONS_DEFAULTS: Mapping[str, Any] = {k: v for k, v in DEFAULTS.items() if k.startswith(PREFIX)}


@dataclass
class SessionsState:
    """One app's session services (the core's :class:`SessionSide`) and its routes' endpoints."""

    side: SessionSide
    client_key: Callable[[Any], str]
    policy: CookiePolicy | None = None
    endpoints: SessionEndpoints | None = None

    store = property(lambda self: self.side.store)
    revocation = property(lambda self: self.side.revocation)
    refresh_tokens = property(lambda self: self.side.refresh_tokens)
    limiter = property(lambda self: self.side.limiter)
    mode = property(lambda self: self.side.mode)

    def cookie_policy(self) -> CookiePolicy:
        """The cookie policy; the refresh path is where the blueprint was registered."""
        return self._bound().policy

    def _bound(self) -> SessionEndpoints:
        if self.endpoints is None:
            raise RuntimeError(
                "the session routes are not registered: "
                "app.register_blueprint(guard.sessions_blueprint(), url_prefix='/auth')"
            )
        return self.endpoints

    def bind(self, refresh_path: str) -> None:
        """Serve the session routes with the refresh cookie scoped to ``refresh_path``."""
        self.policy = self.side.cookie_policy(refresh_path)
        self.endpoints = self.side.endpoints(self.policy)


def build_sessions(app: Flask, parsed: GuardSettings | None = None) -> SessionsState:
    """Translate the ``JWT_GUARD_SESSIONS_*`` keys of ``app.config`` into core services.

    Raises :class:`~jwt_guard_core.ConfigurationError` naming the key.
    """
    from jwt_guard_core.sessions.http import client_address
    from jwt_guard_core.settings.sides import open_sessions

    from .issuing import get_issuing

    parsed = parsed if parsed is not None else read(app.config)
    side = open_sessions(parsed, lambda: get_issuing(app))
    # The peer's address unless JWT_GUARD_SESSIONS_RATE_LIMIT_KEY reads a trusted hop.
    key = side.settings.rate_limit_key or (lambda req: client_address(req.remote_addr))
    return SessionsState(side=side, client_key=key)


def init_sessions(app: Flask, parsed: GuardSettings | None = None) -> SessionsState | None:
    """Build ``app``'s session services when ``JWT_GUARD_SESSIONS_BACKEND`` is set.

    Called by ``JWTGuard.init_app`` before the verifier is built: unless
    ``JWT_GUARD_REVOCATION`` is set, the sessions' revocation service
    becomes the verifier's revocation check, so a logout is seen at once.
    """
    parsed = parsed if parsed is not None else read(app.config)
    if parsed.get("sessions.backend") is None:
        return None
    state = build_sessions(app, parsed)
    app.extensions[EXTENSION] = state
    return state


def get_sessions(app: Flask | None = None) -> SessionsState:
    """The session services of ``app`` (default: the current app)."""
    target = app if app is not None else current_app
    state = target.extensions.get(EXTENSION)
    if state is None:
        raise RuntimeError(
            "sessions are not configured: set JWT_GUARD_SESSIONS_BACKEND before JWTGuard(app)"
        )
    assert isinstance(state, SessionsState)
    return state


def verify_limited(verifier: Verifier, token: str) -> VerifiedToken:
    """``verifier.verify(token)`` behind the app's failed-verification rate limit, if any."""
    state = current_app.extensions.get(EXTENSION)
    limiter = state.side.limiter if isinstance(state, SessionsState) else None
    if limiter is None or state is None:
        return verifier.verify(token)
    return limiter.verify(verifier, token, client=state.client_key(request))
