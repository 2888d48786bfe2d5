"""One app's session services: built at ``init_app`` from ``JWT_GUARD_SESSIONS_*``, kept.

Validation and the services are the core's
(:mod:`jwt_guard_core.sessions.settings`); the routes that serve them are
:mod:`jwt_guard_flask.session_routes`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app, request

from jwt_guard_core import VerifiedToken, Verifier
from jwt_guard_core.settings import GuardSettings

from .config import DEFAULTS, read

if TYPE_CHECKING:
    # The session side is imported when an app configures sessions.
    from jwt_guard_core.sessions import (
        CookiePolicy,
        FailureRateLimiter,
        RefreshTokenService,
        RevocationService,
    )
    from jwt_guard_core.sessions.endpoints import SessionEndpoints
    from jwt_guard_core.sessions.settings import SessionsSettings

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


def _remote_addr(req: Any) -> str:
    # remote_addr, not X-Forwarded-For: a client sets that header to whatever
    # it likes and would get a fresh budget per request. Behind a proxy use
    # werkzeug's ProxyFix or JWT_GUARD_SESSIONS_RATE_LIMIT_KEY.
    return str(req.remote_addr or "unknown")


@dataclass
class SessionsState:
    """One app's session services, built by :func:`init_sessions`."""

    store: Any
    revocation: RevocationService
    refresh_tokens: RefreshTokenService
    limiter: FailureRateLimiter | None
    client_key: Callable[[Any], str]
    mode: str
    clock: Callable[[], float]
    settings: SessionsSettings
    cookie_names: dict[str, Any]
    access_max_age: int | None
    realm: str = "api"
    policy: CookiePolicy | None = None
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

    def bind(self, policy: CookiePolicy, *, realm: str) -> None:
        """Serve the session routes with ``policy`` (set when the blueprint is registered)."""
        from jwt_guard_core.sessions.endpoints import SessionEndpoints

        self.policy = policy
        self.endpoints = SessionEndpoints(
            refresh_tokens=self.refresh_tokens,
            revocation=self.revocation,
            policy=policy,
            mode=self.mode,
            clock=self.clock,
            access_max_age=self.access_max_age,
            realm=realm,
            limiter=self.limiter,
        )


def build_sessions(app: Flask, parsed: GuardSettings | None = None) -> SessionsState:
    """Translate the ``JWT_GUARD_SESSIONS_*`` keys of ``app.config`` into core services.

    Validation and the services are the core's
    (:mod:`jwt_guard_core.sessions.settings`). Raises
    :class:`~jwt_guard_core.ConfigurationError` naming the key.
    """
    from jwt_guard_core.sessions.settings import SessionsSettings

    parsed = parsed if parsed is not None else read(app.config)
    clock = parsed.clock()
    settings = SessionsSettings.from_mapping(
        parsed.group("sessions") or {}, name_for=parsed.name_for("sessions")
    )
    issuing = parsed.get("issuing.issuer") is not None

    def emergency_epoch() -> float | None:
        # Read on every check: `flask jwt-guard rotate --emergency` in another
        # process applies at once.
        if not issuing:
            return None
        from .issuing import get_key_manager

        epoch = get_key_manager(app).emergency_epoch
        return None if epoch is None else float(epoch)

    def issue_access_token(
        subject: str, *, scopes: Iterable[str] = (), claims: Mapping[str, Any] | None = None
    ) -> str:
        from .issuing import get_token_issuer

        return get_token_issuer(app).issue_access_token(subject, scopes=scopes, claims=claims)

    services = settings.open(
        access_tokens=issue_access_token, emergency_epoch_source=emergency_epoch, clock=clock
    )
    cookie_names = {
        "access_cookie": parsed.get("cookie_name"),
        "access_path": parsed.get("cookie_path"),
        "csrf_cookie": parsed.get("csrf_cookie_name"),
        "csrf_header": parsed.get("csrf_header_name"),
    }
    settings.cookie_policy(**cookie_names)
    return SessionsState(
        store=services.store,
        revocation=services.revocation,
        refresh_tokens=services.refresh_tokens,
        limiter=services.limiter,
        client_key=settings.rate_limit_key or _remote_addr,
        mode=settings.mode,
        clock=clock or _now,
        settings=settings,
        cookie_names=cookie_names,
        access_max_age=parsed.seconds_or_none("issuing.access_token_lifetime"),
        realm=str(parsed.get("realm")),
    )


def _now() -> float:
    import time

    return time.time()


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
    limiter = state.limiter if isinstance(state, SessionsState) else None
    if limiter is None or state is None:
        return verifier.verify(token)
    return limiter.verify(verifier, token, client=state.client_key(request))
