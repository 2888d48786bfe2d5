"""Rate limiting of failed verifications and failed logins per client.

Guessing tokens or passwords, replaying stolen tokens against many APIs, or
probing an algorithm-confusion bug all produce a stream of *rejections* from
one client. :class:`FailureRateLimiter` counts those in a sliding window (an
exact log of attempt times, not fixed buckets, so a burst straddling a
bucket edge cannot get twice the limit) and refuses the client with 429 and
``Retry-After`` once it has ``limit`` in the last ``window`` seconds.

An attempt is *reserved* before the expensive work (the password check, the
signature and revocation checks), in one atomic step of the store that
counts and refuses together: a parallel burst of a hundred requests cannot
all pass a check that none of them has yet recorded a failure against. The
reservation is forgotten when the attempt turns out not to be a guess (a
success, an outage, a scope refusal) and stays as the failure otherwise. So
successes never count and never reset the count (a client may not earn extra
guesses by mixing in a valid token), and while attempts are in flight they
count against the limit until they finish.

A token already verified skips the reservation. :meth:`FailureRateLimiter.verify`
asks the verifier whether it *recalls* the token (its verified-token cache
holds these exact bytes: this verifier accepted them before, and they have
not expired, been refused or aged out since). Such a token costs no
signature, and it cannot be a guess: a guess is a token the verifier has
never accepted, and only an accepted token enters the cache. So a recalled
token gets a read-only :meth:`~FailureRateLimiter.check` (a client over the
limit is still refused, as before) and, should its verification now fail
(revoked, expired while cached), the failure is recorded after the fact.
The guarantee is unchanged because every token that can be a guess (every
one not recalled) still takes the reservation: of any parallel burst of
tokens the verifier has not accepted before, at most ``limit`` reach the
signature and revocation checks. What a burst of recalled tokens can get
past the count is answers about tokens the client already held (at most one
signature each, when their key changed or their cache entry was evicted
between the look and the verification), never a guess. The price of
the fast path is one read of the store instead of two writes: a successful
repeated token costs about a dictionary lookup in memory, one read in SQLite
and one round trip in Redis, instead of a lock twice, two write
transactions and two Lua scripts (benchmarks/state.py measures it).
:meth:`run` and :meth:`attempt`, which do not see the token, always reserve.

The client key is the adapter's choice (the remote IP by default, a key
function to choose another). An IP address is normalised: IPv6 clients are
keyed by their network (``/64`` by default, what one subscriber is usually
given, so rotating through the addresses of one's own prefix earns no new
guesses), an IPv4-mapped IPv6 address by its IPv4 address. A key that is not
an IP address (a user name, an API key id) is used as given.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol, TypeVar, runtime_checkable

from .. import events
from ..errors import ConfigurationError, RateLimited, StateUnavailable, TokenError
from ..token import VerifiedToken
from ..verifier import Verifier
from .astore import async_face
from .errors import StoreUnavailable
from .steps import Io, Steps, adrive, drive, store_io

__all__ = ["Attempt", "FailureRateLimiter", "RateLimitStore", "Reserved", "client_network"]

logger = logging.getLogger("jwt_guard.sessions")

_T = TypeVar("_T")

DEFAULT_LIMIT = 20
DEFAULT_WINDOW = 60.0
DEFAULT_IPV6_PREFIX = 64
_MAX_CLIENT_KEY = 256


def client_network(client: str, *, ipv6_prefix: int = DEFAULT_IPV6_PREFIX) -> str:
    """The rate-limit key of ``client``: the same for every address one client controls.

    An IPv4 address is itself; an IPv4-mapped IPv6 address (``::ffff:a.b.c.d``,
    what a dual-stack socket reports for an IPv4 peer) is that IPv4 address;
    any other IPv6 address is its ``/ipv6_prefix`` network
    (``2001:db8:1:2::/64``), zone id dropped. Anything else (a user name, a
    key chosen by a key function) is returned unchanged.
    """
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return client
    if isinstance(address, ipaddress.IPv4Address):
        return str(address)
    if address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    network = ipaddress.IPv6Network((int(address), ipv6_prefix), strict=False)
    return str(network)


@functools.lru_cache(maxsize=4096)
def _client_key(client: str, ipv6_prefix: int) -> str:
    # Parsing an address costs more than the memory store's whole check: a
    # client's next request finds its key here (bounded, so keys an attacker
    # invents only evict each other).
    return client_network(client, ipv6_prefix=ipv6_prefix)[:_MAX_CLIENT_KEY]


class Reserved(NamedTuple):
    """What :meth:`RateLimitStore.reserve` decided."""

    #: Whether the attempt was counted (the client was under the limit).
    admitted: bool
    #: The times already counted in the window before this attempt, oldest first.
    counted: Sequence[float]


@runtime_checkable
class RateLimitStore(Protocol):
    """Storage for recent attempt times per client key.

    An entry is a time; two entries of one client at the same time are
    interchangeable, so :meth:`release` needs no id. Raises
    :class:`~jwt_guard_core.sessions.StoreUnavailable` when the storage
    cannot be reached.
    """

    def reserve(self, client: str, *, now: float, window: float, limit: int) -> Reserved:
        """Atomically: unless ``limit`` times are in ``(now - window, now]``, add ``now``.

        Atomic across every caller sharing the store (threads, processes,
        machines): of concurrent calls, at most ``limit`` are admitted.
        """

    def release(self, client: str, *, at: float) -> None:
        """Forget one entry of ``client`` at exactly ``at`` (none: nothing to do)."""

    def add_failure(self, client: str, *, now: float, window: float, keep: int) -> None:
        """Record a failure at ``now``; keep at most the ``keep`` newest within ``window``."""

    def recent_failures(self, client: str, *, now: float, window: float) -> Sequence[float]:
        """Entry times in ``(now - window, now]``, oldest first."""


@dataclass
class Attempt:
    """One attempt reserved by :meth:`FailureRateLimiter.attempt`.

    Call :meth:`fail` when the attempt failed in a way the limiter cannot
    see (wrong credentials): it then stays counted. ``at`` is ``None`` when
    nothing was recorded (the store was down and the limiter fails open).
    """

    #: The client's store key (see :meth:`FailureRateLimiter.key`).
    client: str
    at: float | None
    failed: bool = False

    def fail(self) -> None:
        """Keep this attempt counted as a failure."""
        self.failed = True


class FailureRateLimiter:
    """Refuses clients with too many failed verifications or logins in a sliding window.

    Args:
        store: a :class:`RateLimitStore` (memory, SQLite or Redis; share one
            between instances so the limit is per client, not per process).
        limit: failures allowed in the window (default 20), attempts in
            flight included; the next request is refused with
            :class:`~jwt_guard_core.errors.RateLimited`.
        window: the window in seconds (default 60).
        fail_open: when the store is down, let requests through unlimited
            (with a ``rate_limit_unavailable`` event) rather than refusing
            them. On by default: a limiter outage should not become an API
            outage, and every token is still verified.
        ipv6_prefix: IPv6 clients are keyed by their network of this many
            bits (default 64; 128 keys each address on its own).
        clock: returns Unix time; inject a fake one in tests.
        astore: the store's async face for :meth:`aattempt` (an
            :class:`~jwt_guard_core.sessions.AsyncRedisSessionStore`);
            default :class:`~jwt_guard_core.sessions.AsyncSessionStore` over
            ``store``.

    Use :meth:`verify` / :meth:`averify`, or wrap other work that a guess
    reaches (a password check) in :meth:`attempt` / :meth:`aattempt`.
    """

    def __init__(
        self,
        store: RateLimitStore,
        *,
        limit: int = DEFAULT_LIMIT,
        window: float = DEFAULT_WINDOW,
        fail_open: bool = True,
        ipv6_prefix: int = DEFAULT_IPV6_PREFIX,
        clock: Callable[[], float] = time.time,
        astore: Any = None,
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
        if (
            isinstance(ipv6_prefix, bool)
            or not isinstance(ipv6_prefix, int)
            or not 1 <= ipv6_prefix <= 128
        ):
            raise ConfigurationError(
                "ipv6_prefix", f"{ipv6_prefix!r} is not a prefix length from 1 to 128"
            )
        if not callable(clock):
            raise ConfigurationError("clock", "must be a callable returning Unix time in seconds")
        self._store = store
        self._limit = limit
        self._window = float(window)
        self._fail_open = fail_open
        self._ipv6_prefix = ipv6_prefix
        self._clock = clock
        self._astore = async_face(store, astore)

    @property
    def limit(self) -> int:
        return self._limit

    @property
    def window(self) -> float:
        return self._window

    def __repr__(self) -> str:
        return f"FailureRateLimiter({self._store!r}, limit={self._limit}, window={self._window:g})"

    def _io(self, method: str, *args: Any, **kwargs: Any) -> Io:
        return store_io(self._store, self._astore, method, *args, **kwargs)

    def key(self, client: str) -> str:
        """The store key of ``client``: its :func:`client_network`, cut at 256 characters."""
        if not isinstance(client, str) or not client:
            raise ConfigurationError("client", "the client key must be a non-empty string")
        # Bounded: a key built from a header must not become a memory sink.
        return _client_key(client, self._ipv6_prefix)

    # -- reserving attempts

    def reserve(self, client: str) -> Attempt:
        """Count an attempt of ``client`` now, or refuse it over the limit.

        Raises :class:`~jwt_guard_core.errors.RateLimited` over the limit.
        Pair with :meth:`settle`; :meth:`attempt` does both.
        """
        return drive(self.reserve_steps(client))

    def reserve_steps(self, client: str) -> Steps[Attempt]:
        key = self.key(client)
        now = self._clock()
        try:
            reserved: Reserved = yield self._io(
                "reserve", key, now=now, window=self._window, limit=self._limit
            )
        except StoreUnavailable as exc:
            self._outage(exc)
            return Attempt(key, None)
        if not reserved.admitted:
            self._refuse(key, reserved.counted, now)
        return Attempt(key, now)

    def settle(self, attempt: Attempt, error: BaseException | None = None) -> None:
        """End ``attempt``: it stays counted if it failed, else it is forgotten.

        It failed when :meth:`Attempt.fail` was called or ``error`` is a
        rejection that :meth:`counts`; success, an outage, a scope refusal
        or an unexpected error say nothing about a guess.
        """
        drive(self.settle_steps(attempt, error))

    def settle_steps(self, attempt: Attempt, error: BaseException | None = None) -> Steps[None]:
        if attempt.at is None or self._failed(attempt, error):
            return
        try:
            yield self._io("release", attempt.client, at=attempt.at)
        except StoreUnavailable as exc:
            # The attempt stays counted until it leaves the window: fail
            # safe, and the caller's own outcome is not turned into an error.
            self._outage(exc, raising=False)

    def _failed(self, attempt: Attempt, error: BaseException | None) -> bool:
        if error is None:
            return attempt.failed
        return isinstance(error, TokenError) and self.counts(error)

    @contextmanager
    def attempt(self, client: str) -> Iterator[Attempt]:
        """``with limiter.attempt(client) as attempt:`` the work a guess reaches.

        Reserves on entry (raising ``RateLimited`` over the limit) and
        settles on exit: a counted :class:`~jwt_guard_core.TokenError`
        escaping the block, or :meth:`Attempt.fail`, keeps it as a failure.
        """
        attempt = self.reserve(client)
        try:
            yield attempt
        except BaseException as exc:
            self.settle(attempt, exc)
            raise
        self.settle(attempt)

    def attempt_steps(self, client: str, work: Callable[[Attempt], Steps[_T]]) -> Steps[_T]:
        """``work(attempt)``'s steps between reserving and settling (see :meth:`attempt`)."""
        attempt = yield from self.reserve_steps(client)
        try:
            result = yield from work(attempt)
        except BaseException as exc:
            yield from self.settle_steps(attempt, exc)
            raise
        yield from self.settle_steps(attempt)
        return result

    @asynccontextmanager
    async def aattempt(self, client: str) -> AsyncIterator[Attempt]:
        """Like :meth:`attempt`, awaiting the async store: the event loop never blocks."""
        attempt = await adrive(self.reserve_steps(client))
        try:
            yield attempt
        except BaseException as exc:
            await adrive(self.settle_steps(attempt, exc))
            raise
        await adrive(self.settle_steps(attempt))

    def verify(self, verifier: Verifier, token: str, *, client: str) -> VerifiedToken:
        """``verifier.verify(token)`` behind the limit: reserve first, keep rejections.

        A token the verifier recalls (accepted before, see the module
        docstring) is checked against the limit without a reservation.
        """
        if verifier.recalls(token):
            self.check(client)
            try:
                return verifier.verify(token)
            except TokenError as exc:
                drive(self._recalled_failed_steps(client, exc))
                raise
        return self.run(client, lambda: verifier.verify(token))

    async def averify(self, verifier: Verifier, token: str, *, client: str) -> VerifiedToken:
        """Like :meth:`verify` with ``verifier.averify``; store I/O runs off the event loop."""
        if verifier.recalls(token):
            await adrive(self.check_steps(client))
            try:
                return await verifier.averify(token)
            except TokenError as exc:
                await adrive(self._recalled_failed_steps(client, exc))
                raise
        return await self.arun(client, lambda: verifier.averify(token))

    def _recalled_failed_steps(self, client: str, error: TokenError) -> Steps[None]:
        # What a kept reservation would have counted, counted after the fact;
        # as in settle, an outage here does not replace the token's own error.
        if not self.counts(error):
            return
        try:
            yield self._io(
                "add_failure",
                self.key(client),
                now=self._clock(),
                window=self._window,
                keep=self._limit,
            )
        except StoreUnavailable as exc:
            self._outage(exc, raising=False)

    async def arun(self, client: str, action: Callable[[], Awaitable[_T]]) -> _T:
        """``await action()`` inside :meth:`aattempt`: for a framework's own verify coroutine."""
        async with self.aattempt(client):
            return await action()

    def run(self, client: str, action: Callable[[], _T]) -> _T:
        """``action()`` inside :meth:`attempt`: for a framework's own verify function."""
        with self.attempt(client):
            return action()

    # -- looking without reserving

    def check(self, client: str) -> None:
        """Raise :class:`~jwt_guard_core.errors.RateLimited` if ``client`` is over the limit.

        A look only: it reserves nothing, so work done after it is not
        protected from a parallel burst. Use :meth:`attempt` for that.
        """
        drive(self.check_steps(client))

    def check_steps(self, client: str) -> Steps[None]:
        key = self.key(client)
        now = self._clock()
        try:
            failures = yield self._io("recent_failures", key, now=now, window=self._window)
        except StoreUnavailable as exc:
            self._outage(exc)
            return
        if len(failures) >= self._limit:
            self._refuse(key, failures, now)

    def record_failure(self, client: str) -> None:
        """Count one failure of ``client`` found outside :meth:`attempt`."""
        key = self.key(client)
        try:
            self._store.add_failure(key, now=self._clock(), window=self._window, keep=self._limit)
        except StoreUnavailable as exc:
            self._outage(exc)

    def clear(self, client: str) -> int:
        """Forget ``client``'s counted attempts (an operator unblocking it); returns how many.

        ``client`` is a client as the adapter names it (an address) or a key
        as the listings show it (its network); the key it maps to is cleared
        too. Emits ``rate_limit_cleared``. Needs a store that can list
        (:class:`~jwt_guard_core.sessions.SessionListing`); raises
        :class:`~jwt_guard_core.errors.StateUnavailable` when it is down, as
        an unblocking that did not happen must not look like one.
        """
        clear = getattr(self._store, "clear_failures", None)
        if clear is None:
            raise ConfigurationError("store", f"{self._store!r} cannot clear failed attempts")
        key = self.key(client)
        try:
            count = sum(int(clear(k)) for k in dict.fromkeys((client, key)))
        except StoreUnavailable as exc:
            raise StateUnavailable(
                f"failed attempts not cleared: {exc}", reason="rate_limit_unavailable"
            ) from None
        events.emit("rate_limit_cleared", client=key, cleared=count)
        return count

    def counts(self, error: TokenError) -> bool:
        """Whether a rejection counts as a failure (the token was bad, not the service)."""
        return error.status in (400, 401)

    def _refuse(self, key: str, counted: Sequence[float], now: float) -> None:
        # The client may retry once enough attempts have left the window.
        oldest_counted = counted[-self._limit] if len(counted) >= self._limit else now
        retry_after = max(1, math.ceil(oldest_counted + self._window - now))
        events.emit(
            "rate_limited",
            level=logging.WARNING,
            reason="rate_limited",
            message="client refused: too many failed attempts",
            client=key,
            failures=len(counted),
            window=self._window,
            retry_after=retry_after,
        )
        raise RateLimited(retry_after=retry_after)

    def _outage(self, exc: StoreUnavailable, *, raising: bool = True) -> None:
        events.emit(
            "rate_limit_unavailable",
            level=logging.ERROR,
            reason="rate_limit_unavailable",
            message=f"rate-limit store unavailable: {exc}",
            fail_open=self._fail_open,
        )
        if raising and not self._fail_open:
            raise StateUnavailable(
                "the rate-limit state is unavailable", reason="rate_limit_unavailable"
            ) from None
