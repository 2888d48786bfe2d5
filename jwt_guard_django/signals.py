"""Signals for audit hooks, sent once per request with ``sender=None`` (docs/django.md, "Signals").

``token_verified(request, token)``; ``token_rejected(request, reason, error)``
(``error`` is ``None`` for ``csrf_failed``). Receivers run in the request's
thread (``asend`` in an async request on Django 5.0+): keep them fast.
"""

from __future__ import annotations

from django.dispatch import Signal

__all__ = ["token_rejected", "token_verified"]

token_verified = Signal()
token_rejected = Signal()
