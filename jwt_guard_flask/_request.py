"""One request's authentication (token, CSRF, verification, sender checks, scopes, user) as
one set of steps, driven sync or awaited; kept on ``flask.g``, so it runs once per request."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import Any

from flask import Request, Response, current_app, g, has_app_context, request

from jwt_guard_core import TokenError, VerifiedToken
from jwt_guard_core.request_policy import (
    Outcome,
    RequestView,
    locate,
    missing_user,
    set_dpop_nonce,
    verify_request,
)
from jwt_guard_core.request_record import RequestRecord
from jwt_guard_core.route_policy import RouteRequirement
from jwt_guard_core.steps import Io, Steps, adrive, drive

from ._state import AppState, current_state
from .csrf import csrf_failure
from .errors import JWTGuardHTTPException, csrf_error, http_error
from .signals import token_rejected, token_verified

logger = logging.getLogger("jwt_guard.flask")

_RECORD = "_jwt_guard"
_NOTHING = RequestRecord()  # never written: read outside a request or before authentication
#: Set by :func:`jwt_guard_flask.decorators.jwt_exempt` on a view function.
EXEMPT_ATTRIBUTE = "jwt_exempt"


def _recorded() -> RequestRecord:
    """This request's record (an empty one outside a request or before authentication)."""
    return g.get(_RECORD, _NOTHING) if has_app_context() else _NOTHING


def _send(signal: Any, **kwargs: Any) -> None:
    if not signal.receivers:
        return  # nobody listens: the common case costs nothing
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    for receiver in signal.receivers_for(app):
        try:
            receiver(app, **kwargs)
        except Exception:
            logger.exception("jwt-guard signal receiver %r failed", receiver)


def _reject(
    state: AppState, error: TokenError | None, *, dpop: str | None = None
) -> JWTGuardHTTPException:
    # The core has emitted the security event (verifier, locate, route checks).
    response = state.resource.refusal(error, presented=_recorded().presented, dpop=dpop)
    exc = http_error(error, response=response)
    _send(token_rejected, reason=exc.reason, error=error)
    return exc


def _view() -> RequestView:
    # One proxy lookup, not one per attribute; cookies are parsed only if read.
    req: Request = request._get_current_object()  # type: ignore[attr-defined]
    headers = req.headers
    # getlist keeps repeated DPoP headers apart (WSGI joins them with ","
    # and the core refuses that too).
    return RequestView(
        method=req.method,
        authorization=headers.get("Authorization"),
        cookie=lambda name: req.cookies.get(name),
        headers=lambda name: tuple(headers.getlist(name)),
        url=lambda: (req.scheme, req.host, req.path),
    )


def _verify_function(state: AppState) -> Callable[[str], VerifiedToken]:
    # Async views use this sync path too: Flask runs an async view in an
    # event loop of its own that ends with the request, on the request's
    # thread. Blocking it blocks nothing else, while an async HTTP client or
    # a background key refresh bound to that loop would outlive it.
    verifier = state.verifier
    if not state.limited:
        return verifier.verify
    # Behind the sessions' failed-verification rate limit (the client read when verifying).
    return lambda raw: state.served.sessions().verify_function(request, verifier)(raw)


def _planned(state: AppState, locations: tuple[str, ...] | None) -> VerifiedToken | Outcome | None:
    """The common bearer request on the core's plan (a first check, no user loader): the token,
    recorded here, or the full path's answer (a refusal :class:`Outcome`; ``None``: not the plan's).
    """
    plan = state.plan
    if plan is None or (locations is not None and locations != plan.locations):
        return None
    store = g._get_current_object()
    if _RECORD in store or state.guard._user_loader is not None:
        return None
    req: Request = request._get_current_object()  # type: ignore[attr-defined]
    authorization = req.environ.get("HTTP_AUTHORIZATION")  # not via the proxy: ~0.7 us less
    step = plan.verify(authorization, _verify_function(state), view=_view)
    if isinstance(step, VerifiedToken):
        setattr(store, _RECORD, RequestRecord({plan.locations: step}, "Bearer", plan.sender, step))
        _send(token_verified, token=step)
    return step


def _full_path(state: AppState, where: tuple[str, ...]) -> Outcome:
    """Find the token in ``where`` (with CSRF), verify it and run the sender checks."""
    view, settings = _view(), state.settings
    found = locate(
        view,
        settings,
        state.resource,
        csrf_failure=lambda: csrf_failure(request, settings),
        locations=where,
    )
    if isinstance(found, Outcome):
        return found
    return verify_request(view, found, _verify_function(state), state.resource)


def _exempt() -> bool:
    """Whether this request's view runs whatever state the access cookie is in (``jwt_exempt``)."""
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    return getattr(view, EXEMPT_ATTRIBUTE, False) is True


def deferred_cookie_error() -> TokenError | None:
    """Why the access cookie failed verification on this ``jwt_exempt`` view, else ``None``."""
    return _recorded().cookie_error


async def _aload(loader: Callable[[VerifiedToken], Any], token: VerifiedToken) -> Any:
    user = loader(token)
    return await user if inspect.isawaitable(user) else user


def _steps(
    state: AppState,
    planned: Outcome | None,
    optional: bool,
    locations: tuple[str, ...] | None,
    dpop: str | None,
) -> Steps[VerifiedToken | None]:
    """One check of the request: the outcome reached for these locations (a refusal is replayed),
    or a new one."""
    where = locations or state.settings.locations
    record: RequestRecord | None = g.get(_RECORD)
    if record is None:
        record = RequestRecord()
        setattr(g, _RECORD, record)
    if where in record.outcomes:
        outcome = record.outcomes[where]
        if isinstance(outcome, JWTGuardHTTPException):
            raise outcome
        if outcome is None and not optional:
            raise http_error(None, response=state.resource.refusal(None, dpop=dpop))
        return outcome  # type: ignore[no-any-return]
    outcome = planned if planned is not None else _full_path(state, where)
    record.saw(outcome)
    if outcome.csrf_failed:
        _send(token_rejected, reason="csrf_failed", error=None)
        record.outcomes[where] = refused = csrf_error()
        raise refused
    token = outcome.token
    if outcome.error is None:
        record.sender = outcome.sender
    else:
        rejection = _reject(state, outcome.error, dpop=dpop)
        if not (outcome.deferrable and _exempt()):
            record.outcomes[where] = rejection
            raise rejection
        record.defer(outcome.error)  # a jwt_exempt view runs as if there were no token
    loader = state.guard._user_loader
    user: Any
    # A token whose issuer does not map to local users has no current_user.
    if token is not None and loader is not None and state.users.maps(token):
        user = yield Io(
            lambda: current_app.ensure_sync(loader)(token), lambda: _aload(loader, token)
        )
        if user is None:
            rejection = _reject(state, missing_user())
            record.outcomes[where] = rejection
            raise rejection
        record.user = user
    # No token is remembered as such: a later optional check lets it through.
    record.outcomes[where] = token
    if token is None:
        if optional:
            return None
        raise _reject(state, None, dpop=dpop)
    _send(token_verified, token=token)
    record.token = token
    return token


def authenticate(
    *, optional: bool = False, locations: tuple[str, ...] | None = None, dpop: str | None = None
) -> VerifiedToken | None:
    """Authenticate the current request, or raise its :class:`JWTGuardHTTPException`.

    ``dpop="required"`` (a route's demand) shapes the challenge sent without a token.
    """
    state = current_state()
    planned = _planned(state, locations)  # the common bearer request runs no generator
    if isinstance(planned, VerifiedToken):
        return planned
    return drive(_steps(state, planned, optional, locations, dpop))


async def aauthenticate(
    *, optional: bool = False, locations: tuple[str, ...] | None = None, dpop: str | None = None
) -> VerifiedToken | None:
    """Like :func:`authenticate`, for async views: an ``async def`` user loader is awaited."""
    state = current_state()
    planned = _planned(state, locations)
    if isinstance(planned, VerifiedToken):
        return planned
    return await adrive(_steps(state, planned, optional, locations, dpop))


def enforce(token: VerifiedToken, route: RouteRequirement) -> None:
    """A route's own demands on a verified token (DPoP, step-up, scopes, roles): the core's."""
    if route.allows(token):
        return
    state = current_state()
    try:
        route.check(token, state.resource, _recorded().sender)
    except TokenError as exc:
        raise _reject(state, exc, dpop=route.dpop) from None


def add_dpop_nonce(response: Response) -> Response:
    """``after_request``: hand the next DPoP nonce to a client on any response (RFC 9449 8.2)."""
    set_dpop_nonce(response.headers, _recorded().nonce)
    return response


def current_token() -> VerifiedToken | None:
    """The token verified for this request, or ``None``."""
    return _recorded().token


def current_user() -> Any:
    """The user ``@guard.user_loader`` returned for this request's token, or ``None``."""
    return _recorded().user
