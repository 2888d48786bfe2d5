"""One app's session services, built at ``init_app`` from ``JWT_GUARD_SESSIONS_*`` and kept."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask, current_app

from jwt_guard_core.serving import ServedSessions

if TYPE_CHECKING:
    from jwt_guard_core.sessions import CookiePolicy
    from jwt_guard_core.sessions.endpoints import SessionEndpoints
    from jwt_guard_core.settings import GuardSettings

EXTENSION = "jwt_guard_sessions"


class SessionsState(ServedSessions):
    """One app's session services and, once the blueprint is registered, its endpoints."""

    endpoints: SessionEndpoints | None = None

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
        self.endpoints = self.side.endpoints(self.policy_at(refresh_path, "url_prefix"))


def init_sessions(app: Flask, parsed: GuardSettings) -> SessionsState:
    """Build ``app``'s session services (``JWT_GUARD_SESSIONS_BACKEND`` is set) and keep them.

    Called by the app's ``Served`` at ``init_app``, before the verifier; a bad key raises naming it.
    """
    from jwt_guard_core.settings.sides import open_sessions

    from .issuing import get_issuing

    side = open_sessions(parsed, lambda: get_issuing(app))
    # The peer's address unless JWT_GUARD_SESSIONS_RATE_LIMIT_KEY reads a trusted hop.
    state = app.extensions[EXTENSION] = SessionsState(side, lambda request: request.remote_addr)
    return state


def get_sessions(app: Flask | None = None) -> SessionsState:
    """The session services of ``app`` (default: the current app)."""
    state = (app if app is not None else current_app).extensions.get(EXTENSION)
    if state is None:
        raise RuntimeError(
            "sessions are not configured: set JWT_GUARD_SESSIONS_BACKEND before JWTGuard(app)"
        )
    assert isinstance(state, SessionsState)
    return state
