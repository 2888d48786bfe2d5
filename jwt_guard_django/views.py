"""The issuing side's public routes: the JWKS and a minimal OpenID discovery document.

Both answer what the core decided (:meth:`KeyManager.jwks_response`,
:meth:`TokenIssuer.openid_configuration`); include
:mod:`jwt_guard_django.urls` at your site root to serve them at
``/.well-known/jwks.json`` and ``/.well-known/openid-configuration``.
"""

from __future__ import annotations

import json
import logging

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from jwt_guard_core import ConfigurationError
from jwt_guard_core.signing import KeyStoreError
from jwt_guard_core.signing.unavailable import issuing_unavailable_response

from .issuing import Issuing, get_issuing

__all__ = ["jwks_view", "openid_configuration_view"]

logger = logging.getLogger("jwt_guard.django")


def _unavailable(exc: ConfigurationError | KeyStoreError) -> HttpResponse:
    # The system check (jwt_guard.E011) reports a bad setting at start-up.
    reply = issuing_unavailable_response(exc, logger=logger)
    response = HttpResponse(
        json.dumps(reply.body), status=reply.status, content_type="application/json"
    )
    for name, value in reply.headers.items():
        response[name] = value
    return response


def _issuing() -> Issuing | HttpResponse:
    try:
        return get_issuing()
    except (ConfigurationError, KeyStoreError) as exc:
        return _unavailable(exc)


@require_safe
def jwks_view(request: HttpRequest) -> HttpResponse:
    """``GET /.well-known/jwks.json``: the public keys, with the manager's ``Cache-Control``.

    The body, ``Content-Type: application/jwk-set+json`` and the
    ``max-age`` that fits the rotation schedule all come from
    :meth:`~jwt_guard_core.signing.KeyManager.jwks_response`.
    """
    try:
        reply = get_issuing().keys.jwks_response()
    except (ConfigurationError, KeyStoreError) as exc:
        return _unavailable(exc)
    response = HttpResponse(reply.body, status=reply.status)
    for name, value in reply.headers.items():
        response[name] = value
    return response


@require_safe
def openid_configuration_view(request: HttpRequest) -> HttpResponse:
    """``GET /.well-known/openid-configuration``: ``issuer`` and ``jwks_uri``.

    Enough for ``RemoteJWKS.from_issuer`` (``OIDC_ISSUER`` in another
    service's settings). ``jwks_uri`` is ``ISSUING["JWKS_URI"]`` or derived
    from ``ISSUING["ISSUER"]``, never from the request's ``Host`` header.
    """
    issuing = _issuing()
    if isinstance(issuing, HttpResponse):
        return issuing
    document = issuing.issuer.openid_configuration(issuing.jwks_uri)
    response = HttpResponse(
        json.dumps(document, separators=(",", ":")), content_type="application/json"
    )
    response["Cache-Control"] = issuing.keys.jwks_cache_control()
    response["X-Content-Type-Options"] = "nosniff"
    return response
