"""Rejections of sender-constrained requests (RFC 9449 DPoP).

Each is a :class:`~jwt_guard_core.errors.TokenError`, so adapters answer them
like any other rejection; :mod:`jwt_guard_core.challenges` builds the
``WWW-Authenticate`` value that names the ``DPoP`` scheme where RFC 9449
section 7.1 asks for it. ``reason`` says which check failed (logs and
events only); the client sees ``error`` and nothing else.
"""

from __future__ import annotations

from ..errors import DPoPBindingError, InvalidDPoPProof, UseDPoPNonce

__all__ = ["DPoPBindingError", "InvalidDPoPProof", "UseDPoPNonce"]
