"""Django REST framework authentication with jwt-guard.

.. code-block:: python

    REST_FRAMEWORK = {
        "DEFAULT_AUTHENTICATION_CLASSES": [
            "jwt_guard_django.authentication.JWTGuardAuthentication",
        ],
    }

Refusals use DRF's own exception handling, so they go through a custom
``EXCEPTION_HANDLER`` like any other, but carry the same status, RFC 6750
``WWW-Authenticate`` header and JSON body as the middleware's.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from jwt_guard_core import TokenError, VerifiedToken
from jwt_guard_core.http import ErrorResponse, error_response, www_authenticate

from ._auth import authenticate, get_user, user_not_found
from .conf import conf

__all__ = ["JWTGuardAPIError", "JWTGuardAuthentication", "api_error"]

_ERROR = "_jwt_guard_error"


class JWTGuardAPIError(exceptions.APIException):
    """A jwt-guard refusal as a DRF exception: status, body and headers from the core.

    DRF's default exception handler turns ``auth_header`` into
    ``WWW-Authenticate`` and ``wait`` into ``Retry-After``.
    """

    def __init__(self, spec: ErrorResponse) -> None:
        super().__init__(detail=dict(spec.body))
        self.status_code = spec.status
        self.auth_header = spec.headers.get("WWW-Authenticate")
        retry_after = spec.headers.get("Retry-After")
        self.wait = int(retry_after) if retry_after is not None else None


class _Unauthenticated(exceptions.AuthenticationFailed):
    # An AuthenticationFailed subclass so DRF asks authenticate_header for
    # the challenge; the body is the core's, not DRF's {"detail": ...}.
    def __init__(self, spec: ErrorResponse) -> None:
        super().__init__(detail=dict(spec.body))


def api_error(error: TokenError) -> exceptions.APIException:
    """The DRF exception for a core rejection."""
    spec = error_response(error, realm=conf.request.realm)
    if spec.status == 401:
        return _Unauthenticated(spec)
    return JWTGuardAPIError(spec)


class JWTGuardAuthentication(BaseAuthentication):
    """Authenticates a DRF request by its bearer token (header or cookie).

    ``authenticate`` returns ``None`` when the request carries no token (so
    another class, or anonymous access, may apply), ``(user, token)`` when
    the token is valid (``request.auth`` is the
    :class:`~jwt_guard_core.VerifiedToken`), and raises for an invalid one.
    Works with or without :class:`~jwt_guard_django.middleware.JWTGuardMiddleware`;
    with it, the token is verified once.
    """

    def authenticate(self, request: Request) -> tuple[Any, VerifiedToken] | None:
        outcome = authenticate(request._request)
        spec = outcome.refusal()
        if spec is not None:
            if outcome.error is not None:
                setattr(request, _ERROR, outcome.error)
                raise api_error(outcome.error)
            raise JWTGuardAPIError(spec)
        if outcome.token is None:
            return None
        user = get_user(request._request, outcome.token)
        if user is None:
            error = user_not_found()
            setattr(request, _ERROR, error)
            raise api_error(error)
        return user, outcome.token

    def authenticate_header(self, request: Request) -> str:
        """The ``WWW-Authenticate`` challenge; DRF answers 401 (not 403) because of it."""
        error = getattr(request, _ERROR, None)
        return www_authenticate(error, realm=conf.request.realm)


if importlib.util.find_spec("drf_spectacular") is not None:
    # Importing registers the OpenAPI security scheme with drf-spectacular;
    # here, so that only a project that uses DRF pays for importing it.
    from . import spectacular  # noqa: F401
