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

import logging
from collections.abc import Callable, Iterable
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from flask import Blueprint, Response, current_app, request
from flask.blueprints import BlueprintSetupState

from jwt_guard_core import ConfigurationError
from jwt_guard_core.request_policy import Outcome

from ._request import authenticate, deferred_cookie_error
from ._sessions import SESSIONS_DEFAULTS, SessionsState, get_sessions, init_sessions
from .decorators import jwt_exempt

if TYPE_CHECKING:
    from jwt_guard_core.sessions.cookies import SessionReply
    from jwt_guard_core.steps import Io

__all__ = [
    "SESSIONS_DEFAULTS",
    "CredentialsLoader",
    "SessionsMixin",
    "SessionsState",
    "get_sessions",
    "init_sessions",
    "sessions_blueprint",
]

logger = logging.getLogger("jwt_guard.flask")

#: ``loader(username, password)`` -> ``None`` (refused), a subject, or ``(subject, scopes)``.
CredentialsLoader = Callable[[str, str], Any]
F = TypeVar("F", bound=Callable[..., Any])


# -- requests and responses


def _reply(reply: SessionReply) -> Response:
    body = reply.json_body()
    response = Response(
        body, status=reply.status, mimetype=None if body is None else "application/json"
    )
    response.headers.update(dict(reply.headers))  # Werkzeug 2.3 takes dicts, not any mapping
    for spec in reply.cookies:
        # A past Expires too: older user agents ignore Max-Age=0.
        response.set_cookie(**spec.set_cookie_arguments(), expires=0 if spec.deletes else None)
    return response


def _csrf_failure() -> str | None:
    return get_sessions().cookie_policy().csrf_failure(request.cookies, dict(request.headers))


def _access() -> Outcome:
    # A jwt_exempt route sees no token for a failed access cookie; the
    # failure is kept for the logout to weigh.
    token = authenticate(optional=True)
    error = deferred_cookie_error()
    return Outcome(token=token) if error is None else Outcome(error=error, location="cookie")


def _serve(route: str, check: Callable[[str, str], Io] | None = None) -> Response:
    """Answer the session route ``route`` from the core (``route_steps``); ``check``: login's."""
    from jwt_guard_core.sessions.endpoints import SessionRequest
    from jwt_guard_core.sessions.http import SessionCall, route_steps, sync_io
    from jwt_guard_core.steps import drive

    state = get_sessions()
    # With the length known, an oversized body is refused before it is read.
    body = SessionRequest(
        request.mimetype,
        lambda: request.get_data(cache=True),
        request.cookies,
        content_length=request.content_length,
    )
    steps = route_steps(
        state._bound(),
        route,
        SessionCall(
            request=body,
            csrf_failure=_csrf_failure,
            client=lambda: state.client_key(request),
            access=sync_io(_access),
            check=check,
        ),
    )
    return _reply(drive(steps))


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


def sessions_blueprint(loader: Callable[[], CredentialsLoader | None]) -> Blueprint:
    """A new blueprint with the four session routes; ``loader()`` returns the credentials check.

    Every decision is the core's (:class:`~jwt_guard_core.sessions.endpoints.SessionEndpoints`);
    the routes describe the request and apply the reply. Login, refresh and
    logout are ``jwt_exempt``: a revoked or expired access cookie never
    blocks them.
    """
    blueprint = Blueprint("jwt_guard_sessions", __name__)

    @blueprint.record
    def _bind(setup: BlueprintSetupState) -> None:
        app = setup.app
        state = app.extensions.get("jwt_guard_sessions")
        if not isinstance(state, SessionsState):
            raise RuntimeError(
                "set JWT_GUARD_SESSIONS_BACKEND before JWTGuard(app) to serve the session routes"
            )
        refresh_path = (setup.url_prefix or "").rstrip("/") + "/refresh"
        try:
            state.bind(refresh_path)
        except ConfigurationError as exc:
            raise ConfigurationError("url_prefix", str(exc)) from None

    @blueprint.post("/token")
    @jwt_exempt
    def obtain() -> Response:
        """``{"username", "password"}`` checked by the app's credentials loader."""
        from jwt_guard_core.sessions.http import sync_io

        check = loader()
        if check is None:
            raise RuntimeError(
                "register a credentials loader: @guard.credentials_loader "
                "def check(username, password): ..."
            )

        def credentials(username: str, password: str) -> tuple[str, tuple[str, ...]] | None:
            return _subject_and_scopes(current_app.ensure_sync(check)(username, password))

        return _serve("obtain", check=lambda u, p: sync_io(partial(credentials, u, p)))

    @blueprint.post("/refresh")
    @jwt_exempt
    def refresh() -> Response:
        """Spend the refresh token (body or cookie), answer a new pair."""
        return _serve("refresh")

    @blueprint.post("/refresh/logout")
    @jwt_exempt
    def logout() -> Response:
        """Revoke the access token's jti and session, and the refresh token's session.

        A revoked or expired access cookie does not stop it: the refresh
        cookie's session is still revoked and the cookies cleared.
        """
        return _serve("logout")

    @blueprint.post("/logout-everywhere")
    def logout_everywhere() -> Response:
        """Revoke every session and access token of the access token's subject."""
        return _serve("logout_everywhere")

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
