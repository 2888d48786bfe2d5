"""Rejections as werkzeug HTTP exceptions (never a 500), their response the core's
(:mod:`jwt_guard_core.http`); see "Refusals" in docs/flask.md."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from werkzeug import exceptions as wz

from jwt_guard_core import TokenError
from jwt_guard_core.http import ErrorResponse, csrf_failure_response, error_response

__all__ = [
    "CSRFError",
    "JWTGuardHTTPException",
    "KeySourceOutage",
    "ScopeForbidden",
    "TokenBadRequest",
    "TokenUnauthorized",
    "http_error",
]


class JWTGuardHTTPException(wz.HTTPException):
    """A request refused by jwt-guard: ``token_error`` (the core's, ``None`` without a token),
    ``reason`` (for logs and handlers only), ``headers``, ``data`` (the JSON body); see
    "Refusals" in docs/flask.md.
    """

    def __init__(
        self, response: ErrorResponse, token_error: TokenError | None, reason: str
    ) -> None:
        self.code = response.status
        self.token_error = token_error
        self.reason = reason
        self.headers: Mapping[str, str] = dict(response.headers)
        self.data: dict[str, Any] = dict(response.body)
        super().__init__(description=str(response.body.get("error_description", "")))

    def get_headers(
        self, environ: Any = None, scope: dict[str, Any] | None = None
    ) -> list[tuple[str, str]]:
        return [("Content-Type", "application/json"), *self.headers.items()]

    def get_body(self, environ: Any = None, scope: dict[str, Any] | None = None) -> str:
        return json.dumps(self.data)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.code}, reason={self.reason!r})"


class TokenUnauthorized(JWTGuardHTTPException, wz.Unauthorized):
    """401: no token, or an invalid one (``invalid_token``)."""


class TokenBadRequest(JWTGuardHTTPException, wz.BadRequest):
    """400: a malformed ``Authorization`` header (``invalid_request``)."""


class ScopeForbidden(JWTGuardHTTPException, wz.Forbidden):
    """403: a valid token without a required scope (``insufficient_scope``)."""


class CSRFError(JWTGuardHTTPException, wz.Forbidden):
    """403: a cookie token on an unsafe method without matching CSRF proof."""


class KeySourceOutage(JWTGuardHTTPException, wz.ServiceUnavailable):
    """503 with ``Retry-After``: the keys cannot be fetched; not the client's fault."""


_BY_STATUS = {
    400: TokenBadRequest,
    401: TokenUnauthorized,
    403: ScopeForbidden,
    503: KeySourceOutage,
}


def http_error(
    error: TokenError | None, *, realm: str = "api", response: ErrorResponse | None = None
) -> JWTGuardHTTPException:
    """The exception for ``error`` (``None``: no token) answering ``response``, the core's
    (the resource policy's) when the caller has one, else the plain RFC 6750 one for ``realm``."""
    response = response or error_response(error, realm=realm)
    cls = _BY_STATUS.get(response.status, JWTGuardHTTPException)
    return cls(response, error, error.reason if error is not None else "missing_token")


def csrf_error() -> CSRFError:
    """The exception for failed double-submit CSRF proof."""
    return CSRFError(csrf_failure_response(), None, "csrf_failed")
