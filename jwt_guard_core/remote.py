"""``RemoteJWKS``: a key source that fetches a JSON Web Key Set over HTTPS.

Built for the ways remote key sets fail in production:

* **One request, however many callers.** Threads and asyncio tasks that miss
  the cache at once share a single in-flight fetch per key set ("single
  flight") and wait for its result within a bound, instead of each calling
  the provider (a thundering herd on every key rotation).
* **Never wait on the network for a cached key.** A set near expiry is
  refreshed in the background (a daemon thread for ``get_key``, a task for
  ``aget_key``) while the cached keys keep serving, so a slow or hanging
  provider never delays a verification whose ``kid`` is known.
* **An outage is not an invalid token.** When refreshing fails the cached
  keys keep serving for ``stale_ttl`` past their expiry (``jwks_stale``
  event); after that, or with nothing cached, verification raises
  :class:`~jwt_guard_core.errors.KeySourceUnavailable` (503 with a
  ``Retry-After`` hint). Failed fetches are retried with jittered
  exponential backoff, never once per request.
* **Random kids cannot flood the provider.** An unknown ``kid`` causes at
  most one refetch, then a cooldown (``unknown_kid_cooldown``) in which
  unknown kids fail fast with ``unknown_kid``. The verifier checks the
  algorithm, issuer, expiry and size before asking for a key, so a forged
  token costs no network at all.
* **The provider's cache headers are honoured within bounds**
  (``Cache-Control: max-age`` or ``Expires``, clamped to
  ``[min_ttl, max_ttl]``), with ``ETag``/``If-None-Match``; a 304 keeps the
  keys and restarts their TTL.
* **Limits**: https only (loopback hosts excepted, or ``allow_http=True``),
  no redirect to another origin, a time budget per exchange that is a hard
  deadline (a server trickling bytes is cut off), a response size cap
  enforced while streaming on every decoding stage (a gzip bomb stops at the
  cap), a JSON content type, a maximum key count,
  and the key hygiene of :mod:`jwt_guard_core.keys` for every key. A bad key
  is skipped with a ``jwks_key_skipped`` event rather than failing the set.

Time for TTLs, cooldowns and backoff comes from the injected ``clock``;
network timeouts are real time.

This module holds the public class, single flight and the threads and
tasks that lead a fetch. The decisions live elsewhere, without I/O:
:mod:`._remote_cache` (what to fetch, when, what a response means) and
:mod:`._remote_exchange` (one GET: budget, redirects, checks, decoding);
:mod:`._remote_transport` performs them with httpx, sync and async.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import ssl
import threading
import time
import weakref
from collections.abc import Callable
from os import PathLike, fspath
from typing import Any

import httpcore  # noqa: F401 - imported at start-up, see below

from ._remote_cache import CacheOptions, KeySetCache
from ._remote_exchange import Exchange
from ._remote_policy import check_url
from ._remote_transport import Transports
from .errors import ConfigurationError
from .keys import VerificationKey
from .shared_jwks import SharedJWKSCache, SharedStep
from .steps import Io, adrive, drive, mapped, offloaded

__all__ = ["RemoteJWKS"]

logger = logging.getLogger("jwt_guard.remote")

# httpx imports httpcore (its connection pools) only when the first client
# is built: imported with this module instead, at start-up, so the first
# verification of a process does not wait for it.

VerifyOption = bool | str | PathLike[str] | ssl.SSLContext


# --- single flight -------------------------------------------------------------


class _Flight:
    """One fetch in progress, awaited by threads (an Event) and by tasks on any loop."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self.ok = False

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def finish(self, ok: bool) -> None:
        with self._lock:
            self.ok = ok
            self._done.set()
            waiters, self._waiters = self._waiters, []
        for loop, future in waiters:
            # A closed loop raises RuntimeError: nobody is waiting there any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_resolve, future)

    def wait(self, timeout: float) -> bool:
        return self._done.wait(timeout)

    async def wait_async(self, timeout: float) -> bool:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._lock:
            if self._done.is_set():
                return True
            self._waiters.append((loop, future))
        try:
            # shield: a waiter that times out must not cancel the shared future
            # other waiters on this loop might be resolving through.
            await asyncio.wait_for(asyncio.shield(future), timeout)
        except asyncio.TimeoutError:
            return False
        return True


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


# --- options -------------------------------------------------------------------


def _positive(setting: str, value: object, *, allow_zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigurationError(setting, f"{value!r} is not a number of seconds")
    if value < 0 or (value == 0 and not allow_zero):
        raise ConfigurationError(
            setting, f"{value!r} is not accepted; give a number {'>= 0' if allow_zero else '> 0'}"
        )
    return float(value)


def _count(setting: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigurationError(setting, f"{value!r} is not an integer of at least {minimum}")
    return value


def _ssl_option(verify: object) -> ssl.SSLContext | bool:
    if isinstance(verify, ssl.SSLContext):
        return verify
    if verify is True:
        return True
    if verify is False:
        logger.warning(
            "RemoteJWKS: TLS certificate verification is disabled (verify=False); anyone on "
            "the network path can replace the keys and forge tokens"
        )
        return False
    if isinstance(verify, (str, PathLike)):
        try:
            return ssl.create_default_context(cafile=fspath(verify))
        except (OSError, ssl.SSLError) as exc:
            raise ConfigurationError(
                "verify", f"cannot load CA certificates from {fspath(verify)!r}: {exc}"
            ) from None
    raise ConfigurationError(
        "verify", f"{verify!r} is not accepted; give True, an ssl.SSLContext or a CA bundle path"
    )


def _flag(setting: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise ConfigurationError(setting, f"{value!r} is not True or False")
    return value


def _clock(clock: object) -> Callable[[], float]:
    if not callable(clock):
        raise ConfigurationError("clock", "must be a callable returning Unix time in seconds")
    return clock


def _shared(cache: object) -> SharedJWKSCache | None:
    if cache is not None and not isinstance(cache, SharedJWKSCache):
        raise ConfigurationError("shared_cache", "give a RedisSharedJWKS or a FileSharedJWKS")
    return cache


def _lock_timeout(value: object, timeout: float) -> float | None:
    if value is None:
        return None
    seconds = _positive("shared_lock_timeout", value)
    if seconds < timeout:
        # The lock would expire while its holder still fetches, and a second
        # process would fetch too.
        raise ConfigurationError(
            "shared_lock_timeout", f"{value!r} is shorter than the fetch timeout ({timeout!r} s)"
        )
    return seconds


# --- fork safety ---------------------------------------------------------------

# Servers that load the app and then fork workers (gunicorn --preload, uWSGI)
# would otherwise hand every worker the parent's pooled connections, so two
# processes write into one TLS stream; and a lock held by a parent thread at
# fork time would stay held forever in the child.
_instances: weakref.WeakSet[RemoteJWKS] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for jwks in list(_instances):
        jwks._reset_after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


# --- the key source ------------------------------------------------------------


class RemoteJWKS:
    """A JWKS fetched from ``url``, cached, and refreshed safely. A ``KeySource``.

    Give it to ``GuardConfig(keys=...)`` (or an ``IssuerPolicy``) exactly like
    a :class:`~jwt_guard_core.StaticKeySet`; ``verify`` and ``averify`` both
    work. Build one per URL at start-up and share it: it holds one pooled
    ``httpx.Client`` and one ``httpx.AsyncClient`` per event loop, created on
    first use. Nothing is fetched by the constructor; call :meth:`warm` (or
    :meth:`awarm`) at start-up to fetch early.

    Args:
        url: the JWKS URL. https only, except loopback hosts (``localhost``,
            127.0.0.0/8, ``::1``) or with ``allow_http=True``.
        min_ttl, max_ttl: bounds for the cache lifetime taken from the
            response's ``Cache-Control: max-age`` or ``Expires`` (default
            5 min and 24 h). Without usable cache headers, ``min_ttl``.
        stale_ttl: how long past expiry cached keys keep serving while the
            provider cannot be reached (default 1 h).
        unknown_kid_cooldown: after a fetch, unknown kids fail fast with
            ``unknown_kid`` for this long instead of causing another fetch
            (default 30 s).
        timeout: time budget in seconds for one HTTP exchange, redirects and
            body included (default 5 s).
        max_bytes: largest accepted response body (default 512 KiB).
        max_keys: largest accepted number of keys in the set (default 100).
        allow_http: accept plain http for non-loopback hosts. Only for
            networks where nobody can tamper with traffic.
        refresh_ahead: refresh this many seconds before expiry (at most
            half the TTL), in the background; ``0`` or ``None`` refreshes at
            expiry, still in the background while cached keys serve.
        verify: TLS verification: ``True`` (system/certifi CAs), an
            ``ssl.SSLContext``, or a path to a CA bundle. ``False`` disables
            verification and is logged as a warning.
        clock: returns the current Unix time; inject a fake one in tests.
        shared_cache: a second-level cache shared with other processes
            (:class:`~jwt_guard_core.shared_jwks.RedisSharedJWKS`, or
            :class:`~jwt_guard_core.shared_jwks.FileSharedJWKS` for one
            host), so that one of them fetches and the others read.
        shared_lock_timeout: with ``shared_cache``, how long one process may
            hold the fetch lock, and the others wait for its copy, in
            seconds; at least ``timeout``. ``None``: one fetch's time budget
            (``timeout``, twice with discovery, plus a second).

    Raises:
        ConfigurationError: for a bad URL or option, naming the setting.
    """

    _issuer: str | None
    _url: str | None
    _discovery_url: str | None

    def __init__(
        self,
        url: str,
        *,
        min_ttl: float = 300.0,
        max_ttl: float = 86400.0,
        stale_ttl: float = 3600.0,
        unknown_kid_cooldown: float = 30.0,
        timeout: float = 5.0,
        max_bytes: int = 512 * 1024,
        max_keys: int = 100,
        allow_http: bool = False,
        refresh_ahead: float | None = 60.0,
        verify: VerifyOption = True,
        clock: Callable[[], float] = time.time,
        shared_cache: SharedJWKSCache | None = None,
        shared_lock_timeout: float | None = None,
        _issuer: str | None = None,
    ) -> None:
        # With _issuer (given only by from_issuer, which checked it), ``url``
        # is the issuer's discovery document.
        if _issuer is None:
            problem = check_url(url, allow_http=allow_http is True)
            if problem is not None:
                raise ConfigurationError("url", problem)
        self._issuer = _issuer
        self._url = url if _issuer is None else None
        self._discovery_url = url if _issuer is not None else None
        lowest = _positive("min_ttl", min_ttl, allow_zero=True)
        highest = _positive("max_ttl", max_ttl)
        if lowest > highest:
            raise ConfigurationError("min_ttl", f"{min_ttl!r} is larger than max_ttl ({max_ttl!r})")
        options = CacheOptions(
            url=self._url,
            discovery_url=self._discovery_url,
            issuer=_issuer,
            min_ttl=lowest,
            max_ttl=highest,
            stale_ttl=_positive("stale_ttl", stale_ttl, allow_zero=True),
            cooldown=_positive("unknown_kid_cooldown", unknown_kid_cooldown, allow_zero=True),
            timeout=_positive("timeout", timeout),
            max_bytes=_count("max_bytes", max_bytes, 1024),
            max_keys=_count("max_keys", max_keys, 1),
            allow_http=_flag("allow_http", allow_http),
            refresh_ahead=0.0
            if refresh_ahead is None
            else _positive("refresh_ahead", refresh_ahead, allow_zero=True),
            clock=_clock(clock),
            shared=_shared(shared_cache),
            shared_lock=_lock_timeout(shared_lock_timeout, timeout),
        )
        self._verify = _ssl_option(verify)
        self._cache = KeySetCache(options)
        self._wait_bound = self._cache.wait_bound
        self._lock = threading.Lock()
        self._flight: _Flight | None = None
        self._last_flight = _Flight()
        self._last_flight.finish(False)
        self._generation = 0
        self._transports = Transports(timeout=options.timeout, verify=self._verify)
        self._thread: threading.Thread | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        _instances.add(self)

    @classmethod
    def from_issuer(cls, issuer: str, **options: Any) -> RemoteJWKS:
        """A key set found by OpenID Connect Discovery from ``issuer``.

        Reads ``<issuer>/.well-known/openid-configuration``, checks that the
        document's ``issuer`` is exactly ``issuer`` (OpenID Connect Discovery
        section 4.3; trailing slash included, so give the issuer exactly as
        your provider writes it in tokens) and fetches its ``jwks_uri``. The
        document is cached and refreshed under the same rules as the keys.
        ``options`` are those of the constructor.
        """
        allow_http = options.get("allow_http", False) is True
        problem = check_url(issuer, allow_http=allow_http)
        if problem is None and ("?" in issuer or "#" in issuer):
            problem = "an issuer identifier has no query or fragment (OpenID Connect Discovery 3)"
        if problem is not None:
            raise ConfigurationError("issuer", problem)
        discovery_url = issuer.rstrip("/") + "/.well-known/openid-configuration"
        return cls(discovery_url, **options, _issuer=issuer)

    def _reset_after_fork(self) -> None:
        # The cached keys stay; everything tied to the parent's threads,
        # sockets and event loops is dropped (not closed: the parent still
        # uses those sockets).
        self._lock = threading.Lock()
        self._cache.after_fork()
        self._flight = None
        self._transports.forget()
        self._thread = None
        self._tasks = set()

    # -- KeySource

    @property
    def allows_hmac(self) -> bool:
        """Always ``False``: HMAC secrets are never taken from a remote set."""
        return False

    def get_key(self, kid: str | None, alg: str) -> VerificationKey:
        """The key for ``kid`` bound to ``alg``; may fetch (single flight, bounded wait).

        Raises ``UnknownKid``, ``AlgorithmNotAllowed`` or
        ``KeySourceUnavailable``.
        """
        generation = self._generation
        key, refresh = self._cache.plan(kid, alg, fetching=self._flight_active())
        if key is not None:
            if refresh:
                self._refresh_in_thread()
            return key
        flight = self._fetch_and_wait(generation)
        return self._cache.after_fetch(kid, alg, fetched=flight.done and flight.ok)

    async def aget_key(self, kid: str | None, alg: str) -> VerificationKey:
        """Like :meth:`get_key`; the fetch runs on the event loop, never blocking it."""
        generation = self._generation
        key, refresh = self._cache.plan(kid, alg, fetching=self._flight_active())
        if key is not None:
            if refresh:
                self._refresh_in_task()
            return key
        flight = await self._afetch_and_wait(generation)
        return self._cache.after_fetch(kid, alg, fetched=flight.done and flight.ok)

    # -- lifecycle and reporting

    def warm(self) -> bool:
        """Fetch the key set now unless fresh keys are cached; ``True`` when keys are usable.

        Meant for start-up. A failure does not raise: it is reported by a
        ``jwks_fetch_failed`` event and in :meth:`health`, and the next
        verification retries (after the backoff).
        """
        generation = self._generation
        if not self._cache.fresh():
            self._fetch_and_wait(generation)
        return self._cache.usable()

    async def awarm(self) -> bool:
        """Like :meth:`warm`, on the event loop."""
        generation = self._generation
        if not self._cache.fresh():
            await self._afetch_and_wait(generation)
        return self._cache.usable()

    def health(self) -> dict[str, Any]:
        """A snapshot for a readiness probe or an admin page.

        ``state`` is ``"cold"`` (nothing fetched yet), ``"ok"`` (keys cached
        and the last attempt succeeded, or they are within their TTL),
        ``"stale"`` (past their TTL, served because refreshing fails) or
        ``"unavailable"`` (nothing usable: verification answers 503).
        Times are Unix seconds from the injected clock.
        """
        return self._cache.health()

    @property
    def url(self) -> str | None:
        """The JWKS URL: as configured, or the discovered ``jwks_uri`` (``None`` before)."""
        return self._cache.url

    @property
    def shared_cache(self) -> SharedJWKSCache | None:
        """The second-level cache shared with other processes, if any (for health checks)."""
        return self._cache.options.shared

    @property
    def issuer(self) -> str | None:
        """The issuer given to :meth:`from_issuer`, else ``None``."""
        return self._issuer

    def close(self) -> None:
        """Wait (bounded) for a background refresh, then close the sync HTTP client.

        The key set stays usable; a later fetch opens a new client.
        """
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(self._wait_bound)
        self._transports.close()

    async def aclose(self) -> None:
        """Cancel this loop's background refresh and close its async client and the sync one.

        Call it before the event loop ends (e.g. in the app's shutdown
        hook); clients of other loops are closed by ``aclose`` on those
        loops.
        """
        loop = asyncio.get_running_loop()
        tasks = [t for t in list(self._tasks) if t.get_loop() is loop and not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        await self._transports.aclose()

    def __repr__(self) -> str:
        if self._issuer is not None:
            return f"RemoteJWKS.from_issuer({self._issuer!r})"
        return f"RemoteJWKS({self._url!r})"

    # -- single flight

    def _join_flight(self, generation: int | None = None) -> tuple[_Flight, bool]:
        """The fetch to wait for, and whether the caller must lead it.

        ``generation`` is the count of finished fetches the caller saw before
        deciding it needed one: if a fetch finished since, its result is the
        answer, and starting another would be a second request for the same
        miss (the race a plain "is anyone fetching?" check loses).
        """
        with self._lock:
            if self._flight_active():
                assert self._flight is not None
                return self._flight, False
            if generation is not None and generation != self._generation:
                return self._last_flight, False
            flight = self._flight = _Flight()
            return flight, True

    def _flight_active(self) -> bool:
        # A fetch is bounded by its timeouts, so one running far longer than
        # that lost its leader (a loop stopped without being closed, say) and
        # is abandoned rather than making every later caller wait on it.
        flight = self._flight
        return flight is not None and time.monotonic() - flight.started < 2 * self._wait_bound

    def _end_flight(self, flight: _Flight, ok: bool) -> None:
        with self._lock:
            if self._flight is flight:
                self._flight = None
            self._last_flight = flight
            self._generation += 1
        flight.finish(ok)

    def _fetch_and_wait(self, generation: int) -> _Flight:
        flight, leader = self._join_flight(generation)
        if leader:
            self._lead(flight)
        else:
            flight.wait(self._wait_bound)
        return flight

    async def _afetch_and_wait(self, generation: int) -> _Flight:
        flight, leader = self._join_flight(generation)
        if leader:
            self._spawn(flight)
        await flight.wait_async(self._wait_bound)
        return flight

    def _refresh_in_thread(self) -> None:
        flight, leader = self._join_flight()
        if not leader:
            return
        thread = threading.Thread(
            target=self._lead, args=(flight,), name="jwt-guard-jwks-refresh", daemon=True
        )
        self._thread = thread
        thread.start()

    def _refresh_in_task(self) -> None:
        flight, leader = self._join_flight()
        if leader:
            self._spawn(flight)

    def _spawn(self, flight: _Flight) -> None:
        # The fetch is its own task: a request that is cancelled while
        # waiting must not cancel the fetch other waiters depend on.
        task = asyncio.get_running_loop().create_task(self._alead(flight))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- the drivers: the shared steps driver performs what the cache's fetch asks for

    def _lead(self, flight: _Flight) -> None:
        ok = False
        fetch = self._cache.fetch()
        try:
            ok = drive(mapped(fetch, self._io))
        finally:
            fetch.close()
            self._end_flight(flight, ok)

    async def _alead(self, flight: _Flight) -> None:
        ok = False
        fetch = self._cache.fetch()
        try:
            ok = await adrive(mapped(fetch, self._io))
        finally:
            fetch.close()
            self._end_flight(flight, ok)

    def _io(self, request: Exchange | SharedStep) -> Io:
        if isinstance(request, SharedStep):
            return offloaded(request.run)  # the shared store's I/O: a thread on the async path
        return Io(
            lambda: self._transports.sync().fetch(request),
            lambda: self._transports.for_running_loop().fetch(request),
        )
