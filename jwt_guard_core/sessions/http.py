"""A session route, request to reply, over plain data: what every adapter's view does.

An adapter serves each session route with one short view: it reads the
request into a :class:`SessionCall` (the body as a :class:`SessionRequest`,
its CSRF check, the client's rate-limit key, the credentials check, how to
authenticate the access token), runs :func:`route_steps` for the route's
name with :func:`~jwt_guard_core.steps.drive` (a sync view) or
:func:`~jwt_guard_core.steps.adrive` (an async one), and writes
the :class:`~jwt_guard_core.sessions.cookies.SessionReply` as its response::

    call = SessionCall(
        request=SessionRequest(content_type, read_body, cookies,
                               content_length=content_length(raw_header)),
        csrf_failure=lambda: policy.csrf_failure(cookies, headers),
        client=lambda: client_address(remote_addr),
        check=lambda username, password: sync_io(partial(check, username, password)),
        access=sync_io(authenticate_access_token),     # answers an Outcome
    )
    reply = drive(route_steps(endpoints, "logout", call))

Which endpoint a route is, when the access token's refusal ends the request
and when a failed access cookie is only noted: decided here, once, for the
Django views (sync and async) and the Flask routes alike.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import TokenError
from ..http import ErrorResponse
from ..request_policy import Outcome
from ..steps import Io, Steps
from .cookies import SessionReply
from .endpoints import CsrfCheck, SessionEndpoints, SessionRequest, error_reply

__all__ = [
    "ROUTES",
    "ROUTE_PATHS",
    "SessionCall",
    "client_address",
    "content_length",
    "login_grant",
    "logout_access",
    "route_steps",
    "sync_io",
]

#: The session routes by name: login, refresh, logout, logout everywhere.
ROUTES = ("obtain", "refresh", "logout", "logout_everywhere")
#: Each route's path under the adapter's prefix; logout is under the refresh
#: path, so the browser sends the path-scoped refresh cookie to it.
ROUTE_PATHS = {
    "obtain": "token",
    "refresh": "refresh",
    "logout": "refresh/logout",
    "logout_everywhere": "logout-everywhere",
}


def content_length(value: object) -> int | None:
    """A ``Content-Length`` header's value as a length; ``None`` when absent or not a length."""
    if not isinstance(value, str) or not value.isdigit():
        return None
    return int(value)


def client_address(address: str | None) -> str:
    """The default rate-limit key: the peer's address, ``"unknown"`` without one.

    The connection's address, never ``X-Forwarded-For``: a client sets that
    header to whatever it likes and would get a fresh budget per request.
    Behind a proxy, the adapter's ``RATE_LIMIT_KEY`` setting names a
    function that reads the trusted hop (or, in Flask, werkzeug's ProxyFix
    corrects the address).
    """
    return str(address or "unknown")


def login_grant(
    user: Any, scopes_for: Callable[[Any], tuple[str, ...]]
) -> tuple[str, tuple[str, ...]] | None:
    """A login check's answer for the ``user`` a framework found: ``None`` is refused.

    The subject is ``str(user.pk)``. An inactive user (``is_active`` false)
    is refused like wrong credentials: one answer for both.
    """
    if user is None or not getattr(user, "is_active", True):
        return None
    return str(user.pk), scopes_for(user)


async def _sync_only() -> Any:
    raise RuntimeError("a sync-only call reached the async path")


def sync_io(action: Callable[[], Any]) -> Io:
    """``action`` as a step's call for an adapter that drives its views only with ``drive``."""
    return Io(action, _sync_only)


@dataclass(frozen=True, kw_only=True)
class SessionCall:
    """What a session route's request brings, as the adapter read it.

    Args:
        request: the body, its type and length, and the cookies.
        csrf_failure: the framework's CSRF check (why it refuses, or ``None``).
        client: the client's rate-limit key (read by the login route only).
        check: ``check(username, password)`` -> the call that answers
            ``None`` (refused) or ``(subject, scopes)`` (login only).
        access: the call that answers the access token's
            :class:`~jwt_guard_core.request_policy.Outcome` (the logout routes).
    """

    request: SessionRequest
    csrf_failure: CsrfCheck
    client: Callable[[], str] = lambda: "unknown"
    check: Callable[[str, str], Io] | None = None
    access: Io | None = None


def logout_access(outcome: Outcome) -> tuple[ErrorResponse | None, TokenError | None]:
    """The refusal a logout request's access token demands, and its failed access cookie.

    A failed access *cookie* (revoked by "log out everywhere" on another
    device, expired) is not refused: it is returned for the logout to weigh
    (:meth:`SessionEndpoints.logout`), so the browser can still clear its
    session. Anything else (a bad header token, a cookie without CSRF
    proof) is refused as on every route.
    """
    cookie_error = outcome.error if outcome.location == "cookie" else None
    refusal = outcome.refusal() if cookie_error is None else None
    return refusal, cookie_error


def route_steps(endpoints: SessionEndpoints, route: str, call: SessionCall) -> Steps[SessionReply]:
    """The steps that answer ``route`` (one of :data:`ROUTES`) for ``call``.

    Login and refresh never look at the access token. Logout authenticates
    it first (``call.access``) and goes on past a failed access cookie;
    logout everywhere needs a valid one.

    Raises:
        ValueError: ``route`` is not one of :data:`ROUTES`, or the call
            lacks what the route needs (``check``, ``access``).
    """
    if route == "obtain":
        if call.check is None:
            raise ValueError("the login route is served with a credentials check")
        return (yield from endpoints.login_steps(call.request, call.client(), call.check))
    if route == "refresh":
        return (yield from endpoints.refresh_steps(call.request, call.csrf_failure))
    if route not in ROUTES or call.access is None:
        raise ValueError(f"{route!r} is not a session route served with an access token")
    outcome: Outcome = yield call.access
    if route == "logout":
        refusal, cookie_error = logout_access(outcome)
        if refusal is not None:
            return error_reply(refusal)
        return (
            yield from endpoints.logout_steps(
                call.request, outcome.token, call.csrf_failure, cookie_error
            )
        )
    refusal = outcome.refusal()
    if refusal is not None:
        return error_reply(refusal)
    return (yield from endpoints.logout_everywhere_steps(outcome.token))
