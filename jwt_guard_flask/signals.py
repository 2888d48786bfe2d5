"""Blinker signals sent for every authentication outcome.

``token_verified`` is sent with ``sender=app`` and ``token=`` the
:class:`~jwt_guard_core.VerifiedToken`; ``token_rejected`` with
``sender=app``, ``reason=`` the machine reason (``token_expired``,
``missing_token``, ``csrf_failed``, ``insufficient_scope``, ...) and
``error=`` the :class:`~jwt_guard_core.TokenError` or ``None``. Receivers run
in the request's thread: keep them fast. A receiver that raises is logged and
ignored; it never changes the response.

    from jwt_guard_flask import token_rejected

    @token_rejected.connect
    def count(app, reason, error, **extra):
        metrics.increment("jwt.rejected", tags=[reason])
"""

from __future__ import annotations

from blinker import Namespace

__all__ = ["token_rejected", "token_verified"]

_signals = Namespace()

token_verified = _signals.signal("jwt-guard-token-verified")
token_rejected = _signals.signal("jwt-guard-token-rejected")
