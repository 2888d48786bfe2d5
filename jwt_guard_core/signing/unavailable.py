"""The answer of the issuing routes (JWKS, discovery) when the key store cannot serve them.

Both adapters catch the same two failures around their issuing routes and
hand them here; the status, headers, body and the logged event are decided
once, so Django and Flask answer the same.
"""

from __future__ import annotations

import logging

from ..errors import ConfigurationError, KeySourceUnavailable
from ..http import ErrorResponse, error_response
from .errors import KeyStoreError

__all__ = ["issuing_unavailable_response"]


def issuing_unavailable_response(
    exc: ConfigurationError | KeyStoreError, *, logger: logging.Logger
) -> ErrorResponse:
    """Log ``exc`` as an ERROR event on ``logger`` and return the 503 to send.

    The event (the record's ``jwt_guard_event``) is ``issuing_misconfigured``
    for a :class:`~jwt_guard_core.ConfigurationError` (a bad setting, a
    wrong passphrase) and ``key_store_unavailable`` for a
    :class:`~jwt_guard_core.signing.KeyStoreError` (an outage). The
    message names the setting to fix; it never holds key material.
    """
    # A misconfigured or unreachable key store is the service's problem, not
    # the caller's: 503 with Retry-After, so verifiers keep their cached keys
    # and retry later, and never a 500 page. A start-up check reports a bad
    # setting early; this covers what only opening the store can find (a
    # wrong passphrase) and run-time outages.
    event = (
        "issuing_misconfigured" if isinstance(exc, ConfigurationError) else "key_store_unavailable"
    )
    logger.error(
        "jwt-guard cannot serve the issuing routes: %s", exc, extra={"jwt_guard_event": event}
    )
    reply = error_response(KeySourceUnavailable("the key store is unavailable"))
    # no-store: a cache must not keep serving the outage after the store is back.
    return ErrorResponse(
        status=reply.status,
        headers={**reply.headers, "Cache-Control": "no-store"},
        body=reply.body,
    )
