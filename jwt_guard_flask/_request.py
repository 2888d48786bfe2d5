"""One request's authentication: find the token, CSRF, verify, sender checks, scopes, user.

The sync and async paths share every decision; they differ only in how
the user loader is called (an ``async def`` loader is awaited in async
views). The outcome is kept on ``flask.g`` so that a blueprint guard and a
view decorator on the same request verify the token once. The common bearer
request takes the core's plan (:func:`_planned`), and any other the full path.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from flask import Request, Response, current_app, g, has_app_context, request

from jwt_guard_core import TokenError, VerifiedToken
from jwt_guard_core.request_policy import (
    Outcome,
    RequestView,
    locate,
    missing_user,
    verify_request,
)
from jwt_guard_core.route_policy import RouteRequirement, route_locations
from jwt_guard_core.sender import SenderResult

from ._sessions import verify_limited
from ._state import AppState, current_state
from .csrf import csrf_failure
from .errors import JWTGuardHTTPException, csrf_error, http_error
from .signals import token_rejected, token_verified

__all__ = [
    "EXEMPT_ATTRIBUTE",
    "aauthenticate",
    "add_dpop_nonce",
    "authenticate",
    "deferred_cookie_error",
    "enforce",
    "normalize_locations",
]

logger = logging.getLogger("jwt_guard.flask")

_RECORD = "_jwt_guard"
#: Set by :func:`jwt_guard_flask.decorators.jwt_exempt` on a view function.
EXEMPT_ATTRIBUTE = "jwt_exempt"


@dataclass(slots=True)
class _Record:
    """What jwt-guard learnt about this request, kept on ``flask.g`` as one attribute.

    ``outcomes`` maps the locations read to the token or the refusal
    reached there; ``presented`` is how the first token came, ``sender``
    what its DPoP and certificate checks found, ``cookie_error`` why a
    cookie left to a ``jwt_exempt`` view failed.
    """

    outcomes: dict[tuple[str, ...], Any] = field(default_factory=dict)
    presented: str | None = None
    sender: SenderResult | None = None
    token: VerifiedToken | None = None
    user: Any = None
    cookie_error: TokenError | None = None


def _record() -> _Record:
    record: _Record | None = g.get(_RECORD)
    if record is None:
        record = _Record()
        setattr(g, _RECORD, record)
    return record


def _recorded() -> _Record | None:
    """This request's record, or ``None`` outside a request or before authentication."""
    return g.get(_RECORD) if has_app_context() else None


def normalize_locations(locations: Iterable[str] | str | None) -> tuple[str, ...] | None:
    """Validate a decorator's ``locations`` at decoration time (a typo fails at import)."""
    return route_locations(locations)


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
    record = _recorded()
    presented = record.presented if record is not None else None
    response = state.resource.refusal(error, presented=presented, dpop=dpop)
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


def _replay(
    outcome: Any, optional: bool, state: AppState, dpop: str | None
) -> VerifiedToken | None:
    if isinstance(outcome, JWTGuardHTTPException):
        raise outcome
    if outcome is None and not optional:
        raise http_error(None, response=state.resource.refusal(None, dpop=dpop))
    return outcome  # type: ignore[no-any-return]


def _verify_function(state: AppState) -> Callable[[str], VerifiedToken]:
    # Async views use this sync path too: Flask runs an async view in an
    # event loop of its own that ends with the request, on the request's
    # thread. Blocking it blocks nothing else, while an async HTTP client or
    # a background key refresh bound to that loop would outlive it.
    verifier = state.verifier
    return (lambda raw: verify_limited(verifier, raw)) if state.limited else verifier.verify


def _outcome(state: AppState, where: tuple[str, ...]) -> Outcome:
    view = _view()
    settings = state.settings
    step = locate(
        view,
        settings,
        state.resource,
        csrf_failure=lambda: csrf_failure(request, settings),
        locations=where,
    )
    if isinstance(step, Outcome):
        return step
    return verify_request(view, step, _verify_function(state), state.resource)


def _planned(state: AppState, locations: tuple[str, ...] | None) -> VerifiedToken | Outcome | None:
    """The common bearer request on its plan (:class:`~jwt_guard_core.request_policy.BearerPlan`).

    An accepted token is recorded here and returned; an :class:`Outcome`
    (a refusal) or ``None`` (not the plan's request) goes to
    :class:`_Attempt`, which answers it as for any request. Only a first
    check of the request without a user loader takes the plan.
    """
    plan = state.plan
    if plan is None or (locations is not None and locations != plan.locations):
        return None
    store = g._get_current_object()
    if _RECORD in store or state.guard._user_loader is not None:
        return None
    authorization = request.environ.get("HTTP_AUTHORIZATION")
    step = plan.verify(authorization, _verify_function(state), view=_view)
    if isinstance(step, VerifiedToken):
        record = _Record({plan.locations: step}, "Bearer", plan.sender, step)
        setattr(store, _RECORD, record)
        _send(token_verified, token=step)
    return step


def _verify(
    state: AppState,
    record: _Record,
    where: tuple[str, ...],
    dpop: str | None,
    planned: Outcome | None,
) -> VerifiedToken | None:
    outcome = planned if planned is not None else _outcome(state, where)
    if record.presented is None:
        record.presented = outcome.presented
    if outcome.csrf_failed:
        _send(token_rejected, reason="csrf_failed", error=None)
        raise csrf_error()
    if outcome.error is not None:
        rejection = _reject(state, outcome.error, dpop=dpop)
        if outcome.deferrable and _exempt():
            if record.cookie_error is None:
                record.cookie_error = outcome.error
            return None
        raise rejection
    record.sender = outcome.sender
    return outcome.token


def _exempt() -> bool:
    """Whether this request's view works whatever state the access cookie is in.

    The one place that decides whether a failed access-token cookie stops
    the request (see :func:`jwt_guard_flask.decorators.jwt_exempt`): a
    ``jwt_exempt`` view sees no token and finds the failure with
    :func:`deferred_cookie_error`. A bad header token, or a cookie without
    CSRF proof, is refused everywhere.
    """
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    return getattr(view, EXEMPT_ATTRIBUTE, False) is True


def deferred_cookie_error() -> TokenError | None:
    """Why the access cookie failed verification on this ``jwt_exempt`` view, else ``None``."""
    record = _recorded()
    return record.cookie_error if record is not None else None


class _UserStep(NamedTuple):
    loader: Callable[[VerifiedToken], Any]
    token: VerifiedToken


class _Attempt:
    """One authentication of the request, shared by the sync and async entry points.

    Construction replays the outcome already reached for these locations
    (a blueprint guard and a view decorator verify once) or verifies the
    token; only calling the user loader differs between the two paths.
    Every refusal is remembered, so a second check on the request replays it.
    """

    def __init__(
        self,
        state: AppState,
        optional: bool,
        locations: tuple[str, ...] | None,
        dpop: str | None = None,
        planned: Outcome | None = None,
    ) -> None:
        self.state = state
        self.optional = optional
        self.dpop = dpop
        self.where = where = locations or state.settings.locations
        self.record = record = _record()
        self.token: VerifiedToken | None = None
        self.hit = where in record.outcomes
        if not self.hit:
            try:
                self.token = _verify(state, record, where, dpop, planned)
            except JWTGuardHTTPException as exc:
                record.outcomes[where] = exc
                raise

    def user_step(self) -> _UserStep | None:
        """The user loader call still to make, or ``None``: no fresh token or no loader.

        Nor for a token whose issuer does not map to local users
        (``JWT_GUARD_USER_ISSUERS``): it has no ``current_user``.
        """
        loader = self.state.guard._user_loader
        if self.hit or self.token is None or loader is None:
            return None
        if not self.state.users.maps(self.token):
            return None
        return _UserStep(loader, self.token)

    def set_user(self, user: Any) -> None:
        if user is None:
            exc = _reject(self.state, missing_user())
            self.record.outcomes[self.where] = exc
            raise exc
        self.record.user = user

    def finish(self) -> VerifiedToken | None:
        record = self.record
        if self.hit:
            return _replay(record.outcomes[self.where], self.optional, self.state, self.dpop)
        token = self.token
        # No token is remembered as such: a later optional check lets it through.
        record.outcomes[self.where] = token
        if token is None:
            if self.optional:
                return None
            raise _reject(self.state, None, dpop=self.dpop)
        _send(token_verified, token=token)
        record.token = token
        return token


def authenticate(
    *, optional: bool = False, locations: tuple[str, ...] | None = None, dpop: str | None = None
) -> VerifiedToken | None:
    """Authenticate the current request. Raises a :class:`JWTGuardHTTPException`.

    ``dpop="required"`` (a route's demand) shapes the challenge sent when
    there is no token; :func:`enforce` refuses an unbound one.
    """
    state = current_state()
    planned = _planned(state, locations)
    if isinstance(planned, VerifiedToken):
        return planned
    attempt = _Attempt(state, optional, locations, dpop, planned)
    step = attempt.user_step()
    if step is not None:
        attempt.set_user(current_app.ensure_sync(step.loader)(step.token))
    return attempt.finish()


async def aauthenticate(
    *, optional: bool = False, locations: tuple[str, ...] | None = None, dpop: str | None = None
) -> VerifiedToken | None:
    """Like :func:`authenticate`, for async views: an ``async def`` user loader is awaited."""
    state = current_state()
    planned = _planned(state, locations)
    if isinstance(planned, VerifiedToken):
        return planned
    attempt = _Attempt(state, optional, locations, dpop, planned)
    step = attempt.user_step()
    if step is not None:
        user = step.loader(step.token)
        attempt.set_user(await user if inspect.isawaitable(user) else user)
    return attempt.finish()


def enforce(token: VerifiedToken, route: RouteRequirement) -> None:
    """A route's own demands on a verified token (DPoP, step-up, scopes, roles), or the refusal.

    401 ``invalid_token`` (``dpop_required``) with a ``DPoP`` challenge, 401
    ``insufficient_user_authentication`` naming ``acr_values`` and
    ``max_age``, 403 ``insufficient_scope`` (also for a missing role);
    the core emits the security event.
    """
    if route.allows(token):
        return
    state = current_state()
    try:
        route.check(token, state.resource, _record().sender)
    except TokenError as exc:
        raise _reject(state, exc, dpop=route.dpop) from None


def add_dpop_nonce(response: Response) -> Response:
    """``after_request``: hand the next DPoP nonce to a client on any response (RFC 9449 8.2)."""
    record = _recorded()
    nonce = record.sender.nonce if record is not None and record.sender is not None else None
    if nonce and "DPoP-Nonce" not in response.headers:
        response.headers["DPoP-Nonce"] = nonce
    return response


def current_token() -> VerifiedToken | None:
    """The token verified for this request, or ``None``."""
    record = _recorded()
    return record.token if record is not None else None


def current_user() -> Any:
    """The user the loader returned for this request's token, or ``None``."""
    record = _recorded()
    return record.user if record is not None else None
