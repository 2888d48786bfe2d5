"""Rate limiting of failed verifications per client.

Guessing tokens, replaying stolen ones against many APIs, or probing an
algorithm-confusion bug all produce a stream of *rejections* from one
client. :class:`FailureRateLimiter` counts those in a sliding window (an
exact log of failure times, not fixed buckets, so a burst straddling a
bucket edge cannot get twice the limit) and refuses the client with 429 and
``Retry-After`` once it has ``limit`` failures in the last ``window``
seconds. Successful requests never count and never reset the count: a
client may not earn extra guesses by mixing in a valid token.

The client key is the adapter's choice (the remote IP by default, a key
function to choose another). Only rejections of the token itself count
(status 400 or 401); an outage (503), a scope refusal (403) or the 429
itself do not.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

from .. import events
from ..errors import ConfigurationError, RateLimited, StateUnavailable, TokenError
from ..token import VerifiedToken
from ..verifier import Verifier
from .errors import StoreUnavailable

__all__ = ["FailureRateLimiter", "RateLimitStore"]

logger = logging.getLogger("jwt_guard.sessions")

DEFAULT_LIMIT = 20
DEFAULT_WINDOW = 60.0
_MAX_CLIENT_KEY = 256


@runtime_checkable
class RateLimitStore(Protocol):
    """Storage for recent failure times per client key.

    Raises :class:`~jwt_guard_core.sessions.StoreUnavailable` when the
    storage cannot be reached.
    """

    def add_failure(self, client: str, *, now: float, window: float, keep: int) -> None:
        """Record a failure at ``now``; keep at most the ``keep`` newest within ``window``."""

    def recent_failures(self, client: str, *, now: float, window: float) -> Sequence[float]:
        """Failure times in ``(now - window, now]``, oldest first."""


class FailureRateLimiter:
    """Refuses clients with too many failed verifications in a sliding window.

    Args:
        store: a :class:`RateLimitStore` (memory, SQLite or Redis; share one
            between instances so the limit is per client, not per process).
        limit: failures allowed in the window (default 20); the next
            request is refused with :class:`~jwt_guard_core.errors.RateLimited`.
        window: the window in seconds (default 60).
        fail_open: when the store is down, let requests through unlimited
            (with a ``rate_limit_unavailable`` event) rather than refusing
            them. On by default: a limiter outage should not become an API
            outage, and every token is still verified.
        clock: returns Unix time; inject a fake one in tests.

    Use :meth:`verify` / :meth:`averify`, or call :meth:`check` before
    verifying and :meth:`record_failure` after a rejection.
    """

    def __init__(
        self,
        store: RateLimitStore,
        *,
        limit: int = DEFAULT_LIMIT,
        window: float = DEFAULT_WINDOW,
        fail_open: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not isinstance(store, RateLimitStore):
            raise ConfigurationError("store", f"{type(store).__name__} is not a RateLimitStore")
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 10_000:
            raise ConfigurationError("limit", f"{limit!r} is not a whole number from 1 to 10000")
        if (
            isinstance(window, bool)
            or not isinstance(window, (int, float))
            or not math.isfinite(window)
            or not 1 <= window <= 86400
        ):
            raise ConfigurationError(
                "window", f"{window!r} is not a number of seconds from 1 to 86400"
            )
        if not isinstance(fail_open, bool):
            raise ConfigurationError("fail_open", f"{fail_open!r} is not True or False")
        if not callable(clock):
            raise ConfigurationError("clock", "must be a callable returning Unix time in seconds")
        self._store = store
        self._limit = limit
        self._window = float(window)
        self._fail_open = fail_open
        self._clock = clock
        self._blocking = not getattr(store, "in_process", False)

    @property
    def limit(self) -> int:
        return self._limit

    @property
    def window(self) -> float:
        return self._window

    def __repr__(self) -> str:
        return f"FailureRateLimiter({self._store!r}, limit={self._limit}, window={self._window:g})"

    @staticmethod
    def _key(client: str) -> str:
        if not isinstance(client, str) or not client:
            raise ConfigurationError("client", "the client key must be a non-empty string")
        # Bounded: a key built from a header must not become a memory sink.
        return client[:_MAX_CLIENT_KEY]

    def check(self, client: str) -> None:
        """Raise :class:`~jwt_guard_core.errors.RateLimited` if ``client`` is over the limit."""
        key = self._key(client)
        now = self._clock()
        try:
            failures = self._store.recent_failures(key, now=now, window=self._window)
        except StoreUnavailable as exc:
            self._outage(exc)
            return
        if len(failures) < self._limit:
            return
        # The client may retry once enough failures have left the window.
        oldest_counted = failures[-self._limit]
        retry_after = max(1, math.ceil(oldest_counted + self._window - now))
        events.emit(
            "rate_limited",
            level=logging.WARNING,
            reason="rate_limited",
            message="client refused: too many failed verifications",
            client=key,
            failures=len(failures),
            window=self._window,
            retry_after=retry_after,
        )
        raise RateLimited(retry_after=retry_after)

    def record_failure(self, client: str) -> None:
        """Count one failed verification for ``client``."""
        key = self._key(client)
        try:
            self._store.add_failure(key, now=self._clock(), window=self._window, keep=self._limit)
        except StoreUnavailable as exc:
            self._outage(exc)

    def counts(self, error: TokenError) -> bool:
        """Whether a rejection counts as a failure (the token was bad, not the service)."""
        return error.status in (400, 401)

    def verify(self, verifier: Verifier, token: str, *, client: str) -> VerifiedToken:
        """``verifier.verify(token)`` behind the limit: refuse first, count rejections."""
        self.check(client)
        try:
            return verifier.verify(token)
        except TokenError as exc:
            if self.counts(exc):
                self.record_failure(client)
            raise

    async def averify(self, verifier: Verifier, token: str, *, client: str) -> VerifiedToken:
        """Like :meth:`verify` with ``verifier.averify``; store I/O runs off the event loop."""
        if self._blocking:
            await asyncio.to_thread(self.check, client)
        else:
            self.check(client)
        try:
            return await verifier.averify(token)
        except TokenError as exc:
            if self.counts(exc):
                if self._blocking:
                    await asyncio.to_thread(self.record_failure, client)
                else:
                    self.record_failure(client)
            raise

    def _outage(self, exc: StoreUnavailable) -> None:
        events.emit(
            "rate_limit_unavailable",
            level=logging.ERROR,
            reason="rate_limit_unavailable",
            message=f"rate-limit store unavailable: {exc}",
            fail_open=self._fail_open,
        )
        if not self._fail_open:
            raise StateUnavailable(
                "the rate-limit state is unavailable", reason="rate_limit_unavailable"
            ) from None
