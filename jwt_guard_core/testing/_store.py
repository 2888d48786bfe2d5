"""An in-memory :class:`~jwt_guard_core.signing.KeyStore` for the test kit's issuer.

Test keys need no encryption at rest nor a directory: they live as long as
the process. The store follows the ``KeyStore`` contract exactly (revision,
compare-and-set, a lock excluding every thread), so the kit's keys go through
the same :class:`~jwt_guard_core.signing.KeyManager` an application uses.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace

from ..signing import KeyRing, KeyStoreError

__all__ = ["MemoryKeyStore"]


class MemoryKeyStore:
    """A :class:`KeyRing` held in memory; ``lock()`` is re-entrant per thread."""

    #: ``revision()`` never blocks: async readers need no worker thread.
    in_process = True

    def __init__(self, ring: KeyRing | None = None) -> None:
        self._ring = ring if ring is not None else KeyRing()
        self._data = threading.Lock()
        # Re-entrant: KeyManager saves while it holds the lock, as FileKeyStore allows.
        self._lock = threading.RLock()

    def revision(self) -> int:
        with self._data:
            return self._ring.revision

    def load(self) -> KeyRing:
        with self._data:
            return self._ring

    def save(self, ring: KeyRing, *, expected_revision: int) -> KeyRing:
        with self._data:
            if self._ring.revision != expected_revision:
                raise KeyStoreError(
                    f"the key ring changed while it was being updated (revision "
                    f"{self._ring.revision}, expected {expected_revision})"
                )
            self._ring = replace(ring, revision=expected_revision + 1)
            return self._ring

    @contextmanager
    def lock(self, *, blocking: bool = True) -> Iterator[bool]:
        acquired = self._lock.acquire(blocking=blocking)
        try:
            yield acquired
        finally:
            if acquired:
                self._lock.release()

    def remove(self, kids: Iterable[str]) -> KeyRing:
        """Take keys out of the ring (and so out of the JWKS) now, whatever their retention."""
        unwanted = set(kids)
        with self.lock():
            ring = self.load()
            kept = tuple(k for k in ring.keys if k.kid not in unwanted)
            return self.save(replace(ring, keys=kept), expected_revision=ring.revision)

    def __repr__(self) -> str:
        return f"MemoryKeyStore(revision={self.revision()})"
