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
Every decision (bodies, cookie attributes, which refresh token counts,
error shapes) is the core's; a cookie-borne credential on these ``POST``
routes needs Django's CSRF proof (the ``csrftoken`` cookie copied into the
``X-CSRFToken`` header), the same check the middleware applies.
"""

from __future__ import annotations

import json
import logging
from typing import Any, cast

from django.contrib.auth import authenticate as django_authenticate
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware, rotate_token
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from jwt_guard_core import StateUnavailable, TokenError, events
from jwt_guard_core.http import (
    ErrorResponse,
    csrf_failure_response,
    csrf_required,
    error_response,
)
from jwt_guard_core.sessions import refresh_error_response
from jwt_guard_core.sessions.cookies import (
    SessionReply,
    credentials_error_response,
    find_refresh_token,
    logout_reply,
    request_error_response,
    session_reply,
)

from ._auth import _csrf_failure, authenticate
from .conf import conf
from .sessions import Sessions, get_sessions

__all__ = ["logout_everywhere_view", "logout_view", "obtain_view", "refresh_view"]

logger = logging.getLogger("jwt_guard.django")
_NOT_JSON = "Send a JSON object (Content-Type: application/json)."


def _error(spec: ErrorResponse) -> HttpResponse:
    response = HttpResponse(
        json.dumps(dict(spec.body)), status=spec.status, content_type="application/json"
    )
    for name, value in spec.headers.items():
        response[name] = value
    return response


def _reply(reply: SessionReply) -> HttpResponse:
    if reply.body is None:
        response = HttpResponse(status=reply.status)
    else:
        response = HttpResponse(
            json.dumps(dict(reply.body)), status=reply.status, content_type="application/json"
        )
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
            response.set_cookie(
                spec.name,
                spec.value,
                max_age=spec.max_age,
                path=spec.path,
                domain=spec.domain,
                secure=spec.secure,
                httponly=spec.http_only,
                samesite=cast(Any, spec.same_site),
            )
    return response


def _json_body(request: HttpRequest, *, required: bool) -> dict[str, Any] | None:
    """The request's JSON object; ``{}`` for an absent optional body; ``None`` when unusable.

    JSON only: a cross-site HTML form cannot send it without a CORS
    preflight, which closes login CSRF for the obtain route. Another
    content type is no body for the routes where one is optional (a cookie
    refresh); its stream may already be read by the CSRF check.
    """
    if request.content_type != "application/json":
        return None if required else {}
    if not request.body:
        return None if required else {}
    try:
        data = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _send_csrf_cookie(request: HttpRequest, response: HttpResponse) -> None:
    # A new Django CSRF token at login (what django.contrib.auth.login does),
    # set on this response even where CsrfViewMiddleware is not installed.
    rotate_token(request)
    CsrfViewMiddleware(lambda r: response).process_response(request, response)


def _csrf_refusal(request: HttpRequest) -> HttpResponse | None:
    failure = _csrf_failure(request)
    if failure is None:
        return None
    events.emit(
        "token_rejected",
        level=logging.WARNING,
        reason="csrf_failed",
        message=f"cookie credential refused: {failure}",
        status=403,
    )
    return _error(csrf_failure_response())


def _session_response(request: HttpRequest, sessions: Sessions, tokens: Any) -> HttpResponse:
    reply = session_reply(
        sessions.cookie_policy,
        tokens,
        mode=sessions.mode,
        now=sessions.clock(),
        access_max_age=sessions.access_max_age,
        csrf_cookie=False,
    )
    response = _reply(reply)
    if sessions.mode != "json":
        _send_csrf_cookie(request, response)
    return response


@csrf_exempt  # JSON-only body: see _json_body
@require_POST
def obtain_view(request: HttpRequest) -> HttpResponse:
    """``POST {"username", "password"}``: check the credentials, start a session.

    200 with the tokens (JSON and/or cookies); 400 ``invalid_grant`` for
    wrong credentials or an inactive user (one answer for all, so accounts
    cannot be discovered); 400 ``invalid_request`` for a body that is not a
    JSON object with both strings; 429 with ``Retry-After`` after too many
    failures from the client; 503 when the session store is down.
    """
    sessions = get_sessions()
    data = _json_body(request, required=True)
    if data is None:
        return _error(request_error_response(_NOT_JSON))
    username, password = data.get("username"), data.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        return _error(request_error_response("Give username and password as strings."))
    limiter = sessions.limiter
    client = sessions.client_key(request)
    try:
        # Password guessing is a stream of failures too: the same limit.
        if limiter is not None:
            limiter.check(client)
        user = django_authenticate(request, username=username, password=password)
        if user is None or not getattr(user, "is_active", True):
            if limiter is not None:
                limiter.record_failure(client)
            events.emit(
                "login_failed",
                level=logging.WARNING,
                reason="invalid_credentials",
                message="login refused: invalid credentials",
                client=client,
            )
            return _error(credentials_error_response())
        tokens = sessions.refresh_tokens.issue(str(user.pk), scopes=sessions.scopes_for(user))
    except TokenError as exc:
        return _error(refresh_error_response(exc))
    events.emit("login_succeeded", subject=str(user.pk), family_id=tokens.family_id)
    return _session_response(request, sessions, tokens)


@csrf_exempt  # CSRF applies when the refresh token came from a cookie; decided below
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
    sessions = get_sessions()
    data = _json_body(request, required=False)
    if data is None:
        return _error(request_error_response(_NOT_JSON))
    found = find_refresh_token(
        sessions.cookie_policy,
        mode=sessions.mode,
        body_token=data.get("refresh_token"),
        cookies=request.COOKIES,
    )
    if found is None:
        return _error(request_error_response("No refresh token was presented."))
    if csrf_required(request.method or "POST", found.location):
        refused = _csrf_refusal(request)
        if refused is not None:
            return refused
    scope = data.get("scope")
    if scope is not None and not isinstance(scope, str):
        return _error(request_error_response("scope is a space-separated string."))
    try:
        tokens = sessions.refresh_tokens.refresh(
            found.token, scopes=scope.split() if scope is not None else None
        )
    except TokenError as exc:
        return _error(refresh_error_response(exc))
    return _session_response(request, sessions, tokens)


def _authenticated(request: HttpRequest) -> tuple[Any, HttpResponse | None]:
    """The request's verified access token (``None`` without one), or the refusal."""
    outcome = authenticate(request)
    refusal = outcome.refusal()
    if refusal is not None:
        return None, _error(refusal)
    return outcome.token, None


@csrf_exempt  # cookie credentials get Django's CSRF check below and in authenticate()
@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    """``POST``: end this session.

    Revokes the access token's ``jti`` and its session (``sid``), and the
    family of the presented refresh token (body or cookie), whichever the
    request carries. 204 and, in cookie modes, the deletion of the cookies;
    401 without either credential; 503 when the store is down (a logout
    that did not happen must not look like one).
    """
    sessions = get_sessions()
    data = _json_body(request, required=False)
    if data is None:
        return _error(request_error_response(_NOT_JSON))
    token, refused = _authenticated(request)
    if refused is not None:
        return refused
    found = find_refresh_token(
        sessions.cookie_policy,
        mode=sessions.mode,
        body_token=data.get("refresh_token"),
        cookies=request.COOKIES,
    )
    if token is None and found is None:
        return _error(error_response(None, realm=conf.REALM))
    if found is not None and csrf_required(request.method or "POST", found.location):
        refused = _csrf_refusal(request)
        if refused is not None:
            return refused
    try:
        if token is not None:
            sessions.revocation.revoke_token(token.claims)
            sid = token.claims.get("sid")
            if isinstance(sid, str):
                sessions.refresh_tokens.revoke_family(sid)
        if found is not None:
            sessions.refresh_tokens.revoke(found.token)
    except StateUnavailable as exc:
        return _error(error_response(exc, realm=conf.REALM))
    return _reply(logout_reply(sessions.cookie_policy, mode=sessions.mode, csrf_cookie=False))


@csrf_exempt  # a cookie access token gets Django's CSRF check in authenticate()
@require_POST
def logout_everywhere_view(request: HttpRequest) -> HttpResponse:
    """``POST`` with an access token: revoke every session and access token of its subject.

    204 (cookies deleted in cookie modes); 401 without a valid access
    token; 503 when the store is down.
    """
    sessions = get_sessions()
    token, refused = _authenticated(request)
    if refused is not None:
        return refused
    if token is None or not token.subject:
        return _error(error_response(None, realm=conf.REALM))
    try:
        sessions.refresh_tokens.revoke_subject(token.subject)
    except StateUnavailable as exc:
        return _error(error_response(exc, realm=conf.REALM))
    return _reply(logout_reply(sessions.cookie_policy, mode=sessions.mode, csrf_cookie=False))
