"""One request, authenticated once (the outcome is kept on the request) for the middleware,
the DRF class and the decorators, driven sync or awaited."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware

from jwt_guard_core import VerifiedToken
from jwt_guard_core.http import ErrorResponse
from jwt_guard_core.request_policy import Outcome, RequestView, missing_user
from jwt_guard_core.route_guard import View
from jwt_guard_core.steps import Io, Steps, adrive, drive, inline

from . import signals
from .conf import served
from .user import user_io

_OUTCOME = "_jwt_guard_outcome"
_USER = "_jwt_guard_user"
_UNSET = object()
EXEMPT = "jwt_exempt"


class _CsrfCheck(CsrfViewMiddleware):
    # DRF's SessionAuthentication.enforce_csrf does the same: reuse Django's
    # whole CSRF check (Origin, Referer, token) and take the reason back
    # instead of the HTML 403 page.
    def _reject(self, request: HttpRequest, reason: str) -> Any:
        return reason


def _csrf_failure(request: HttpRequest) -> str | None:
    # HttpResponse stands in for the response and the view: never called.
    check = _CsrfCheck(HttpResponse)
    check.process_request(request)
    result = check.process_view(request, HttpResponse, (), {})
    return result if isinstance(result, str) else None


def jwt_exempt(view: View) -> View:
    """Let ``view`` run whatever state the access-token *cookie* is in (docs/django.md).

    A bad ``Authorization`` header, or a cookie without CSRF proof, is still refused.
    """
    setattr(view, EXEMPT, True)
    return view


def _view(request: HttpRequest) -> RequestView:
    return RequestView.from_environ(
        request.META,
        request.method or "GET",
        cookie=lambda name: request.COOKIES.get(name),
        url=lambda: (request.scheme or "http", request.get_host(), request.path),
    )


def authenticate_steps(request: HttpRequest) -> Steps[Outcome]:
    """:func:`authenticate` as steps, for code that is itself steps (the decorators)."""
    outcome: Outcome | None = getattr(request, _OUTCOME, None)
    if outcome is None:
        plan, verify = served.request_plan()
        outcome = yield from plan.steps(
            request.META.get("HTTP_AUTHORIZATION"),
            lambda: _view(request),
            verify or partial(served.limited_io, request),
            lambda: _csrf_failure(request),
        )
        setattr(request, _OUTCOME, outcome)
        yield from _send_steps(request, outcome)
    return outcome


def authenticate(request: HttpRequest) -> Outcome:
    """Authenticate ``request`` once (sync); later calls return the same outcome."""
    return drive(authenticate_steps(request))


async def aauthenticate(request: HttpRequest) -> Outcome:
    """Like :func:`authenticate`; key fetches never block the event loop."""
    return await adrive(authenticate_steps(request))


def admit(
    request: HttpRequest, outcome: Outcome, *, dpop: str | None = None
) -> JsonResponse | None:
    """The refusal ``outcome`` demands; else ``None``, with ``request.auth`` set (token or None)."""
    spec = outcome.refusal(dpop=dpop)
    if spec is not None:
        return to_response(spec)
    request.auth = outcome.token  # type: ignore[attr-defined]
    return None


def _send_steps(request: HttpRequest, outcome: Outcome) -> Steps[None]:
    event = outcome.signal
    if event is None:
        return
    signal = getattr(signals, event[0])
    if signal.receivers:  # nothing is built for a signal nobody listens to (the common case)
        kwargs = {"sender": None, "request": request, **event[1]}
        asend = getattr(signal, "asend", None)  # Django 5.0+; on 4.2 receivers run on the loop
        yield inline(partial(signal.send, **kwargs), partial(asend, **kwargs) if asend else None)


def user_steps(request: HttpRequest, token: VerifiedToken) -> Steps[Any]:
    """The user for the request's token (resolved once per request), or ``None``."""
    user = getattr(request, _USER, _UNSET)
    if user is _UNSET:
        found = user_io(token)
        user = (yield found) if isinstance(found, Io) else found
        setattr(request, _USER, user)
        if user is None:
            yield from _send_steps(request, Outcome(error=missing_user()))
    return user


def to_response(spec: ErrorResponse) -> JsonResponse:
    """A core :class:`~jwt_guard_core.http.ErrorResponse` as a Django response."""
    response = JsonResponse(dict(spec.body), status=spec.status)
    for name, value in spec.headers.items():
        response[name] = value
    return response
