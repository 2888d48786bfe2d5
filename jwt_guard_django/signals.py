"""Signals for audit hooks, sent once per request with ``sender=None`` (docs/django.md, "Signals").

``token_verified(request, token)``; ``token_rejected(request, reason, error)``.
"""

from __future__ import annotations

from django.dispatch import Signal

__all__ = ["token_rejected", "token_verified"]

token_verified = Signal()
token_rejected = Signal()
