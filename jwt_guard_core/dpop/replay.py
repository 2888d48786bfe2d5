"""Remembering DPoP proof ``jti`` values, so a proof is accepted once (RFC 9449 section 11.1).

A proof is only acceptable while its ``iat`` is in the window, so a ``jti``
needs remembering until that window closes and no longer: every entry
expires, and each store stays bounded by the proofs of one window.

Backends:

* :class:`MemoryReplayStore`: one process (tests, a single worker);
* :class:`~jwt_guard_core.dpop.SQLiteReplayStore`: several processes on
  one machine;
* :class:`~jwt_guard_core.dpop.RedisReplayStore`: several machines.

With more than one worker, a memory store lets a proof replayed to another
worker through: use a shared backend there.
"""

from __future__ import annotations

import heapq
import threading
from typing import Protocol, runtime_checkable

from ..errors import ConfigurationError, StoreUnavailable

__all__ = ["MemoryReplayStore", "ReplayStore"]


@runtime_checkable
class ReplayStore(Protocol):
    """Atomic "first time this key is used?" with expiry.

    ``first_use`` records ``key`` until ``expires_at`` and returns ``True``
    when it was not recorded already (or its record had expired), ``False``
    for a replay. Of concurrent calls with one key exactly one gets
    ``True``. A store that cannot answer raises
    :class:`~jwt_guard_core.sessions.StoreUnavailable`. ``in_process`` says
    the store answers without I/O, so async callers need no worker thread.
    """

    in_process: bool

    def first_use(self, key: str, *, expires_at: float, now: float) -> bool: ...


class MemoryReplayStore:
    """Seen ``jti`` values in this process's memory, at most ``max_entries`` at a time.

    Expired entries are dropped on every call (cheapest first, from a heap).
    When ``max_entries`` live entries are held, new proofs are refused with
    :class:`~jwt_guard_core.sessions.StoreUnavailable` (a 503) instead of
    forgetting an entry whose proof could then be replayed. Size it for the
    DPoP requests of one ``iat`` window.
    """

    in_process = True

    def __init__(self, *, max_entries: int = 200_000) -> None:
        if isinstance(max_entries, bool) or not isinstance(max_entries, int) or max_entries < 1:
            raise ConfigurationError("max_entries", f"{max_entries!r} is not a positive integer")
        self._max = max_entries
        self._lock = threading.Lock()
        self._expiry: dict[str, float] = {}
        self._heap: list[tuple[float, str]] = []

    def __repr__(self) -> str:
        return f"MemoryReplayStore(max_entries={self._max})"

    def __len__(self) -> int:
        return len(self._expiry)

    def first_use(self, key: str, *, expires_at: float, now: float) -> bool:
        with self._lock:
            heap = self._heap
            while heap and heap[0][0] <= now:
                at, old = heapq.heappop(heap)
                if self._expiry.get(old) == at:
                    del self._expiry[old]
            known = self._expiry.get(key)
            if known is not None and known > now:
                return False
            if len(self._expiry) >= self._max:
                raise StoreUnavailable("the memory DPoP replay store is full")
            self._expiry[key] = expires_at
            heapq.heappush(heap, (expires_at, key))
            return True
