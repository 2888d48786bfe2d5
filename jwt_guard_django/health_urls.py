"""Routes of the health probes; include them under a prefix.

::

    urlpatterns = [
        path("health/", include("jwt_guard_django.health_urls")),
        ...
    ]

serves ``health/live`` (``jwt_guard_health:live``, no I/O) and
``health/ready`` (``jwt_guard_health:ready``, 200 or 503); see
:mod:`jwt_guard_django.health`.
"""

from __future__ import annotations

from django.urls import path

from .health import live_view, ready_view

app_name = "jwt_guard_health"

urlpatterns = [
    path("live", live_view, name="live"),
    path("ready", ready_view, name="ready"),
]
