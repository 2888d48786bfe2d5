"""Double-submit CSRF for cookie tokens: an unsafe request echoes the readable CSRF cookie
in ``JWT_GUARD_CSRF_HEADER_NAME``, which only a page of our origin can read (docs/flask.md)."""

from __future__ import annotations

from flask import Request, Response

from jwt_guard_core.http import double_submit_failure, new_csrf_token
from jwt_guard_core.settings import RequestSettings

from ._state import current_state

__all__ = ["csrf_failure", "set_csrf_cookie"]


def csrf_failure(request: Request, settings: RequestSettings) -> str | None:
    """Why ``request`` lacks the double-submit proof (compared in constant time), or ``None``."""
    return double_submit_failure(
        request.cookies.get(settings.csrf_cookie_name),
        request.headers.get(settings.csrf_header_name),
    )


def set_csrf_cookie(
    response: Response,
    settings: RequestSettings | None = None,
    *,
    value: str | None = None,
    max_age: int | None = None,
) -> str:
    """Set the readable CSRF cookie (a fresh random value unless given); returns the value.

    Not HttpOnly on purpose: the page's script echoes it in the CSRF header.
    """
    settings = settings if settings is not None else current_state().settings
    token = value or new_csrf_token()
    response.set_cookie(
        settings.csrf_cookie_name,
        token,
        max_age=max_age,
        httponly=False,
        **settings.cookie_attributes,
    )
    return token
