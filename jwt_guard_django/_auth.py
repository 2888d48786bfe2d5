"""One request, authenticated once: the decisions the middleware, the DRF class
and the decorators share.

``authenticate`` and ``aauthenticate`` are one set of steps
(:mod:`jwt_guard_core.steps`) driven sync or awaited: they differ only in
calling ``verify`` or ``averify`` and in how signals and user lookups are
dispatched; extraction, the CSRF decision and the outcome are the same code.
The outcome is stored on the request, so a request that passes the
middleware and then a DRF view is verified once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, TypeVar

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.urls import Resolver404, resolve

from jwt_guard_core import VerifiedToken, Verifier
from jwt_guard_core.http import ErrorResponse
from jwt_guard_core.request_policy import (
    BearerPlan,
    Outcome,
    RequestView,
    averify_request,
    bearer_plan,
    locate,
    missing_user,
    verify_request,
)
from jwt_guard_core.sender import PresentedToken
from jwt_guard_core.steps import Io, Steps, adrive, drive

from . import signals
from .conf import conf
from .resource import get_resource
from .user import aresolve_user, resolve_user
from .verifier import get_verifier

_OUTCOME = "_jwt_guard_outcome"
_USER = "_jwt_guard_user"
_UNSET = object()
_EXEMPT = "jwt_exempt"
View = TypeVar("View", bound=Callable[..., Any])


class _CsrfCheck(CsrfViewMiddleware):
    # DRF's SessionAuthentication.enforce_csrf does the same: reuse Django's
    # whole CSRF check (Origin, Referer, token) and take the reason back
    # instead of the HTML 403 page.
    def _reject(self, request: HttpRequest, reason: str) -> Any:
        return reason


def _get_response(request: HttpRequest) -> HttpResponse:  # pragma: no cover - never called
    return HttpResponse()


def _csrf_failure(request: HttpRequest) -> str | None:
    check = _CsrfCheck(_get_response)
    check.process_request(request)
    result = check.process_view(request, _get_response, (), {})
    return result if isinstance(result, str) else None


def jwt_exempt(view: View) -> View:
    """Let ``view`` run whatever state the access-token *cookie* is in.

    The middleware does not refuse a request to such a view for an access
    cookie that fails verification (invalid, revoked, expired): the view
    runs with ``request.auth = None`` and may read the outcome with
    :func:`authenticate`. A bad ``Authorization`` header is still refused
    (a client that sends one chose to), and so is a cookie on an unsafe
    method without CSRF proof (a forged cross-site request must not swap or
    end the victim's session). The session views need this: after
    "log out everywhere" on another device, the browser's revoked access
    cookie must not keep it from logging in again or clearing its cookies.
    """
    setattr(view, _EXEMPT, True)
    return view


def defers_to_view(request: HttpRequest, outcome: Outcome) -> bool:
    """Whether the refusal ``outcome`` demands is left to the ``jwt_exempt`` view requested.

    The one place that decides whether a request's access token is needed
    before its view runs. Only a cookie that failed verification is
    deferred, and the view is resolved only then, so other requests pay
    nothing.
    """
    if not outcome.deferrable:
        return False
    try:
        match = resolve(request.path_info, urlconf=getattr(request, "urlconf", None))
    except Resolver404:
        return False
    return getattr(match.func, _EXEMPT, False) is True


def _meta_header(request: HttpRequest, name: str) -> tuple[str, ...]:
    # WSGI and Django's ASGI handler fold a repeated header into one value
    # joined by ","; the DPoP check refuses that as several proofs.
    value = request.META.get("HTTP_" + name.upper().replace("-", "_"))
    return (value,) if value is not None else ()


def _view(request: HttpRequest) -> RequestView:
    return RequestView(
        method=request.method or "GET",
        authorization=request.META.get("HTTP_AUTHORIZATION"),
        cookie=lambda name: request.COOKIES.get(name),
        headers=lambda name: _meta_header(request, name),
        url=lambda: (request.scheme or "http", request.get_host(), request.path),
    )


def _begin(request: HttpRequest) -> tuple[RequestView, Outcome | PresentedToken]:
    """Everything before verification: find the token, apply Django's CSRF check."""
    view = _view(request)
    step = locate(view, conf.request, get_resource(), csrf_failure=lambda: _csrf_failure(request))
    return view, step


def _rate_limited(request: HttpRequest, verifier: Verifier) -> Callable[[str], VerifiedToken]:
    if conf.value("sessions") is None:
        return verifier.verify  # no sessions, no limiter: the session side is never imported
    from .sessions import verify_function

    return verify_function(request, verifier)


def _arate_limited(
    request: HttpRequest, verifier: Verifier
) -> Callable[[str], Awaitable[VerifiedToken]]:
    if conf.value("sessions") is None:
        return verifier.averify
    from .sessions import averify_function

    return averify_function(request, verifier)


def _remember(request: HttpRequest, outcome: Outcome) -> Outcome:
    setattr(request, _OUTCOME, outcome)
    return outcome


def authenticate_steps(request: HttpRequest) -> Steps[Outcome]:
    """:func:`authenticate` as steps, for code that is itself steps (the decorators)."""
    outcome: Outcome | None = getattr(request, _OUTCOME, None)
    if outcome is None:
        # A bearer request the configuration's plan takes skips finding the
        # token (jwt_guard_core.request_policy.BearerPlan); same outcome.
        outcome = yield Io(lambda: _planned(request), lambda: _aplanned(request))
        if outcome is None:
            outcome = yield from _full_steps(request)
        yield from _send_steps(request, _remember(request, outcome))
    return outcome


def _full_steps(request: HttpRequest) -> Steps[Outcome]:
    """Find the token, check CSRF, verify: every request the plan does not take."""
    view, step = _begin(request)
    if isinstance(step, Outcome):
        return step
    found = step
    outcome: Outcome = yield Io(
        lambda: verify_request(view, found, _rate_limited(request, get_verifier()), get_resource()),
        lambda: averify_request(
            view, found, _arate_limited(request, get_verifier()), get_resource()
        ),
    )
    return outcome


def _plan() -> tuple[BearerPlan | None, bool]:
    # The common bearer request's path, and whether sessions rate-limit
    # verification: decided once per JWT_GUARD.
    kept: tuple[BearerPlan | None, bool] = conf.kept(
        "bearer_plan",
        lambda: (bearer_plan(conf.request, get_resource()), conf.value("sessions") is not None),
    )
    return kept


def _verify(raw: str) -> VerifiedToken:
    return get_verifier().verify(raw)


async def _averify(raw: str) -> VerifiedToken:
    return await get_verifier().averify(raw)


def _planned(request: HttpRequest) -> Outcome | None:
    """The outcome of a bearer request the plan takes, or ``None``: the full path decides."""
    plan, limited = _plan()
    if plan is None:
        return None
    # The verifier is built only for a request that carries a token.
    step = plan.verify(
        request.META.get("HTTP_AUTHORIZATION"),
        (lambda raw: _rate_limited(request, get_verifier())(raw)) if limited else _verify,
        view=lambda: _view(request),
    )
    return plan.outcome(step) if isinstance(step, VerifiedToken) else step


async def _aplanned(request: HttpRequest) -> Outcome | None:
    plan, limited = _plan()
    if plan is None:
        return None
    step = await plan.averify(
        request.META.get("HTTP_AUTHORIZATION"),
        (lambda raw: _arate_limited(request, get_verifier())(raw)) if limited else _averify,
        view=lambda: _view(request),
    )
    return plan.outcome(step) if isinstance(step, VerifiedToken) else step


def authenticate(request: HttpRequest) -> Outcome:
    """Authenticate ``request`` once (sync); later calls return the same outcome.

    :func:`authenticate_steps` driven, written out for the hot path: a
    bearer request the plan takes runs no generator.
    """
    outcome: Outcome | None = getattr(request, _OUTCOME, None)
    if outcome is None:
        outcome = _planned(request)
        if outcome is None:
            outcome = drive(_full_steps(request))
        _remember(request, outcome)
        if _signal(outcome) is not None:
            drive(_send_steps(request, outcome))
    return outcome


async def aauthenticate(request: HttpRequest) -> Outcome:
    """Like :func:`authenticate`; key fetches never block the event loop."""
    outcome: Outcome | None = getattr(request, _OUTCOME, None)
    if outcome is None:
        outcome = await _aplanned(request)
        if outcome is None:
            outcome = await adrive(_full_steps(request))
        _remember(request, outcome)
        if _signal(outcome) is not None:
            await adrive(_send_steps(request, outcome))
    return outcome


def admit(
    request: HttpRequest, outcome: Outcome, *, dpop: str | None = None
) -> JsonResponse | None:
    """The refusal ``outcome`` demands; else ``None``, with ``request.auth`` set (token or None)."""
    spec = outcome.refusal(dpop=dpop)
    if spec is not None:
        return to_response(spec)
    request.auth = outcome.token  # type: ignore[attr-defined]
    return None


def _signal(outcome: Outcome) -> tuple[Any, dict[str, Any]] | None:
    # Nothing is built for a signal nobody listens to (the common case).
    if outcome.token is not None:
        signal = signals.token_verified
        return (signal, {"token": outcome.token}) if signal.receivers else None
    if outcome.reason is not None:
        signal = signals.token_rejected
        kwargs = {"reason": outcome.reason, "error": outcome.error}
        return (signal, kwargs) if signal.receivers else None
    return None


def _send_steps(request: HttpRequest, outcome: Outcome) -> Steps[None]:
    found = _signal(outcome)
    if found is not None:
        signal, kwargs = found
        send = partial(signal.send, sender=None, request=request, **kwargs)
        if hasattr(signal, "asend"):  # Django 5.0+
            yield Io(send, partial(signal.asend, sender=None, request=request, **kwargs))
        else:  # pragma: no cover - Django 4.2: the receivers run on the loop
            yield Io(send, partial(_awaitable, send))


async def _awaitable(call: Callable[[], Any]) -> Any:  # pragma: no cover - Django 4.2
    return call()


def user_steps(request: HttpRequest, token: VerifiedToken) -> Steps[Any]:
    """:func:`get_user` as steps."""
    user = getattr(request, _USER, _UNSET)
    if user is _UNSET:
        user = yield Io(partial(resolve_user, token), partial(aresolve_user, token))
        setattr(request, _USER, user)
        if user is None:
            yield from _send_steps(request, Outcome(error=missing_user()))
    return user


def get_user(request: HttpRequest, token: VerifiedToken) -> Any:
    """The user for the request's token (resolved once per request), or ``None``."""
    return drive(user_steps(request, token))


async def aget_user(request: HttpRequest, token: VerifiedToken) -> Any:
    """Like :func:`get_user`; database lookups run in a thread."""
    return await adrive(user_steps(request, token))


def to_response(spec: ErrorResponse) -> JsonResponse:
    """A core :class:`~jwt_guard_core.http.ErrorResponse` as a Django response."""
    response = JsonResponse(dict(spec.body), status=spec.status)
    for name, value in spec.headers.items():
        response[name] = value
    return response


def anonymous_user() -> Any:
    from django.contrib.auth.models import AnonymousUser

    return AnonymousUser()
