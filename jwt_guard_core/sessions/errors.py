"""Errors of the session layer.

:class:`InvalidRefreshToken` is what a refresh endpoint answers with; its
``reason`` says which check failed, for logs and events only.
:class:`StoreUnavailable` (defined in :mod:`jwt_guard_core.errors`, so the
DPoP replay stores raise it without loading the session side) is what a
backend raises when its storage cannot be reached; the services turn it
into a 503 (:class:`~jwt_guard_core.errors.StateUnavailable`) or, when
configured to fail open, into an event.
"""

from __future__ import annotations

from ..errors import StoreUnavailable, TokenError

__all__ = ["InvalidRefreshToken", "StoreUnavailable"]


class InvalidRefreshToken(TokenError):
    """A refresh token was refused (RFC 6749 section 5.2 ``invalid_grant``, 400).

    ``reason`` is one of ``malformed``, ``refresh_token_unknown``,
    ``refresh_token_expired``, ``refresh_token_idle``,
    ``refresh_family_expired``, ``refresh_family_revoked``,
    ``refresh_token_reused``, ``refresh_token_spent`` (a re-presentation
    within ``reuse_interval``) or ``invalid_scope``. The client is told
    only ``invalid_grant``.
    """

    reason = "refresh_token_invalid"
    error = "invalid_grant"
    status = 400
    default_detail = "the refresh token is not valid"
