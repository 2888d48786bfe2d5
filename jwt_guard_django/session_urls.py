"""Routes of the session views; include them under a prefix.

::

    urlpatterns = [
        path("auth/", include("jwt_guard_django.session_urls")),
        ...
    ]

serves ``auth/token/`` (``jwt_guard_sessions:obtain``), ``auth/refresh/``
(``jwt_guard_sessions:refresh``; the refresh cookie's ``Path``),
``auth/refresh/logout/`` (``jwt_guard_sessions:logout``, under the refresh
path so the browser sends the refresh cookie to it) and
``auth/logout-everywhere/`` (``jwt_guard_sessions:logout_everywhere``).

The views are ``async def`` when ``JWT_GUARD["SESSIONS"]["ASYNC"]`` is
``True`` (read when the URLconf is loaded), for a project served under
ASGI; :func:`session_patterns` picks explicitly.
"""

from __future__ import annotations

from django.urls import URLPattern, path

from . import session_views as views
from .sessions import async_views

__all__ = ["app_name", "session_patterns", "urlpatterns"]

app_name = "jwt_guard_sessions"


def session_patterns(*, asynchronous: bool | None = None) -> list[URLPattern]:
    """The four routes, async views when ``asynchronous`` (default: ``SESSIONS["ASYNC"]``)."""
    if asynchronous is None:
        asynchronous = async_views()
    if asynchronous:
        return [
            path("token/", views.aobtain_view, name="obtain"),
            path("refresh/", views.arefresh_view, name="refresh"),
            path("refresh/logout/", views.alogout_view, name="logout"),
            path("logout-everywhere/", views.alogout_everywhere_view, name="logout_everywhere"),
        ]
    return [
        path("token/", views.obtain_view, name="obtain"),
        path("refresh/", views.refresh_view, name="refresh"),
        path("refresh/logout/", views.logout_view, name="logout"),
        path("logout-everywhere/", views.logout_everywhere_view, name="logout_everywhere"),
    ]


urlpatterns = session_patterns()
