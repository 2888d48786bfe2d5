"""Django REST framework authentication with jwt-guard (docs/django.md, "DRF")."""

from __future__ import annotations

import importlib.util
from typing import Any

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from jwt_guard_core import TokenError, VerifiedToken
from jwt_guard_core.http import ErrorResponse
from jwt_guard_core.request_policy import user_not_found
from jwt_guard_core.steps import drive

from ._auth import authenticate, user_steps
from .conf import served

__all__ = ["JWTGuardAPIError", "JWTGuardAuthentication", "api_error"]

_CHALLENGE = "_jwt_guard_challenge"


class JWTGuardAPIError(exceptions.APIException):
    """A jwt-guard refusal as a DRF exception (``auth_header``, ``wait``: DRF's headers)."""

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


def api_error(
    error: TokenError, request: Request | None = None, *, dpop: str | None = None
) -> exceptions.APIException:
    """The DRF exception for a core rejection (``dpop="required"``: a view's own demand).

    With ``request``, the challenge names the scheme its token came in (kept for a 401's header).
    """
    presented = authenticate(request._request).presented if request is not None else None
    return _exception(served.resource().refusal(error, presented=presented, dpop=dpop), request)


def _exception(spec: ErrorResponse, request: Request | None) -> exceptions.APIException:
    if spec.status != 401:
        return JWTGuardAPIError(spec)
    if request is not None:
        setattr(request, _CHALLENGE, spec.headers.get("WWW-Authenticate"))
    return _Unauthenticated(spec)


class JWTGuardAuthentication(BaseAuthentication):
    """Authenticates a DRF request by its token (verified once with the middleware too).

    ``None`` without a token, else ``(user, token)``; a refusal raises.
    """

    def authenticate(self, request: Request) -> tuple[Any, VerifiedToken] | None:
        outcome = authenticate(request._request)
        spec = outcome.refusal()
        if spec is None and outcome.token is not None:
            user = drive(user_steps(request._request, outcome.token))
            if user is not None:
                return user, outcome.token
            spec = outcome.answer(user_not_found())
        if spec is not None:
            raise _exception(spec, request)
        return None

    def authenticate_header(self, request: Request) -> str:
        """The refusal's ``WWW-Authenticate`` (no token: the default); DRF answers 401."""
        challenge = getattr(request, _CHALLENGE, None)
        if isinstance(challenge, str):
            return challenge
        return served.resource().refusal(None).headers["WWW-Authenticate"]


if importlib.util.find_spec("drf_spectacular") is not None:
    # Importing registers the OpenAPI security scheme with drf-spectacular;
    # here, so that only a project that uses DRF pays for importing it.
    from . import spectacular  # noqa: F401
