"""The two rejections only introspection produces.

Both are :class:`~jwt_guard_core.errors.TokenError` subclasses, so adapters
answer them like any other: :class:`TokenInactive` is 401 ``invalid_token``;
:class:`IntrospectionUnavailable` is a
:class:`~jwt_guard_core.errors.KeySourceUnavailable` (503 with
``Retry-After``): an authorization server that cannot be asked, or whose
answer cannot be trusted, is an outage, never an invalid token.
"""

from __future__ import annotations

from ..errors import KeySourceUnavailable, TokenError

__all__ = ["IntrospectionUnavailable", "TokenInactive"]


class TokenInactive(TokenError):
    """The authorization server says the token is not active (RFC 7662 ``active: false``).

    Unknown, expired, revoked and foreign tokens all look like this: the
    server does not say which, by design (RFC 7662 section 2.2).
    """

    reason = "token_inactive"
    default_detail = "the authorization server reports the token as not active"


class IntrospectionUnavailable(KeySourceUnavailable):
    """The introspection endpoint could not be asked, or its answer is unusable.

    ``failure`` is the machine code of what went wrong (``timeout``,
    ``connect_error``, ``http_status``, ``too_large``, ``bad_json``,
    ``bad_response``, ``bad_signature``, ``backoff``, ...), for logs and tests;
    clients only see 503 with ``Retry-After``.
    """

    reason = "introspection_unavailable"
    default_detail = "the introspection endpoint is unavailable"

    def __init__(
        self, detail: str | None = None, *, failure: str = "unavailable", retry_after: int = 5
    ) -> None:
        self.failure = failure
        super().__init__(detail, retry_after=retry_after)
