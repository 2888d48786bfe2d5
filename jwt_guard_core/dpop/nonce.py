"""Server-provided DPoP nonces (RFC 9449 section 8 and 9), without server state.

A nonce limits how long a proof is usable to a window the server decides,
not the client's clock. :class:`NonceProvider` makes nonces that need no
storage: the current time step and an HMAC over it. A nonce is accepted in
its own step and the next one, so it rotates every ``lifetime`` seconds and
a client that just fetched one never races the rotation.

Several processes or machines must share ``secrets`` (otherwise each one
refuses the others' nonces); the first secret signs, every one verifies, so
a secret is rotated by putting the new one first and dropping the old one a
``2 * lifetime`` later.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets as _secrets
import time
from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

from ..encoding import DecodeError, b64url_decode, b64url_encode
from ..errors import ConfigurationError

__all__ = ["DPoPNonceSource", "NonceProvider"]

_MAC_BYTES = 16
_STEP_BYTES = 8


@runtime_checkable
class DPoPNonceSource(Protocol):
    """What a :class:`~jwt_guard_core.dpop.DPoPPolicy` needs from a nonce source."""

    def current(self) -> str:
        """The nonce a client should use now (sent in ``DPoP-Nonce``)."""
        ...

    def is_valid(self, nonce: str) -> bool:
        """Whether a proof carrying ``nonce`` is fresh enough."""
        ...


class NonceProvider:
    """Stateless, rotating nonces: ``base64url(time step || HMAC-SHA256(secret, step))``.

    Args:
        secrets: HMAC secrets of at least 32 bytes; the first signs, all
            verify. ``None``: one random secret for this process only.
        lifetime: seconds per time step (default 300); a nonce is accepted
            for one to two steps.
        clock: the time source, injected by tests.
    """

    def __init__(
        self,
        secrets: Sequence[bytes] | None = None,
        *,
        lifetime: int = 300,
        clock: Callable[[], float] = time.time,
    ) -> None:
        keys = [_secrets.token_bytes(32)] if secrets is None else list(secrets)
        if not keys or not all(isinstance(k, bytes) and len(k) >= 32 for k in keys):
            raise ConfigurationError("dpop_nonce_secrets", "give one or more secrets of 32+ bytes")
        if isinstance(lifetime, bool) or not isinstance(lifetime, int) or lifetime < 1:
            raise ConfigurationError("dpop_nonce_lifetime", f"{lifetime!r} is not whole seconds")
        self._keys = keys
        self._lifetime = lifetime
        self._clock = clock

    def __repr__(self) -> str:
        return f"NonceProvider(lifetime={self._lifetime})"

    def _mac(self, key: bytes, step: bytes) -> bytes:
        return hmac.new(key, b"jwt-guard dpop nonce" + step, hashlib.sha256).digest()[:_MAC_BYTES]

    def _step(self) -> int:
        return int(self._clock() // self._lifetime)

    def current(self) -> str:
        step = self._step().to_bytes(_STEP_BYTES, "big")
        return b64url_encode(step + self._mac(self._keys[0], step))

    def is_valid(self, nonce: str) -> bool:
        try:
            raw = b64url_decode(nonce)
        except DecodeError:
            return False
        if len(raw) != _STEP_BYTES + _MAC_BYTES:
            return False
        step_bytes, mac = raw[:_STEP_BYTES], raw[_STEP_BYTES:]
        if self._step() - int.from_bytes(step_bytes, "big") not in (0, 1):
            return False
        return any(hmac.compare_digest(mac, self._mac(k, step_bytes)) for k in self._keys)
