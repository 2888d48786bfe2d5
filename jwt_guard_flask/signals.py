"""Blinker signals for every authentication outcome, sent with ``sender=app`` (docs/flask.md).

``token_verified(app, token=...)``; ``token_rejected(app, reason=..., error=...)``
(``error`` is ``None`` for ``missing_token`` and ``csrf_failed``). A receiver
that raises is logged and ignored.
"""

from __future__ import annotations

from blinker import Namespace

__all__ = ["token_rejected", "token_verified"]

_signals = Namespace()

token_verified = _signals.signal("jwt-guard-token-verified")
token_rejected = _signals.signal("jwt-guard-token-rejected")
