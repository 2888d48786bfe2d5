"""A circuit breaker: stop waiting for a dependency that keeps failing.

When Redis hangs (a paused process, a dead host behind a firewall that drops
packets), every call waits for its socket timeout. Under load that is one
timeout per request, and the workers pile up behind it. The breaker counts
consecutive failures; after ``failures`` of them it *opens* and calls fail at
once, without touching the network, for ``cool_down`` seconds. Then it is
*half open*: one call goes through as a probe (the others still fail fast);
if the probe succeeds the breaker *closes*, if it fails the cool-down starts
again.

Each transition is a security event (``breaker_opened`` at WARNING,
``breaker_half_open``, ``breaker_closed``) carrying the breaker's ``name``.
Time comes from the injected ``clock`` (monotonic seconds by default).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from . import events
from .errors import ConfigurationError

__all__ = ["CircuitBreaker", "CircuitOpen"]

_T = TypeVar("_T")

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half_open"


class CircuitOpen(Exception):
    """Raised instead of calling a dependency while the breaker is open.

    ``retry_after`` is the number of seconds until the next probe.
    """

    def __init__(self, name: str, retry_after: float) -> None:
        super().__init__(f"{name}: circuit open, next probe in {retry_after:.3g} s")
        self.name = name
        self.retry_after = retry_after


class CircuitBreaker:
    """Fail fast after ``failures`` consecutive failures, for ``cool_down`` seconds.

    Args:
        name: names the dependency in events and errors (``redis:sessions``).
        failures: consecutive failures that open the breaker; ``0`` turns
            the breaker off (every call goes through).
        cool_down: seconds the breaker stays open before one probe call.
        clock: monotonic seconds; inject a fake one in tests.

    One breaker may be shared by several stores that use the same server,
    so that one store's failures spare the others their timeouts.
    """

    def __init__(
        self,
        name: str = "redis",
        *,
        failures: int = 5,
        cool_down: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if isinstance(failures, bool) or not isinstance(failures, int) or failures < 0:
            raise ConfigurationError("breaker_failures", f"{failures!r} is not an integer >= 0")
        if (
            isinstance(cool_down, bool)
            or not isinstance(cool_down, (int, float))
            or not math.isfinite(cool_down)
            or cool_down <= 0
        ):
            raise ConfigurationError(
                "breaker_cool_down", f"{cool_down!r} is not a positive number of seconds"
            )
        if not callable(clock):
            raise ConfigurationError("clock", "must be a callable returning seconds")
        self.name = name
        self.failures = failures
        self.cool_down = float(cool_down)
        self._clock = clock
        self._lock = threading.Lock()
        self._state = CLOSED
        self._count = 0
        self._opened_at = -math.inf
        self._probing = False

    def __repr__(self) -> str:
        return f"CircuitBreaker({self.name!r}, state={self.state!r})"

    @property
    def state(self) -> str:
        """``"closed"``, ``"open"`` or ``"half_open"`` (cool-down over, a probe is due)."""
        with self._lock:
            if self._state == OPEN and self._clock() >= self._opened_at + self.cool_down:
                return HALF_OPEN
            return self._state

    def call(
        self,
        action: Callable[[], _T],
        *,
        failure: type[BaseException] | tuple[type[BaseException], ...],
    ) -> _T:
        """Run ``action`` unless the breaker is open; exceptions of type(s) ``failure`` count.

        Raises :class:`CircuitOpen` without running ``action`` while open.
        Other exceptions propagate and count as a success of the
        dependency (it answered).
        """
        if self.failures == 0:
            return action()
        probe = self._admit()
        try:
            result = action()
        except failure:
            self._failed(probe)
            raise
        except BaseException:
            self._succeeded(probe)
            raise
        self._succeeded(probe)
        return result

    async def acall(
        self,
        action: Callable[[], Awaitable[_T]],
        *,
        failure: type[BaseException] | tuple[type[BaseException], ...],
    ) -> _T:
        """Like :meth:`call` for a coroutine: the same states and counts."""
        if self.failures == 0:
            return await action()
        probe = self._admit()
        try:
            result = await action()
        except failure:
            self._failed(probe)
            raise
        except BaseException:
            self._succeeded(probe)
            raise
        self._succeeded(probe)
        return result

    def _admit(self) -> bool:
        """``True`` when this call is the half-open probe; raises ``CircuitOpen`` to refuse."""
        with self._lock:
            if self._state == CLOSED:
                return False
            now = self._clock()
            reopen_at = self._opened_at + self.cool_down
            if now < reopen_at or self._probing:
                raise CircuitOpen(self.name, max(0.0, reopen_at - now))
            self._probing = True
            self._state = HALF_OPEN
        events.emit("breaker_half_open", message="circuit half open: probing", breaker=self.name)
        return True

    def _failed(self, probe: bool) -> None:
        with self._lock:
            if probe:
                self._probing = False
            self._count += 1
            opening = probe or (self._state == CLOSED and self._count >= self.failures)
            if opening:
                self._state = OPEN
                self._opened_at = self._clock()
            count = self._count
        if opening:
            events.emit(
                "breaker_opened",
                level=logging.WARNING,
                reason="dependency_unavailable",
                message="circuit opened: failing fast until the cool-down ends",
                breaker=self.name,
                failures=count,
                cool_down=self.cool_down,
            )

    def _succeeded(self, probe: bool) -> None:
        with self._lock:
            was = self._state
            if probe:
                self._probing = False
            self._count = 0
            self._state = CLOSED
        if was != CLOSED:
            events.emit("breaker_closed", message="circuit closed", breaker=self.name)
