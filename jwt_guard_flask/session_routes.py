"""Login, refresh and logout routes over the core's session services.

::

    guard = JWTGuard(app)            # with JWT_GUARD_SESSIONS_BACKEND set

    @guard.credentials_loader
    def check_credentials(username: str, password: str):
        user = User.query.filter_by(name=username).first()
        if user is None or not user.check_password(password):
            return None
        return str(user.id), ["orders:read"]     # subject, scopes (or just the subject)

    app.register_blueprint(guard.sessions_blueprint(), url_prefix="/auth")

serves ``POST /auth/token`` (obtain), ``POST /auth/refresh`` (rotate),
``POST /auth/refresh/logout`` (under the refresh path, so the browser sends
the path-scoped refresh cookie along) and ``POST /auth/logout-everywhere``.
Tokens travel in the JSON body, in cookies, or both
(``JWT_GUARD_SESSIONS_MODE``); the bodies, cookie attributes, the choice
of refresh token, what logout revokes and every error shape are the core's
(:class:`jwt_guard_core.sessions.endpoints.SessionEndpoints`). A cookie
credential on these routes needs the double-submit CSRF proof: the readable
CSRF cookie set at login, copied by the page into the ``X-CSRF-Token``
header. Login, refresh and logout are ``jwt_exempt``: a revoked or expired
access cookie (after "log out everywhere" on another device) never blocks
them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from flask import Blueprint, Flask, Response, current_app, request
from flask.blueprints import BlueprintSetupState

from jwt_guard_core import ConfigurationError, VerifiedToken, Verifier
from jwt_guard_core.sessions import (
    CookiePolicy,
    FailureRateLimiter,
    RefreshTokenService,
    RevocationService,
)
from jwt_guard_core.sessions.cookies import SessionReply
from jwt_guard_core.sessions.endpoints import SessionEndpoints, SessionRequest
from jwt_guard_core.sessions.settings import SESSIONS_DEFAULTS as SESSIONS_DEFAULTS_CORE
from jwt_guard_core.sessions.settings import SessionsSettings

from .config import DEFAULTS

__all__ = [
    "SESSIONS_DEFAULTS",
    "CredentialsLoader",
    "SessionsMixin",
    "SessionsState",
    "get_sessions",
    "init_sessions",
    "sessions_blueprint",
    "verify_limited",
]

logger = logging.getLogger("jwt_guard.flask")

PREFIX = "JWT_GUARD_SESSIONS_"
EXTENSION = "jwt_guard_sessions"

#: Every ``JWT_GUARD_SESSIONS_*`` key with its default (docs/flask.md lists them).
SESSIONS_DEFAULTS: Mapping[str, Any] = {k: v for k, v in DEFAULTS.items() if k.startswith(PREFIX)}

#: ``loader(username, password)`` -> ``None`` (refused), a subject, or ``(subject, scopes)``.
CredentialsLoader = Callable[[str, str], Any]
F = TypeVar("F", bound=Callable[..., Any])


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


def _values(config: Mapping[str, Any]) -> dict[str, Any]:
    """The ``JWT_GUARD_SESSIONS_*`` keys of ``config``, by suffix (``init_app`` sets them all).

    Other ``JWT_GUARD_SESSIONS_*`` keys are left out: ``init_app`` warns
    about every unknown ``JWT_GUARD_*`` key.
    """
    return {key: config[PREFIX + key] for key in SESSIONS_DEFAULTS_CORE if PREFIX + key in config}


def _name(suffix: str) -> str:
    return PREFIX + suffix


def build_sessions(app: Flask) -> SessionsState:
    """Translate the ``JWT_GUARD_SESSIONS_*`` keys of ``app.config`` into core services.

    Validation and the services are the core's
    (:mod:`jwt_guard_core.sessions.settings`). Raises
    :class:`~jwt_guard_core.ConfigurationError` naming the key.
    """
    config = app.config
    clock = config.get("JWT_GUARD_CLOCK")
    if clock is not None and not callable(clock):
        raise ConfigurationError("JWT_GUARD_CLOCK", "must be a callable returning Unix time")
    settings = SessionsSettings.from_mapping(_values(config), name_for=_name)

    def emergency_epoch() -> float | None:
        # Read on every check: `flask jwt-guard rotate --emergency` in another
        # process applies at once.
        if config.get("JWT_GUARD_ISSUING_ISSUER") is None:
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
        "access_cookie": config.get("JWT_GUARD_COOKIE_NAME", "access_token"),
        "access_path": config.get("JWT_GUARD_COOKIE_PATH", "/"),
        "csrf_cookie": config.get("JWT_GUARD_CSRF_COOKIE_NAME", "csrf_token"),
        "csrf_header": config.get("JWT_GUARD_CSRF_HEADER_NAME", "X-CSRF-Token"),
    }
    settings.cookie_policy(**cookie_names)
    lifetime = config.get("JWT_GUARD_ISSUING_ACCESS_TOKEN_LIFETIME", 900)
    if isinstance(lifetime, timedelta):
        lifetime = lifetime.total_seconds()
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
        access_max_age=int(lifetime) if isinstance(lifetime, (int, float)) else None,
    )


def _now() -> float:
    import time

    return time.time()


def init_sessions(app: Flask) -> SessionsState | None:
    """Build ``app``'s session services when ``JWT_GUARD_SESSIONS_BACKEND`` is set.

    Called by ``JWTGuard.init_app`` before the verifier is built: unless
    ``JWT_GUARD_REVOCATION`` is set, the sessions' revocation service
    becomes the verifier's revocation check, so a logout is seen at once.
    """
    if app.config.get("JWT_GUARD_SESSIONS_BACKEND") is None:
        return None
    state = build_sessions(app)
    app.extensions[EXTENSION] = state
    if app.config.get("JWT_GUARD_REVOCATION") is None:
        app.config["JWT_GUARD_REVOCATION"] = state.revocation
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


# -- responses


def _reply(reply: SessionReply) -> Response:
    if reply.body is None:
        response = Response(status=reply.status)
    else:
        response = Response(
            json.dumps(dict(reply.body)), status=reply.status, mimetype="application/json"
        )
    response.headers.update(reply.headers)
    for spec in reply.cookies:
        # A past Expires too: older user agents ignore Max-Age=0.
        response.set_cookie(**spec.set_cookie_arguments(), expires=0 if spec.deletes else None)
    return response


def _session_request() -> SessionRequest:
    return SessionRequest(request.mimetype, lambda: request.get_data(cache=True), request.cookies)


def _csrf_failure() -> str | None:
    if get_sessions().cookie_policy().csrf_valid(request.cookies, dict(request.headers)):
        return None
    return "CSRF header missing or not equal to the CSRF cookie"


def _subject_and_scopes(found: Any) -> tuple[str, tuple[str, ...]] | None:
    if found is None:
        return None
    if isinstance(found, str):
        return found, ()
    if isinstance(found, tuple) and len(found) == 2 and isinstance(found[0], str):
        scopes = found[1]
        if isinstance(scopes, str) or not isinstance(scopes, Iterable):
            raise TypeError("the credentials loader's scopes must be a list of scope names")
        return found[0], tuple(scopes)
    raise TypeError(
        "the credentials loader must return None, a subject string or (subject, scopes)"
    )


def _access_token() -> VerifiedToken | None:
    from ._request import authenticate

    return authenticate(optional=True)


def sessions_blueprint(loader: Callable[[], CredentialsLoader | None]) -> Blueprint:
    """A new blueprint with the four session routes; ``loader()`` returns the credentials check.

    Every decision is the core's (:class:`~jwt_guard_core.sessions.endpoints.SessionEndpoints`);
    the routes describe the request and apply the reply. Login, refresh and
    logout are ``jwt_exempt``: a revoked or expired access cookie never
    blocks them.
    """
    from .decorators import jwt_exempt

    blueprint = Blueprint("jwt_guard_sessions", __name__)

    @blueprint.record
    def _bind(setup: BlueprintSetupState) -> None:
        app = setup.app
        state = app.extensions.get(EXTENSION)
        if not isinstance(state, SessionsState):
            raise RuntimeError(
                "set JWT_GUARD_SESSIONS_BACKEND before JWTGuard(app) to serve the session routes"
            )
        refresh_path = (setup.url_prefix or "").rstrip("/") + "/refresh"
        try:
            policy = state.settings.cookie_policy(refresh_path=refresh_path, **state.cookie_names)
        except ConfigurationError as exc:
            raise ConfigurationError("url_prefix", str(exc)) from None
        state.bind(policy, realm=str(app.config.get("JWT_GUARD_REALM", "api")))

    @blueprint.post("/token")
    @jwt_exempt
    def obtain() -> Response:
        """``{"username", "password"}`` checked by the app's credentials loader."""
        state = get_sessions()
        check = loader()
        if check is None:
            raise RuntimeError(
                "register a credentials loader: @guard.credentials_loader "
                "def check(username, password): ..."
            )

        def credentials(username: str, password: str) -> tuple[str, tuple[str, ...]] | None:
            return _subject_and_scopes(current_app.ensure_sync(check)(username, password))

        return _reply(
            state._bound().login(
                _session_request(), client=state.client_key(request), check=credentials
            )
        )

    @blueprint.post("/refresh")
    @jwt_exempt
    def refresh() -> Response:
        """Spend the refresh token (body or cookie), answer a new pair."""
        endpoints = get_sessions()._bound()
        return _reply(endpoints.refresh(_session_request(), csrf_failure=_csrf_failure))

    @blueprint.post("/refresh/logout")
    @jwt_exempt
    def logout() -> Response:
        """Revoke the access token's jti and session, and the refresh token's session.

        A revoked or expired access cookie does not stop it: the refresh
        cookie's session is still revoked and the cookies cleared.
        """
        from ._request import deferred_cookie_error

        endpoints = get_sessions()._bound()
        token = _access_token()
        return _reply(
            endpoints.logout(
                _session_request(),
                access=token,
                access_cookie_error=deferred_cookie_error(),
                csrf_failure=_csrf_failure,
            )
        )

    @blueprint.post("/logout-everywhere")
    def logout_everywhere() -> Response:
        """Revoke every session and access token of the access token's subject."""
        endpoints = get_sessions()._bound()
        return _reply(endpoints.logout_everywhere(_access_token()))

    return blueprint


class SessionsMixin:
    """What :class:`~jwt_guard_flask.JWTGuard` adds for sessions."""

    _credentials_loader: CredentialsLoader | None = None

    def credentials_loader(self, loader: F) -> F:
        """Register ``loader(username, password)`` for the login route.

        Return ``None`` for wrong credentials (or an inactive user), the
        subject (a string, the ``sub`` of the tokens), or ``(subject,
        scopes)``. An ``async def`` loader is run to completion.
        """
        self._credentials_loader = loader
        return loader

    def sessions_blueprint(self) -> Blueprint:
        """A blueprint with the session routes; register it with a ``url_prefix``.

        The refresh cookie's ``Path`` is ``<url_prefix>/refresh``, where the
        blueprint was registered.
        """
        return sessions_blueprint(lambda: self._credentials_loader)
