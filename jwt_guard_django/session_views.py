"""Login, refresh and logout views over the core's session services.

Include :mod:`jwt_guard_django.session_urls` (``path("auth/",
include("jwt_guard_django.session_urls"))``) to serve:

* ``POST auth/token/``: obtain. A JSON body ``{"username": ..., "password":
  ...}`` is checked with :func:`django.contrib.auth.authenticate`; the answer
  is a new session (access token + refresh token).
* ``POST auth/refresh/``: rotate the refresh token (JSON body
  ``{"refresh_token": ...}`` or the refresh cookie).
* ``POST auth/refresh/logout/``: revoke the session (the refresh token's
  family, the access token's ``jti`` and ``sid``). Under the refresh path so
  the browser sends the path-scoped refresh cookie along.
* ``POST auth/logout-everywhere/``: revoke every session of the access
  token's subject.

Tokens travel in the JSON body, in cookies, or both (``SESSIONS["MODE"]``).
Every decision (bodies, cookie attributes, which refresh token counts, what
logout revokes, error shapes) is the core's
(:class:`jwt_guard_core.sessions.endpoints.SessionEndpoints`); these views
only describe the request and apply the reply. A cookie-borne credential on
these ``POST`` routes needs Django's CSRF proof (the ``csrftoken`` cookie
copied into the ``X-CSRFToken`` header), the same check the middleware
applies. Login, refresh and logout are ``jwt_exempt``: a revoked or expired
access-token cookie never blocks them.

Each view has an ``async def`` twin (``aobtain_view``, ``arefresh_view``,
``alogout_view``, ``alogout_everywhere_view``) that :mod:`.session_urls`
serves when ``SESSIONS["ASYNC"]`` is ``True``: the same decisions (the
core's ``alogin``, ``arefresh`` ...), with the store awaited (redis.asyncio,
or the SQLite and ORM stores off the event loop), the credentials checked by
``django.contrib.auth.aauthenticate`` (in a thread when a backend has no
``aauthenticate``), and the access token verified without blocking the loop.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from functools import partial
from typing import Any, cast

import django.contrib.auth as django_auth
from asgiref.sync import sync_to_async
from django.contrib.auth import authenticate as django_authenticate
from django.contrib.auth import get_backends
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.middleware.csrf import CsrfViewMiddleware, rotate_token
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from jwt_guard_core.sessions.cookies import SessionReply
from jwt_guard_core.sessions.endpoints import SessionRequest
from jwt_guard_core.sessions.http import SessionCall, content_length, route_steps
from jwt_guard_core.steps import Io, Steps, adrive, drive

from ._auth import _csrf_failure, aauthenticate, authenticate, jwt_exempt
from .sessions import Sessions, aget_sessions, get_sessions

__all__ = [
    "alogout_everywhere_view",
    "alogout_view",
    "aobtain_view",
    "arefresh_view",
    "logout_everywhere_view",
    "logout_view",
    "obtain_view",
    "refresh_view",
]


def _reply(reply: SessionReply) -> HttpResponse:
    body = reply.json_body()
    if body is None:
        response = HttpResponse(status=reply.status)
    else:
        response = HttpResponse(body, status=reply.status, content_type="application/json")
    for name, value in reply.headers.items():
        response[name] = value
    for spec in reply.cookies:
        if spec.deletes:
            response.delete_cookie(
                spec.name,
                path=spec.path,
                domain=spec.domain,
                samesite=cast(Any, spec.same_site),
            )
            # delete_cookie keeps only Secure/SameSite; the attributes the
            # core decided stay on the deletion too.
            response.cookies[spec.name]["httponly"] = spec.http_only
            response.cookies[spec.name]["secure"] = spec.secure
        else:
            response.set_cookie(**spec.set_cookie_arguments())
    return response


def _rotate_csrf(request: HttpRequest, response: HttpResponse) -> None:
    # A new Django CSRF token with the session cookies (what
    # django.contrib.auth.login does), set on this response even where
    # CsrfViewMiddleware is not installed.
    rotate_token(request)
    CsrfViewMiddleware(lambda r: response).process_response(request, response)


def _granted(sessions: Sessions, user: Any) -> tuple[str, tuple[str, ...]] | None:
    # An inactive user is refused like wrong credentials.
    if user is None or not getattr(user, "is_active", True):
        return None
    return str(user.pk), sessions.scopes_for(user)


def _check(
    request: HttpRequest, sessions: Sessions, username: str, password: str
) -> tuple[str, tuple[str, ...]] | None:
    user = django_authenticate(request, username=username, password=password)
    return _granted(sessions, user)


async def _acheck(
    request: HttpRequest, sessions: Sessions, username: str, password: str
) -> tuple[str, tuple[str, ...]] | None:
    # Django's aauthenticate (5.0+) awaits each backend's aauthenticate
    # (BaseBackend and ModelBackend have one); a backend written without it,
    # or Django 4.2, runs the sync check in a thread rather than failing the
    # login with a 500.
    aauthenticate = getattr(django_auth, "aauthenticate", None)
    if aauthenticate is not None and all(
        hasattr(backend, "aauthenticate") for backend in get_backends()
    ):
        user = await aauthenticate(request, username=username, password=password)
    else:
        user = await sync_to_async(django_authenticate)(
            request, username=username, password=password
        )
    # SCOPES may be a function of the user that reads the database.
    return await sync_to_async(_granted)(sessions, user)


def _steps(route: str, request: HttpRequest) -> Steps[HttpResponse]:
    """One session view, sync or async: the core answers, this maps request and reply.

    Every call that waits is a step: the session services' first build, the
    access token's authentication, the credentials check, and the CSRF
    token rotation (Django's CSRF token may live in the session,
    ``CSRF_USE_SESSIONS``: the database, so a thread on the async path).
    """
    sessions: Sessions = yield Io(get_sessions, aget_sessions)
    # request.body is read only for a JSON request: another body may already
    # have been parsed (request.POST) by the CSRF check. With its length
    # known, an oversized body is refused before a byte of it is read.
    body = SessionRequest(
        request.content_type,
        lambda: request.body,
        request.COOKIES,
        content_length=content_length(request.META.get("CONTENT_LENGTH")),
    )
    call = SessionCall(
        request=body,
        csrf_failure=lambda: _csrf_failure(request),
        client=lambda: sessions.client_key(request),
        check=lambda u, p: Io(
            partial(_check, request, sessions, u, p), partial(_acheck, request, sessions, u, p)
        ),
        access=Io(partial(authenticate, request), partial(aauthenticate, request)),
    )
    reply = yield from route_steps(sessions.endpoints, route, call)
    response = _reply(reply)
    if reply.status == 200 and reply.cookies:
        rotate = partial(_rotate_csrf, request, response)
        yield Io(rotate, sync_to_async(rotate))
    return response


AsyncView = Callable[[HttpRequest], Coroutine[Any, Any, HttpResponse]]


def _async_post(view: AsyncView) -> AsyncView:
    """``csrf_exempt`` + ``require_POST`` for an ``async def`` view, on every Django version.

    Django's own decorators wrap a coroutine function only since 5.0; the
    project supports 4.2 too. CSRF is the core's to decide (cookie
    credentials only), as for the sync views.
    """

    @functools.wraps(view)
    async def wrapper(request: HttpRequest) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        return await view(request)

    wrapper.csrf_exempt = True  # type: ignore[attr-defined]
    return wrapper


@jwt_exempt  # a revoked access cookie must not lock the browser out of a new login
@csrf_exempt  # JSON-only body: see jwt_guard_core.sessions.endpoints.read_json_body
@require_POST
def obtain_view(request: HttpRequest) -> HttpResponse:
    """``POST {"username", "password"}``: check the credentials, start a session.

    200 with the tokens (JSON and/or cookies); 400 ``invalid_grant`` for
    wrong credentials or an inactive user (one answer for all, so accounts
    cannot be discovered); 400 ``invalid_request`` for a body that is not a
    JSON object with both strings; 429 with ``Retry-After`` after too many
    failures from the client; 503 when the session store is down.
    """
    return drive(_steps("obtain", request))


@jwt_exempt
@_async_post
async def aobtain_view(request: HttpRequest) -> HttpResponse:
    """:func:`obtain_view` as an async view (``SESSIONS["ASYNC"]``)."""
    return await adrive(_steps("obtain", request))


@jwt_exempt  # the refresh token is the credential here, not the access token
@csrf_exempt  # CSRF applies when the refresh token came from a cookie; decided by the core
@require_POST
def refresh_view(request: HttpRequest) -> HttpResponse:
    """``POST``: spend the refresh token, answer a new pair.

    The token is the body's ``refresh_token`` (``json``/``both`` modes) or
    the refresh cookie (``cookie``/``both``); an optional ``scope`` narrows
    the new access token. 400 ``invalid_grant`` for any refused token
    (reuse revokes the session), 400 ``invalid_request`` without a token,
    403 ``csrf_failed`` for a cookie token without CSRF proof, 503 when the
    store is down.
    """
    return drive(_steps("refresh", request))


@jwt_exempt
@_async_post
async def arefresh_view(request: HttpRequest) -> HttpResponse:
    """:func:`refresh_view` as an async view (``SESSIONS["ASYNC"]``)."""
    return await adrive(_steps("refresh", request))


@jwt_exempt  # a revoked access cookie must not keep the browser from logging out
@csrf_exempt  # cookie credentials get Django's CSRF check in the core and in authenticate()
@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    """``POST``: end this session.

    Revokes the access token's ``jti`` and its session (``sid``), and the
    family of the presented refresh token (body or cookie), whichever the
    request carries. 204 and, in cookie modes, the deletion of the cookies,
    also when the access cookie is no longer valid (revoked by "log out
    everywhere", expired); 401 without any credential or with an invalid
    ``Authorization`` header; 503 when the store is down (a logout that did
    not happen must not look like one).
    """
    return drive(_steps("logout", request))


@jwt_exempt
@_async_post
async def alogout_view(request: HttpRequest) -> HttpResponse:
    """:func:`logout_view` as an async view (``SESSIONS["ASYNC"]``)."""
    return await adrive(_steps("logout", request))


@csrf_exempt  # a cookie access token gets Django's CSRF check in authenticate()
@require_POST
def logout_everywhere_view(request: HttpRequest) -> HttpResponse:
    """``POST`` with an access token: revoke every session and access token of its subject.

    204 (cookies deleted in cookie modes); 401 without a valid access
    token; 503 when the store is down.
    """
    return drive(_steps("logout_everywhere", request))


@_async_post
async def alogout_everywhere_view(request: HttpRequest) -> HttpResponse:
    """:func:`logout_everywhere_view` as an async view (``SESSIONS["ASYNC"]``)."""
    return await adrive(_steps("logout_everywhere", request))
