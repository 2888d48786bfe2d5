"""Setting and clearing the access-token cookie with the ``AUTH_COOKIE_*`` attributes."""

from __future__ import annotations

from django.http import HttpResponseBase

from .conf import conf

__all__ = ["delete_auth_cookie", "set_auth_cookie"]


def set_auth_cookie(response: HttpResponseBase, token: str, *, max_age: int | None = None) -> None:
    """Put ``token`` in the ``AUTH_COOKIE`` cookie; ``max_age``: the token's remaining life."""
    settings = conf.request
    response.set_cookie(
        settings.cookie_name,
        token,
        max_age=max_age,
        httponly=settings.cookie_httponly,
        **settings.cookie_attributes,
    )


def delete_auth_cookie(response: HttpResponseBase) -> None:
    """Expire the ``AUTH_COOKIE`` cookie (log-out)."""
    attributes = conf.request.cookie_attributes
    del attributes["secure"]  # delete_cookie has no such argument
    response.delete_cookie(conf.request.cookie_name, **attributes)
