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
"""

from __future__ import annotations

from django.urls import path

from .session_views import logout_everywhere_view, logout_view, obtain_view, refresh_view

app_name = "jwt_guard_sessions"

urlpatterns = [
    path("token/", obtain_view, name="obtain"),
    path("refresh/", refresh_view, name="refresh"),
    path("refresh/logout/", logout_view, name="logout"),
    path("logout-everywhere/", logout_everywhere_view, name="logout_everywhere"),
]
