"""Setting and clearing the access-token cookie and its CSRF companion (docs/flask.md)."""

from __future__ import annotations

from flask import Response

from ._state import current_state
from .csrf import set_csrf_cookie

__all__ = ["set_access_cookies", "unset_access_cookies"]


def set_access_cookies(response: Response, token: str, *, max_age: int | None = None) -> str:
    """Put ``token`` in the HttpOnly token cookie and set a fresh CSRF cookie.

    Give ``max_age`` as the token's remaining lifetime. Returns the CSRF
    value, which the page sends back in ``JWT_GUARD_CSRF_HEADER_NAME``.
    """
    settings = current_state().settings
    # Script never needs the token itself; HttpOnly keeps an XSS from stealing it.
    response.set_cookie(
        settings.cookie_name, token, max_age=max_age, httponly=True, **settings.cookie_attributes
    )
    return set_csrf_cookie(response, settings, max_age=max_age)


def unset_access_cookies(response: Response) -> None:
    """Expire the token cookie and the CSRF cookie (log-out)."""
    settings = current_state().settings
    for name in (settings.cookie_name, settings.csrf_cookie_name):
        response.delete_cookie(name, **settings.cookie_attributes)
