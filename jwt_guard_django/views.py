"""Public routes: the JWKS, a minimal OpenID discovery document, RFC 9728 resource metadata.

The answers are the core's (:mod:`jwt_guard_core.signing.routes`); include
:mod:`jwt_guard_django.urls` at the site root to serve them (docs/django.md).
"""

from __future__ import annotations

import logging

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_safe

from jwt_guard_core.signing.routes import RouteReply, jwks_reply, openid_configuration_reply

from .issuing import get_issuing
from .resource import get_resource

__all__ = ["jwks_view", "openid_configuration_view", "protected_resource_metadata_view"]

logger = logging.getLogger("jwt_guard.django")


def _response(reply: RouteReply) -> HttpResponse:
    response = HttpResponse(reply.body, status=reply.status)
    for name, value in reply.headers.items():
        response[name] = value
    return response


@require_safe
def jwks_view(request: HttpRequest) -> HttpResponse:
    """``GET /.well-known/jwks.json``: the public keys, with the manager's ``Cache-Control``."""
    return _response(jwks_reply(get_issuing, logger=logger))


@require_safe
def openid_configuration_view(request: HttpRequest) -> HttpResponse:
    """``GET /.well-known/openid-configuration``: ``issuer``, ``jwks_uri`` (never from ``Host``)."""
    return _response(openid_configuration_reply(get_issuing, logger=logger))


@require_safe
def protected_resource_metadata_view(request: HttpRequest) -> HttpResponse:
    """``GET /.well-known/oauth-protected-resource[/path]``: RFC 9728; 404 elsewhere or unset."""
    metadata = get_resource().metadata
    if metadata is None or request.path != metadata.path:
        raise Http404("no protected resource metadata here")
    return JsonResponse(metadata.document())
