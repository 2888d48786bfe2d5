"""Login, refresh and logout routes: the core decides every answer, a route maps request and reply
(``app.register_blueprint(guard.sessions_blueprint(), url_prefix="/auth")``, docs/flask.md)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from flask import Blueprint, Response, current_app, request
from flask.blueprints import BlueprintSetupState

from jwt_guard_core.request_policy import Outcome
from jwt_guard_core.serving import subject_and_scopes
from jwt_guard_core.steps import Io, drive

from ._request import authenticate, deferred_cookie_error
from ._sessions import SessionsState, get_sessions
from .decorators import jwt_exempt

__all__ = ["SessionsMixin", "get_sessions"]

#: ``loader(username, password)`` -> ``None`` (refused), a subject, or ``(subject, scopes)``.
CredentialsLoader = Callable[[str, str], Any]
F = TypeVar("F", bound=Callable[..., Any])


def _access() -> Outcome:
    # A jwt_exempt route sees no token for a failed access cookie; the
    # failure is kept for the logout to weigh.
    token = authenticate(optional=True)
    error = deferred_cookie_error()
    return Outcome(token=token) if error is None else Outcome(error=error, location="cookie")


def _serve(route: str, check: Callable[[str, str], Io] | None = None) -> Response:
    """Answer the session route ``route`` from the core; ``check``: login's credentials check."""
    # Imported here: an app without sessions never loads the session side.
    from jwt_guard_core.sessions.endpoints import SessionRequest
    from jwt_guard_core.sessions.http import SessionCall, route_steps, sync_io

    state = get_sessions()
    endpoints = state._bound()
    # With the length known, an oversized body is refused before it is read.
    body = SessionRequest(
        request.mimetype,
        lambda: request.get_data(cache=True),
        request.cookies,
        content_length=request.content_length,
    )
    call = SessionCall(
        request=body,
        csrf_failure=lambda: endpoints.policy.csrf_failure(request.cookies, dict(request.headers)),
        client=lambda: state.client_key(request),
        access=sync_io(_access),
        check=check,
    )
    reply = drive(route_steps(endpoints, route, call))
    # Werkzeug 2.3 takes dicts, not any mapping.
    response = Response(reply.json_body(), status=reply.status, headers=reply.response_headers())
    for arguments in reply.set_cookie_calls():
        response.set_cookie(**arguments)
    return response


def _obtain(guard: SessionsMixin) -> Response:
    check = guard._credentials_loader
    if check is None:
        raise RuntimeError(
            "register a credentials loader: @guard.credentials_loader "
            "def check(username, password): ..."
        )

    from jwt_guard_core.sessions.http import sync_io

    def credentials(username: str, password: str) -> tuple[str, tuple[str, ...]] | None:
        return subject_and_scopes(current_app.ensure_sync(check)(username, password))

    return _serve("obtain", check=lambda u, p: sync_io(partial(credentials, u, p)))


def _bind(setup: BlueprintSetupState) -> None:
    state = setup.app.extensions.get("jwt_guard_sessions")
    if not isinstance(state, SessionsState):
        raise RuntimeError(
            "set JWT_GUARD_SESSIONS_BACKEND before JWTGuard(app) to serve the session routes"
        )
    state.bind((setup.url_prefix or "").rstrip("/") + "/refresh")


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

        The refresh cookie's ``Path`` is ``<url_prefix>/refresh``. Login,
        refresh and logout are ``jwt_exempt``: a revoked or expired access
        cookie never blocks them.
        """
        from jwt_guard_core.sessions.http import ROUTE_PATHS

        blueprint = Blueprint("jwt_guard_sessions", __name__)
        blueprint.record(_bind)
        for route, path in ROUTE_PATHS.items():
            view = partial(_obtain, self) if route == "obtain" else partial(_serve, route)
            if route != "logout_everywhere":
                view = jwt_exempt(view)
            blueprint.add_url_rule(f"/{path}", route, view, methods=["POST"])
        return blueprint
