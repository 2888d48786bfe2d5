"""Public routes (:mod:`jwt_guard_django.urls`): the JWKS, OpenID discovery, RFC 9728 metadata."""

from __future__ import annotations

from collections.abc import Callable

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from jwt_guard_core.signing import routes

from .conf import served


def _public_view(route: str) -> Callable[[HttpRequest], HttpResponse]:
    """The ``GET``/``HEAD`` view of the core's public route ``route``."""

    @require_safe
    def view(request: HttpRequest) -> HttpResponse:
        reply = routes.public_reply(
            route, request.path, served.issuing, served.resource, logger=served.logger
        )
        if reply is None:
            raise Http404("no protected resource metadata here")
        return HttpResponse(reply.body, status=reply.status, headers=reply.headers)

    view.__name__ = view.__qualname__ = f"{route}_view"
    return view


jwks_view, openid_configuration_view, protected_resource_metadata_view = map(
    _public_view, routes.PUBLIC_ROUTES
)
