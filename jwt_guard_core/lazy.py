"""A value built from the settings on first use, shared by every thread, rebuilt after a reset.

The adapters keep their verifier and resource policy this way: one per
process (so one remote key set per URL, one DPoP replay store), built under
a lock so two first requests never build two, closed when the settings
change.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from .sources import config_key_sources, warmable_key_sources
from .verifier import Verifier

__all__ = ["Lazy", "close_verifier"]

_T = TypeVar("_T")


class Lazy(Generic[_T]):
    """``build()`` once, on the first :meth:`get`; :meth:`reset` drops it (``close(old)``)."""

    def __init__(self, build: Callable[[], _T], close: Callable[[_T], Any] | None = None) -> None:
        self._build = build
        self._close = close
        self._lock = threading.Lock()
        self._value: _T | None = None

    def get(self) -> _T:
        value = self._value
        if value is None:
            with self._lock:
                if self._value is None:
                    self._value = self._build()
                value = self._value
        return value

    def reset(self) -> None:
        with self._lock:
            old, self._value = self._value, None
        if old is not None and self._close is not None:
            self._close(old)


def close_verifier(verifier: Verifier) -> None:
    """Close the HTTP clients of ``verifier``'s remote key sets and introspection source."""
    sources = warmable_key_sources(config_key_sources(verifier.config).values())
    for source in [*sources, verifier.config.opaque_source]:
        close = getattr(source, "close", None)
        if callable(close):
            close()
