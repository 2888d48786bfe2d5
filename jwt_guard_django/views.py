"""Public routes (:mod:`jwt_guard_django.urls`): the JWKS, OpenID discovery, RFC 9728 metadata."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_safe

from jwt_guard_core.signing.routes import RouteReply, jwks_reply, openid_configuration_reply

from .issuing import get_issuing
from .resource import get_resource

__all__ = ["jwks_view", "openid_configuration_view", "protected_resource_metadata_view"]

logger = logging.getLogger("jwt_guard.django")


def respond(
    body: str | bytes, status: int, headers: Mapping[str, str], cookies: Iterable[Any] = ()
) -> HttpResponse:
    """A core reply as a response: ``cookies`` are ``set_cookie`` keyword arguments."""
    response = HttpResponse(body, status=status)
    for name, value in headers.items():
        response[name] = value
    for arguments in cookies:
        response.set_cookie(**arguments)
    return response


def _response(reply: RouteReply) -> HttpResponse:
    return respond(reply.body, reply.status, reply.headers)


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
