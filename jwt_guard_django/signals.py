"""Signals for audit hooks.

``token_verified`` is sent with ``request`` and ``token`` (the
:class:`~jwt_guard_core.VerifiedToken`) when a request's token is accepted.
``token_rejected`` is sent with ``request``, ``reason`` (the machine reason:
``token_expired``, ``bad_signature``, ``invalid_request``, ``csrf_failed``,
``key_source_unavailable``, ...) and ``error`` (the
:class:`~jwt_guard_core.TokenError`, or ``None`` for ``csrf_failed``).

Both are sent once per request, with ``sender=None``. Receivers run in the
request's thread (or with ``asend`` in an async request on Django 5.0+):
keep them fast.
"""

from __future__ import annotations

from django.dispatch import Signal

__all__ = ["token_rejected", "token_verified"]

token_verified = Signal()
token_rejected = Signal()
