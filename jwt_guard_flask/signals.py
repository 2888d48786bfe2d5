"""Blinker signals for every authentication outcome, sent with ``sender=app``: ``token_verified``
and ``token_rejected`` (their arguments: "Signals" in docs/flask.md)."""

from __future__ import annotations

from blinker import Namespace

__all__ = ["token_rejected", "token_verified"]

_signals = Namespace()

token_verified = _signals.signal("jwt-guard-token-verified")
token_rejected = _signals.signal("jwt-guard-token-rejected")
