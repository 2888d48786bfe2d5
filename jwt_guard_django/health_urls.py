"""Liveness and readiness routes for probes: ``include("jwt_guard_django.health_urls")``.

``live`` answers 200 without I/O, ``ready`` 200 or 503 with the core's report
(:func:`jwt_guard_core.health.probe`; see docs/production.md).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from jwt_guard_core.health import PROBES, probe

from .conf import conf
from .verifier import key_sources

app_name = "jwt_guard_health"


@never_cache
@require_safe
def probe_view(request: HttpRequest, name: str) -> JsonResponse:
    """``GET .../live`` or ``.../ready``: the probe's JSON report and status."""
    status, report = probe(name, key_sources, _backends)
    return JsonResponse(report, status=status)


def _backends() -> dict[str, Any]:
    # Imported here: a service without sessions or issuing never loads them.
    backends: dict[str, Any] = {}
    if conf.raw.get("SESSIONS") is not None:
        from .sessions import get_sessions

        backends["sessions"] = lambda: get_sessions().store
    if conf.raw.get("ISSUING") is not None:
        from .issuing import get_key_manager

        backends["signing_keys"] = lambda: get_key_manager().store
    return backends


urlpatterns = [path(name, probe_view, {"name": name}, name=name) for name in PROBES]
