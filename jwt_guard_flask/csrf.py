"""Double-submit CSRF protection for tokens read from a cookie.

A browser attaches cookies to cross-site requests on its own. So an unsafe
request (POST, PUT, PATCH, DELETE, ...) authenticated by the token cookie
must also carry the value of a second, script-readable CSRF cookie in the
``X-CSRF-Token`` header (``JWT_GUARD_CSRF_HEADER_NAME``): only a page of our
own origin can read that cookie. The two are compared in constant time.

Nothing is bound to the token, unlike flask-jwt-extended's ``csrf`` claim,
so this works for tokens minted by any issuer (an identity provider, a
gateway), not only by this app. Header tokens never need it: a browser
never adds an ``Authorization`` header by itself.
"""

from __future__ import annotations

from flask import Request, Response

from jwt_guard_core.http import double_submit_failure, new_csrf_token

from ._state import current_state
from .config import FlaskSettings

__all__ = ["csrf_failure", "set_csrf_cookie"]


def csrf_failure(request: Request, settings: FlaskSettings) -> str | None:
    """Why ``request`` lacks the double-submit proof, or ``None`` when it has it.

    The core asks only for a cookie token on an unsafe method while
    ``JWT_GUARD_COOKIE_CSRF_PROTECT`` is on, and reports the refusal.
    """
    return double_submit_failure(
        request.cookies.get(settings.csrf_cookie_name),
        request.headers.get(settings.csrf_header_name),
    )


def set_csrf_cookie(
    response: Response,
    settings: FlaskSettings | None = None,
    *,
    value: str | None = None,
    max_age: int | None = None,
) -> str:
    """Set the readable CSRF cookie (a fresh random value unless given); returns the value.

    Not HttpOnly on purpose: the page's script reads it and echoes it in
    the CSRF header. It carries no authority on its own.
    """
    if settings is None:
        settings = current_state().settings
    token = value or new_csrf_token()
    response.set_cookie(
        settings.csrf_cookie_name,
        token,
        max_age=max_age,
        httponly=False,
        **settings.cookie_attributes,
    )
    return token
