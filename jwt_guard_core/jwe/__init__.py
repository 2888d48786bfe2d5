"""Nested JWE (RFC 7516/7518, compact serialization): decrypt to verify, encrypt to issue.

A verifier configured with ``GuardConfig(jwe=JWEPolicy(...))`` decrypts a
five-segment token to the JWS inside it, and that JWS then goes through the
whole verification pipeline with its own allowlist. See ``docs/jwe.md``.
"""

from __future__ import annotations

from .decrypt import DecryptionFailed, JWEPolicy, decrypt_compact
from .encrypt import encrypt_compact, encrypt_nested
from .keys import DecryptionKey, DecryptionKeySet, RecipientKey

__all__ = [
    "DecryptionFailed",
    "DecryptionKey",
    "DecryptionKeySet",
    "JWEPolicy",
    "RecipientKey",
    "decrypt_compact",
    "encrypt_compact",
    "encrypt_nested",
]
