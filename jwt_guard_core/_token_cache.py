"""The verified-token cache: a token seen before skips its signature, never its other checks.

A :class:`~jwt_guard_core.Verifier` keeps one :class:`TokenCache` (so two
verifiers with different policies never share an entry). An entry is keyed
by the SHA-256 digest of the exact token bytes, so the cache never holds a
token that could be replayed from a memory dump, and holds what a later use
must re-check:

* the :class:`~jwt_guard_core.token.VerifiedToken` that was returned;
* the time claims, re-checked against the verifier's clock on every hit
  (``exp``, ``nbf``, ``iat`` and the maximum token age, with the same leeway
  and the same errors as a first verification);
* the key source, the ``kid`` and ``alg`` the header named and the
  :class:`~jwt_guard_core.keys.VerificationKey` that verified the signature:
  every hit asks the key source again and is a miss unless the very same key
  object comes back, so a kid removed from a remote set, a key replaced, or
  an emergency rotation that drops the signing key is seen on the token's
  next use (the key source raises, or the full verification refuses the
  token).

Revocation is not cached: the verifier runs it on every hit. Only accepted
tokens are stored, and an entry is dropped at ``exp`` (plus the leeway) or
``max_age`` after it was stored, whichever comes first, or as the least
recently used once ``size`` entries are held.

Thread- and task-safe: lookups rely on the atomicity of each dictionary
operation; inserts and evictions take one lock, never held across I/O or an
``await``.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Any, NamedTuple

from .claims_policy import ClaimsPolicy
from .keys import KeySource, VerificationKey
from .token import VerifiedToken

__all__ = ["CachedToken", "TokenCache"]


class CachedToken(NamedTuple):
    """One accepted token and what a later use re-checks.

    A named tuple: built once per first-seen token, so it must cost little.
    """

    token: VerifiedToken
    keys: KeySource
    header_kid: str | None
    key: VerificationKey
    exp: float | None
    nbf: float | None
    iat: float | None
    # Unix time after which the entry is no longer used: exp + leeway or
    # stored + max_age, whichever is first.
    drop_at: float
    # The alg, kid, iss and jti of the first verification, for the security
    # event of a later refusal.
    context: dict[str, Any]
    # The issuer's claims policy: its CLAIMS_CHECK runs on every use.
    claims: ClaimsPolicy


class TokenCache:
    """A bounded LRU map of token digest to :class:`CachedToken`."""

    __slots__ = ("_entries", "_lock", "max_age", "size")

    def __init__(self, size: int, max_age: float) -> None:
        self.size = size
        self.max_age = max_age
        self._entries: OrderedDict[bytes, CachedToken] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    @staticmethod
    def digest(token: str) -> bytes:
        """The cache key of an ASCII token: SHA-256 of its bytes, never the token itself."""
        return hashlib.sha256(token.encode("ascii")).digest()

    def get(self, digest: bytes, now: float) -> CachedToken | None:
        """The live entry for ``digest`` (marked recently used), or ``None``."""
        # No lock on the read path: each OrderedDict operation is atomic, and
        # an entry evicted by another thread in between is still a valid
        # answer (or simply gone).
        entries = self._entries
        entry = entries.get(digest)
        if entry is None:
            return None
        if now >= entry.drop_at:
            entries.pop(digest, None)
            return None
        # Not contextlib.suppress: a context manager per hit costs more than the lookup.
        try:  # noqa: SIM105
            entries.move_to_end(digest)
        except KeyError:
            pass
        return entry

    def put(self, digest: bytes, entry: CachedToken) -> None:
        """Store an accepted token, evicting the least recently used beyond ``size``."""
        with self._lock:
            self._entries[digest] = entry
            self._entries.move_to_end(digest)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def discard(self, digest: bytes) -> None:
        """Forget one token (it was refused, or its key changed)."""
        with self._lock:
            self._entries.pop(digest, None)

    def clear(self) -> None:
        """Forget every token."""
        with self._lock:
            self._entries.clear()
