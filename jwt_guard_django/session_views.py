"""Login, refresh and logout views, sync and async: the core decides, they map (docs/django.md)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import django.contrib.auth as django_auth
from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.middleware.csrf import CsrfViewMiddleware, rotate_token
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from jwt_guard_core.sessions.endpoints import SessionRequest
from jwt_guard_core.sessions.http import SessionCall, content_length, login_grant, route_steps
from jwt_guard_core.steps import Io, Steps, adrive, drive

from ._auth import _csrf_failure, aauthenticate, authenticate, jwt_exempt
from .sessions import Sessions, aget_sessions, get_sessions


def _rotate_csrf(request: HttpRequest, response: HttpResponse) -> None:
    # A new CSRF token with the session cookies (what django.contrib.auth.login
    # does), set on this response even where CsrfViewMiddleware is not installed.
    rotate_token(request)
    CsrfViewMiddleware(lambda r: response).process_response(request, response)


def _check(request: HttpRequest, sessions: Sessions, username: str, password: str) -> Any:
    user = django_auth.authenticate(request, username=username, password=password)
    return login_grant(user, sessions.scopes_for)


async def _acheck(request: HttpRequest, sessions: Sessions, username: str, password: str) -> Any:
    # aauthenticate (Django 5.0+) awaits each backend's aauthenticate; a backend
    # without one, or Django 4.2, runs the sync check in a thread, not a 500.
    awaitable = [hasattr(backend, "aauthenticate") for backend in django_auth.get_backends()]
    if not hasattr(django_auth, "aauthenticate") or not all(awaitable):
        return await sync_to_async(_check)(request, sessions, username, password)
    user = await django_auth.aauthenticate(request, username=username, password=password)
    # SCOPES may be a function of the user that reads the database.
    return await sync_to_async(login_grant)(user, sessions.scopes_for)


def _steps(route: str, request: HttpRequest) -> Steps[HttpResponse]:
    # Every call that waits is a step: the services' first build, the access
    # token, the credentials, the CSRF rotation (CSRF_USE_SESSIONS: the database).
    sessions: Sessions = yield Io(get_sessions, aget_sessions)
    # request.body is read only for JSON (the CSRF check may have parsed a form),
    # and an oversized body is refused by its length before a byte is read.
    length = content_length(request.META.get("CONTENT_LENGTH"))
    body = SessionRequest(
        request.content_type, lambda: request.body, request.COOKIES, content_length=length
    )
    call = SessionCall(
        request=body,
        csrf_failure=lambda: _csrf_failure(request),
        client=lambda: sessions.client_key(request),
        check=lambda *given: Io(
            partial(_check, request, sessions, *given), partial(_acheck, request, sessions, *given)
        ),
        access=Io(partial(authenticate, request), partial(aauthenticate, request)),
    )
    reply = yield from route_steps(sessions.endpoints, route, call)
    headers = reply.response_headers()
    response = HttpResponse(reply.json_body() or b"", status=reply.status, headers=headers)
    for arguments in reply.set_cookie_calls():
        response.set_cookie(**arguments)
    if reply.status == 200 and reply.cookies:
        rotate = partial(_rotate_csrf, request, response)
        yield Io(rotate, sync_to_async(rotate))
    return response


def _views(route: str, *, jwt_exempted: bool = True) -> tuple[Callable[..., Any], ...]:
    """``route``'s sync and async views: ``POST`` only, CSRF left to the core, and
    ``jwt_exempted`` so that a revoked or expired access cookie never blocks them."""

    def view(request: HttpRequest) -> HttpResponse:
        return drive(_steps(route, request))

    async def aview(request: HttpRequest) -> HttpResponse:
        # Django's decorators wrap a coroutine only since 5.0.
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        return await adrive(_steps(route, request))

    view.__name__ = view.__qualname__ = f"{route}_view"
    aview.__name__ = aview.__qualname__ = f"a{route}_view"
    aview.csrf_exempt = True  # type: ignore[attr-defined]
    pair = csrf_exempt(require_POST(view)), aview
    return (jwt_exempt(pair[0]), jwt_exempt(pair[1])) if jwt_exempted else pair


obtain_view, aobtain_view = _views("obtain")
refresh_view, arefresh_view = _views("refresh")
logout_view, alogout_view = _views("logout")
logout_everywhere_view, alogout_everywhere_view = _views("logout_everywhere", jwt_exempted=False)
