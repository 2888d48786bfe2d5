"""The session routes, ``jwt_guard_sessions:<route>``; see docs/django.md, "Sessions"."""

from __future__ import annotations

from django.urls import URLPattern, path

from jwt_guard_core.sessions.http import ROUTE_PATHS

from . import session_views as views
from .sessions import async_views

app_name = "jwt_guard_sessions"


def session_patterns(*, asynchronous: bool | None = None) -> list[URLPattern]:
    """The four routes, async views when ``asynchronous`` (default: ``SESSIONS["ASYNC"]``)."""
    if asynchronous is None:
        asynchronous = async_views()
    prefix = "a" if asynchronous else ""
    return [
        path(f"{route_path}/", getattr(views, f"{prefix}{name}_view"), name=name)
        for name, route_path in ROUTE_PATHS.items()
    ]


urlpatterns = session_patterns()
