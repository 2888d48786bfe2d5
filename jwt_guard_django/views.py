"""Public routes: the JWKS, a minimal OpenID discovery document, RFC 9728 resource metadata.

Both answer what the core decided (:mod:`jwt_guard_core.signing.routes`:
:meth:`KeyManager.jwks_response`, :meth:`TokenIssuer.openid_configuration`,
a 503 with ``Retry-After`` when the key store cannot serve); include
:mod:`jwt_guard_django.urls` at your site root to serve them at
``/.well-known/jwks.json`` and ``/.well-known/openid-configuration``.
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
    # The system check (jwt_guard.E011) reports a bad setting at start-up.
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
    """``GET /.well-known/openid-configuration``: ``issuer`` and ``jwks_uri``.

    Enough for ``RemoteJWKS.from_issuer`` (``OIDC_ISSUER`` in another
    service's settings). ``jwks_uri`` is ``ISSUING["JWKS_URI"]`` or derived
    from ``ISSUING["ISSUER"]``, never from the request's ``Host`` header.
    """
    return _response(openid_configuration_reply(get_issuing, logger=logger))


@require_safe
def protected_resource_metadata_view(request: HttpRequest) -> HttpResponse:
    """``GET /.well-known/oauth-protected-resource[/path]``: the RFC 9728 document.

    Built from ``JWT_GUARD["RESOURCE_METADATA"]`` and the DPoP and mTLS
    settings in force; 404 when not configured, or at any path other than
    the one RFC 9728 section 3.1 derives from ``resource``.
    """
    metadata = get_resource().metadata
    if metadata is None or request.path != metadata.path:
        raise Http404("no protected resource metadata here")
    return JsonResponse(metadata.document())
