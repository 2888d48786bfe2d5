"""Setting and clearing the token cookie, with its CSRF companion.

For an app that hands a browser its access token as a cookie
(``JWT_GUARD_TOKEN_LOCATION`` including ``"cookie"``): a login callback that
received the token from an identity provider calls
:func:`set_access_cookies`. Attributes come from ``JWT_GUARD_COOKIE_*``, the
same settings the start-up warnings inspect, so what is checked is what is
sent.
"""

from __future__ import annotations

from flask import Response

from ._state import current_state
from .csrf import set_csrf_cookie

__all__ = ["set_access_cookies", "unset_access_cookies"]


def set_access_cookies(response: Response, token: str, *, max_age: int | None = None) -> str:
    """Put ``token`` in the HttpOnly token cookie and set a fresh CSRF cookie.

    Give ``max_age`` as the token's remaining lifetime so the browser drops
    the cookie when the token expires. Returns the CSRF value, which the
    page must send back in the ``JWT_GUARD_CSRF_HEADER_NAME`` header on
    unsafe requests.
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
