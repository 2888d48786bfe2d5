"""What the server saw: jwt-guard's security events, kept for the demo page.

The API never tells a client why it refused a token (RFC 6750 asks for a
fixed error code; the reason would help an attacker tune the next try).
jwt-guard puts the reason in its security events instead
(:func:`jwt_guard_core.subscribe`). The demo subscribes an
:class:`EventLog`, so that the page can show the server's side of each
refusal through demo-only routes, the way an operator reads the log:

* :meth:`EventLog.since` — the recent events, for the page's server log;
* :meth:`EventLog.capture` — the events one in-process request caused,
  for the attack buttons. Hooks run synchronously in the verifying thread,
  so the events of a request made in this thread are exactly the ones the
  capture sees.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from jwt_guard_core import SecurityEvent

__all__ = ["EventLog", "describe", "refusal_reason"]

# The events that say why a credential was refused, first match wins.
REFUSALS = (
    "token_rejected",
    "refresh_token_reuse",
    "refresh_token_rejected",
    "rate_limited",
    "login_failed",
)


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def describe(event: SecurityEvent, seq: int = 0) -> dict[str, Any]:
    """A JSON-ready view of ``event`` (events never carry tokens or key material)."""
    return {
        "seq": seq,
        "event": event.name,
        "level": logging.getLevelName(event.level),
        "reason": event.reason,
        "fields": {key: _plain(value) for key, value in event.fields.items()},
    }


class EventLog:
    """A security-event hook that keeps the last ``size`` events and per-thread captures."""

    def __init__(self, size: int = 200) -> None:
        self._events: deque[dict[str, Any]] = deque(maxlen=size)
        self._seq = 0
        self._lock = threading.Lock()
        self._local = threading.local()

    def __call__(self, event: SecurityEvent) -> None:
        with self._lock:
            self._seq += 1
            entry = describe(event, self._seq)
            self._events.append(entry)
        captured: list[dict[str, Any]] | None = getattr(self._local, "captured", None)
        if captured is not None:
            captured.append(entry)

    def since(self, seq: int) -> list[dict[str, Any]]:
        """The kept events with a sequence number above ``seq``, oldest first."""
        with self._lock:
            return [entry for entry in self._events if entry["seq"] > seq]

    @property
    def last_seq(self) -> int:
        with self._lock:
            return self._seq

    @contextmanager
    def capture(self) -> Iterator[list[dict[str, Any]]]:
        """Collect the events emitted in this thread while the block runs."""
        previous = getattr(self._local, "captured", None)
        captured: list[dict[str, Any]] = []
        self._local.captured = captured
        try:
            yield captured
        finally:
            self._local.captured = previous


def refusal_reason(events: list[dict[str, Any]]) -> str | None:
    """The reason of the first refusal among ``events``, as jwt-guard recorded it."""
    for name in REFUSALS:
        for entry in events:
            if entry["event"] == name and entry["reason"]:
                return str(entry["reason"])
    return None
