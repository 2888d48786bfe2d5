"""Liveness and readiness routes for probes: ``include("jwt_guard_django.health_urls")``.

``live`` answers 200 without I/O, ``ready`` 200 or 503 with the core's report
(:func:`jwt_guard_core.health.probe`; see docs/production.md).
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from jwt_guard_core.health import PROBES

from .conf import served

app_name = "jwt_guard_health"


@never_cache
@require_safe
def probe_view(request: HttpRequest, name: str) -> JsonResponse:
    """``GET .../live`` or ``.../ready``: the probe's JSON report and status."""
    status, report = served.probe(name)
    return JsonResponse(report, status=status)


urlpatterns = [path(name, probe_view, {"name": name}, name=name) for name in PROBES]
