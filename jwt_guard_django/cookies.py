"""Setting and clearing the token cookie with the configured attributes.

For a login view that hands a browser its access token as an HttpOnly
cookie (``TOKEN_LOCATIONS`` including ``"cookie"``). The attributes come from
``AUTH_COOKIE_*``, the same settings the system checks inspect, so what is
checked is what is sent.
"""

from __future__ import annotations

from typing import Any, cast

from django.http import HttpResponseBase

from .conf import conf

__all__ = ["delete_auth_cookie", "set_auth_cookie"]


def set_auth_cookie(response: HttpResponseBase, token: str, *, max_age: int | None = None) -> None:
    """Put ``token`` in the ``AUTH_COOKIE`` cookie (Secure, HttpOnly, SameSite by settings).

    Give ``max_age`` as the token's remaining lifetime so the browser drops
    the cookie when the token expires.
    """
    response.set_cookie(
        conf.AUTH_COOKIE,
        token,
        max_age=max_age,
        path=conf.AUTH_COOKIE_PATH,
        domain=conf.AUTH_COOKIE_DOMAIN,
        secure=conf.AUTH_COOKIE_SECURE,
        httponly=conf.AUTH_COOKIE_HTTPONLY,
        samesite=cast(Any, conf.AUTH_COOKIE_SAMESITE),
    )


def delete_auth_cookie(response: HttpResponseBase) -> None:
    """Expire the ``AUTH_COOKIE`` cookie (log-out)."""
    response.delete_cookie(
        conf.AUTH_COOKIE,
        path=conf.AUTH_COOKIE_PATH,
        domain=conf.AUTH_COOKIE_DOMAIN,
        samesite=cast(Any, conf.AUTH_COOKIE_SAMESITE),
    )
