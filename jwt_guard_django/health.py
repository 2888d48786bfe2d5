"""Liveness and readiness routes for probes (Kubernetes, a load balancer).

Include :mod:`jwt_guard_django.health_urls` under a prefix::

    urlpatterns = [
        path("health/", include("jwt_guard_django.health_urls")),
        ...
    ]

``health/live`` answers 200 without any I/O (the process serves requests);
``health/ready`` answers 200 when every key source can verify and every
Redis backend answers, 503 otherwise, with the core's report as JSON
(:func:`jwt_guard_core.health.health`; never a key, a secret or a URL's
credentials). Neither needs a token: serve them where only the probes
reach, or accept that anyone can see which issuers you trust.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from jwt_guard_core.health import liveness, readiness

from .conf import conf
from .verifier import key_sources

__all__ = ["live_view", "ready_view"]


@never_cache
@require_safe
def live_view(request: HttpRequest) -> JsonResponse:
    """``GET .../live``: 200 ``{"status": "alive"}``; reads nothing, fetches nothing."""
    return JsonResponse(liveness())


@never_cache
@require_safe
def ready_view(request: HttpRequest) -> JsonResponse:
    """``GET .../ready``: 200 when ready to verify tokens, else 503; the report as JSON."""
    status, report = readiness(key_sources, _backends())
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
