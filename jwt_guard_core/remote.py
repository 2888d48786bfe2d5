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
  no redirect to another origin, a time budget per fetch, a response size
  cap enforced while streaming, a JSON content type, a maximum key count,
  and the key hygiene of :mod:`jwt_guard_core.keys` for every key. A bad key
  is skipped with a ``jwks_key_skipped`` event rather than failing the set.

Time for TTLs, cooldowns and backoff comes from the injected ``clock``;
network timeouts are real time.
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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from os import PathLike, fspath
from types import MappingProxyType
from typing import Any

import httpx

from . import events
from ._remote_policy import (
    MAX_REDIRECTS,
    FetchError,
    backoff_delay,
    check_content_type,
    check_redirect,
    check_url,
    parse_discovery,
    parse_jwks,
    retry_after_seconds,
    short,
    ttl_from_headers,
)
from .errors import ConfigurationError, KeySourceUnavailable, UnknownKid
from .keys import VerificationKey, select_key

__all__ = ["RemoteJWKS"]

logger = logging.getLogger("jwt_guard.remote")

_ACCEPT = "application/jwk-set+json, application/json;q=0.9"
_DISCOVERY_ACCEPT = "application/json"
_USER_AGENT = "jwt-guard"
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# How much longer than its own time budget a caller waits for a fetch led by
# someone else before giving up with KeySourceUnavailable.
_WAIT_MARGIN = 1.0

VerifyOption = bool | str | PathLike[str] | ssl.SSLContext


# --- state ---------------------------------------------------------------------


@dataclass(frozen=True)
class _State:
    """An immutable snapshot: replaced whole under a lock, read without one."""

    keys: tuple[VerificationKey, ...] | None = None
    by_kid: Mapping[str, VerificationKey] = field(default_factory=lambda: MappingProxyType({}))
    last_success: float | None = None
    expires_at: float = -math.inf
    refresh_at: float = -math.inf
    stale_until: float = -math.inf
    cooldown_until: float = -math.inf
    etag: str | None = None
    etag_url: str | None = None
    last_url: str | None = None
    skipped: frozenset[str] = frozenset()
    failures: int = 0
    next_attempt: float = -math.inf
    last_error: str | None = None
    stale_reported: bool = False


@dataclass(frozen=True)
class _Discovered:
    """The cached OpenID Provider configuration: only its jwks_uri matters here."""

    jwks_uri: str
    expires_at: float
    stale_until: float
    etag: str | None


@dataclass(frozen=True)
class _Response:
    status: int
    headers: httpx.Headers
    body: bytes
    url: str
    sent_etag: str | None


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


def _classify(exc: httpx.HTTPError) -> FetchError:
    if isinstance(exc, httpx.TimeoutException):
        return FetchError("timeout", f"the server did not answer in time ({type(exc).__name__})")
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLError):
            return FetchError("tls_error", f"TLS failed: {cause}")
        cause = cause.__cause__ or cause.__context__
    if isinstance(exc, httpx.ConnectError):
        return FetchError("connect_error", f"cannot connect: {exc}")
    if isinstance(exc, httpx.RemoteProtocolError):
        return FetchError("protocol_error", f"the server broke the HTTP protocol: {exc}")
    if isinstance(exc, httpx.DecodingError):
        return FetchError("bad_encoding", f"the response could not be decoded: {exc}")
    if isinstance(exc, httpx.TransportError):
        return FetchError("connection_error", f"the connection failed: {exc}")
    return FetchError("http_error", f"{type(exc).__name__}: {exc}")


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
        self._min_ttl = _positive("min_ttl", min_ttl, allow_zero=True)
        self._max_ttl = _positive("max_ttl", max_ttl)
        if self._min_ttl > self._max_ttl:
            raise ConfigurationError("min_ttl", f"{min_ttl!r} is larger than max_ttl ({max_ttl!r})")
        self._stale_ttl = _positive("stale_ttl", stale_ttl, allow_zero=True)
        self._cooldown = _positive("unknown_kid_cooldown", unknown_kid_cooldown, allow_zero=True)
        self._timeout = _positive("timeout", timeout)
        self._max_bytes = _count("max_bytes", max_bytes, 1024)
        self._max_keys = _count("max_keys", max_keys, 1)
        if not isinstance(allow_http, bool):
            raise ConfigurationError("allow_http", f"{allow_http!r} is not True or False")
        self._allow_http = allow_http
        self._refresh_ahead = (
            0.0
            if refresh_ahead is None
            else _positive("refresh_ahead", refresh_ahead, allow_zero=True)
        )
        self._verify = _ssl_option(verify)
        if not callable(clock):
            raise ConfigurationError("clock", "must be a callable returning Unix time in seconds")
        self._clock = clock

        exchanges = 2 if self._issuer is not None else 1
        self._wait_bound = self._timeout * exchanges + _WAIT_MARGIN
        self._lock = threading.Lock()
        self._state = _State()
        self._discovered: _Discovered | None = None
        self._flight: _Flight | None = None
        self._last_flight = _Flight()
        self._last_flight.finish(False)
        self._generation = 0
        self._client: httpx.Client | None = None
        self._async_clients: dict[asyncio.AbstractEventLoop, httpx.AsyncClient] = {}
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
        self._flight = None
        self._client = None
        self._async_clients = {}
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
        key, refresh = self._plan(kid, alg)
        if key is not None:
            if refresh:
                self._refresh_in_thread()
            return key
        flight, leader = self._join_flight(generation)
        if leader:
            self._lead(flight)
        else:
            flight.wait(self._wait_bound)
        return self._after_fetch(kid, alg, flight)

    async def aget_key(self, kid: str | None, alg: str) -> VerificationKey:
        """Like :meth:`get_key`; the fetch runs on the event loop, never blocking it."""
        generation = self._generation
        key, refresh = self._plan(kid, alg)
        if key is not None:
            if refresh:
                self._refresh_in_task()
            return key
        flight, leader = self._join_flight(generation)
        if leader:
            self._spawn(flight)
        await flight.wait_async(self._wait_bound)
        return self._after_fetch(kid, alg, flight)

    # -- lifecycle and reporting

    def warm(self) -> bool:
        """Fetch the key set now unless fresh keys are cached; ``True`` when keys are usable.

        Meant for start-up. A failure does not raise: it is reported by a
        ``jwks_fetch_failed`` event and in :meth:`health`, and the next
        verification retries (after the backoff).
        """
        generation = self._generation
        if self._fresh():
            return True
        flight, leader = self._join_flight(generation)
        if leader:
            self._lead(flight)
        else:
            flight.wait(self._wait_bound)
        return self._usable()

    async def awarm(self) -> bool:
        """Like :meth:`warm`, on the event loop."""
        generation = self._generation
        if self._fresh():
            return True
        flight, leader = self._join_flight(generation)
        if leader:
            self._spawn(flight)
        await flight.wait_async(self._wait_bound)
        return self._usable()

    def health(self) -> dict[str, Any]:
        """A snapshot for a readiness probe or an admin page.

        ``state`` is ``"cold"`` (nothing fetched yet), ``"ok"`` (keys cached
        and the last attempt succeeded, or they are within their TTL),
        ``"stale"`` (past their TTL, served because refreshing fails) or
        ``"unavailable"`` (nothing usable: verification answers 503).
        Times are Unix seconds from the injected clock.
        """
        now = self._clock()
        st = self._state
        if st.keys is None:
            status = "unavailable" if st.failures else "cold"
        elif st.failures == 0 or now < st.expires_at:
            status = "ok"
        elif now < st.stale_until:
            status = "stale"
        else:
            status = "unavailable"
        return {
            "state": status,
            "url": self.url,
            "issuer": self._issuer,
            "last_success": st.last_success,
            "age": None if st.last_success is None else max(0.0, now - st.last_success),
            "expires_in": None if st.keys is None else st.expires_at - now,
            "kids": sorted(st.by_kid),
            "last_error": st.last_error,
            "failures": st.failures,
            "retry_in": max(0.0, st.next_attempt - now) if st.failures else None,
        }

    @property
    def url(self) -> str | None:
        """The JWKS URL: as configured, or the discovered ``jwks_uri`` (``None`` before)."""
        if self._url is not None:
            return self._url
        discovered = self._discovered
        return discovered.jwks_uri if discovered is not None else None

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
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

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
        with self._lock:
            aclient = self._async_clients.pop(loop, None)
            client, self._client = self._client, None
        if aclient is not None:
            await aclient.aclose()
        if client is not None:
            client.close()

    def __repr__(self) -> str:
        if self._issuer is not None:
            return f"RemoteJWKS.from_issuer({self._issuer!r})"
        return f"RemoteJWKS({self._url!r})"

    # -- decisions shared by the sync and async paths

    def _fresh(self) -> bool:
        return self._state.keys is not None and self._clock() < self._state.refresh_at

    def _usable(self) -> bool:
        return self._state.keys is not None and self._clock() < self._state.stale_until

    def _plan(self, kid: str | None, alg: str) -> tuple[VerificationKey | None, bool]:
        """``(key, refresh_in_background)`` from the cache, or ``(None, _)``: fetch and wait.

        Raises without any network access when the answer is known: the
        kid is unknown within the cooldown (``UnknownKid``), or a fetch
        would be needed during the backoff (``KeySourceUnavailable``).
        """
        now = self._clock()
        st = self._state
        if st.keys is not None and now < st.stale_until:
            key = select_key(st.keys, st.by_kid, kid, alg)
            if key is not None:
                if now >= st.expires_at and st.failures and not st.stale_reported:
                    self._report_stale(now)
                refresh = (
                    now >= st.refresh_at and now >= st.next_attempt and not self._flight_active()
                )
                return key, refresh
            if now < st.cooldown_until:
                events.emit(
                    "jwks_cooldown",
                    reason="unknown_kid",
                    message="unknown kid within the refetch cooldown; not fetching the JWKS",
                    url=self.url,
                    kid=short(kid) if kid is not None else None,
                    retry_in=round(st.cooldown_until - now, 3),
                )
                raise UnknownKid("no key matches the token's kid (refetch cooldown)")
        if now < st.next_attempt:
            raise self._unavailable(now, st)
        return None, False

    def _after_fetch(self, kid: str | None, alg: str, flight: _Flight) -> VerificationKey:
        now = self._clock()
        st = self._state
        if st.keys is not None and now < st.stale_until:
            key = select_key(st.keys, st.by_kid, kid, alg)
            if key is not None:
                return key
            if flight.done and flight.ok:
                raise UnknownKid()
        raise self._unavailable(now, st)

    def _unavailable(self, now: float, st: _State) -> KeySourceUnavailable:
        wait = st.next_attempt - now if st.next_attempt > now else self._wait_bound
        detail = "the key set cannot be fetched"
        if st.last_error:
            detail += f" ({st.last_error})"
        return KeySourceUnavailable(detail, retry_after=math.ceil(wait))

    def _report_stale(self, now: float) -> None:
        with self._lock:
            st = self._state
            # Re-checked under the lock: a refresh may have succeeded since
            # the caller looked, and marking a fresh state would silence the
            # next outage's event.
            if st.stale_reported or not st.failures or now < st.expires_at:
                return
            self._state = replace(st, stale_reported=True)
        events.emit(
            "jwks_stale",
            level=logging.WARNING,
            reason="key_source_unavailable",
            message="serving cached JWKS keys past their expiry because refreshing fails",
            url=self.url,
            expired_for=round(now - st.expires_at, 3),
            stale_until=st.stale_until,
            last_error=st.last_error,
        )

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

    def _lead(self, flight: _Flight) -> None:
        ok = False
        started = time.perf_counter()
        try:
            jwks_url = self._jwks_url_sync()
            response = self._exchange_sync(jwks_url, self._etag_for(jwks_url), _ACCEPT)
            self._accept_jwks(response, started)
            ok = True
        except FetchError as exc:
            self._record_failure(exc)
        except Exception as exc:
            logger.exception("unexpected error while fetching the JWKS")
            self._record_failure(FetchError("internal_error", type(exc).__name__))
        finally:
            self._end_flight(flight, ok)

    async def _alead(self, flight: _Flight) -> None:
        ok = False
        started = time.perf_counter()
        try:
            jwks_url = await self._jwks_url_async()
            response = await self._exchange_async(jwks_url, self._etag_for(jwks_url), _ACCEPT)
            self._accept_jwks(response, started)
            ok = True
        except FetchError as exc:
            self._record_failure(exc)
        except Exception as exc:  # CancelledError is not an Exception: it propagates
            logger.exception("unexpected error while fetching the JWKS")
            self._record_failure(FetchError("internal_error", type(exc).__name__))
        finally:
            self._end_flight(flight, ok)

    def _etag_for(self, url: str) -> str | None:
        st = self._state
        # A validator belongs to the URL that sent it, and a 304 is only
        # useful when the keys it refers to are still held.
        return st.etag if st.keys is not None and st.etag_url == url else None

    # -- applying results

    def _accept_jwks(self, response: _Response, started: float) -> None:
        now = self._clock()
        previous = self._state
        ttl = ttl_from_headers(response.headers, min_ttl=self._min_ttl, max_ttl=self._max_ttl)
        if response.status == 304:
            if response.sent_etag is None or previous.keys is None:
                raise FetchError("unexpected_304", "304 Not Modified to an unconditional request")
            keys = previous.keys
            skipped = previous.skipped
            etag = response.headers.get("etag") or previous.etag
        else:
            # Skipped keys are reported once per URL, not on every refresh.
            reported = previous.skipped if previous.last_url == response.url else frozenset()
            parsed = parse_jwks(
                response.body, url=response.url, max_keys=self._max_keys, already_skipped=reported
            )
            keys = parsed.keys
            skipped = parsed.skipped
            etag = response.headers.get("etag")
        ahead = min(self._refresh_ahead, ttl / 2)
        state = _State(
            keys=keys,
            by_kid=MappingProxyType({k.kid: k for k in keys if k.kid is not None}),
            last_success=now,
            expires_at=now + ttl,
            refresh_at=now + ttl - ahead,
            stale_until=now + ttl + self._stale_ttl,
            cooldown_until=now + self._cooldown,
            etag=etag,
            etag_url=response.url if etag else None,
            last_url=response.url,
            skipped=skipped,
        )
        with self._lock:
            self._state = state
        events.emit(
            "jwks_fetch_ok",
            level=logging.DEBUG if response.status == 304 else logging.INFO,
            message="JWKS fetched" if response.status == 200 else "JWKS not modified",
            url=response.url,
            status=response.status,
            latency_ms=round((time.perf_counter() - started) * 1000, 3),
            keys=len(keys),
            ttl=ttl,
        )
        if previous.keys is not None:
            before, after = set(previous.by_kid), set(state.by_kid)
            if before != after:
                events.emit(
                    "jwks_keys_changed",
                    message="the remote key set changed",
                    url=response.url,
                    added=sorted(after - before),
                    removed=sorted(before - after),
                )

    def _record_failure(self, exc: FetchError) -> None:
        now = self._clock()
        with self._lock:
            st = self._state
            failures = st.failures + 1
            delay = backoff_delay(failures, hint=exc.retry_after)
            stale = st.keys is not None and st.expires_at <= now < st.stale_until
            new = replace(
                st,
                failures=failures,
                next_attempt=now + delay,
                last_error=f"{exc.reason}: {exc.message}",
                stale_reported=st.stale_reported or stale,
            )
            self._state = new
        events.emit(
            "jwks_fetch_failed",
            level=logging.WARNING,
            reason=exc.reason,
            message=f"JWKS fetch failed: {exc.message}",
            url=exc.url or self.url or self._discovery_url,
            error=exc.message,
            failures=failures,
            retry_in=round(delay, 3),
            serving_cached=st.keys is not None and now < st.stale_until,
        )
        if stale and not st.stale_reported:
            events.emit(
                "jwks_stale",
                level=logging.WARNING,
                reason="key_source_unavailable",
                message="serving cached JWKS keys past their expiry because refreshing fails",
                url=self.url,
                expired_for=round(now - st.expires_at, 3),
                stale_until=st.stale_until,
                last_error=new.last_error,
            )

    # -- discovery

    def _discovery_plan(self) -> tuple[str | None, str | None]:
        """``(jwks_uri, None)`` when the cached document is fresh, else ``(None, etag)``."""
        discovered = self._discovered
        if discovered is not None and self._clock() < discovered.expires_at:
            return discovered.jwks_uri, None
        return None, discovered.etag if discovered is not None else None

    def _accept_discovery(self, response: _Response) -> str:
        assert self._issuer is not None
        now = self._clock()
        previous = self._discovered
        ttl = ttl_from_headers(response.headers, min_ttl=self._min_ttl, max_ttl=self._max_ttl)
        if response.status == 304:
            if previous is None or response.sent_etag is None:
                raise FetchError("unexpected_304", "304 Not Modified to an unconditional request")
            jwks_uri = previous.jwks_uri
            etag = response.headers.get("etag") or previous.etag
        else:
            jwks_uri = parse_discovery(
                response.body, issuer=self._issuer, allow_http=self._allow_http
            )
            etag = response.headers.get("etag")
        if previous is not None and previous.jwks_uri != jwks_uri:
            logger.info("the discovery document now names jwks_uri %s", jwks_uri)
        self._discovered = _Discovered(
            jwks_uri=jwks_uri,
            expires_at=now + ttl,
            stale_until=now + ttl + self._stale_ttl,
            etag=etag,
        )
        return jwks_uri

    def _discovery_failed(self, exc: FetchError) -> str:
        """Keep using the last jwks_uri within the stale bound, like the keys themselves."""
        discovered = self._discovered
        if discovered is None or self._clock() >= discovered.stale_until:
            raise exc
        events.emit(
            "jwks_fetch_failed",
            level=logging.WARNING,
            reason=exc.reason,
            message=f"discovery document fetch failed, using the last jwks_uri: {exc.message}",
            url=self._discovery_url,
            document="discovery",
        )
        return discovered.jwks_uri

    def _jwks_url_sync(self) -> str:
        if self._url is not None:
            return self._url
        assert self._discovery_url is not None
        jwks_uri, etag = self._discovery_plan()
        if jwks_uri is not None:
            return jwks_uri
        try:
            response = self._exchange_sync(self._discovery_url, etag, _DISCOVERY_ACCEPT)
            return self._accept_discovery(response)
        except FetchError as exc:
            return self._discovery_failed(exc)

    async def _jwks_url_async(self) -> str:
        if self._url is not None:
            return self._url
        assert self._discovery_url is not None
        jwks_uri, etag = self._discovery_plan()
        if jwks_uri is not None:
            return jwks_uri
        try:
            response = await self._exchange_async(self._discovery_url, etag, _DISCOVERY_ACCEPT)
            return self._accept_discovery(response)
        except FetchError as exc:
            return self._discovery_failed(exc)

    # -- HTTP (the only I/O; everything it decides is in _remote_policy)

    def _client_options(self) -> dict[str, Any]:
        return {
            "timeout": httpx.Timeout(self._timeout),
            "follow_redirects": False,
            "verify": self._verify,
            "limits": httpx.Limits(max_connections=10, max_keepalive_connections=2),
            "headers": {"User-Agent": _USER_AGENT},
        }

    def _sync_client(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(**self._client_options())
            return self._client

    def _async_client(self) -> httpx.AsyncClient:
        # An AsyncClient's connections belong to the loop that opened them,
        # so each loop gets its own client; those of closed loops are dropped.
        loop = asyncio.get_running_loop()
        with self._lock:
            for old in [lp for lp in self._async_clients if lp.is_closed()]:
                del self._async_clients[old]
            client = self._async_clients.get(loop)
            if client is None:
                client = self._async_clients[loop] = httpx.AsyncClient(**self._client_options())
            return client

    def _request_headers(self, etag: str | None, accept: str) -> dict[str, str]:
        headers = {"Accept": accept}
        if etag is not None:
            headers["If-None-Match"] = etag
        return headers

    def _check_response_head(self, response: httpx.Response) -> None:
        if response.status_code != 200:
            raise FetchError(
                "http_status",
                f"HTTP {response.status_code}",
                retry_after=retry_after_seconds(response.headers.get("retry-after")),
            )
        check_content_type(response.headers.get("content-type"))
        length = response.headers.get("content-length")
        if length is not None and length.strip().isdigit() and int(length) > self._max_bytes:
            raise FetchError(
                "too_large", f"the response is {int(length)} bytes; the limit is {self._max_bytes}"
            )

    def _on_head(
        self, response: httpx.Response, url: str, etag: str | None
    ) -> str | _Response | None:
        """The decision both exchanges make on a response's head.

        A redirect gives the next URL (same origin only), a 304 to a
        conditional request gives the result, anything else is checked
        (status, content type, declared length) and ``None`` says: read the body.
        """
        if response.status_code in _REDIRECT_STATUSES:
            return check_redirect(
                url, response.headers.get("location"), allow_http=self._allow_http
            )
        if response.status_code == 304 and etag is not None:
            return _Response(304, response.headers, b"", url, etag)
        self._check_response_head(response)
        return None

    def _exchange_sync(self, url: str, etag: str | None, accept: str) -> _Response:
        client = self._sync_client()
        headers = self._request_headers(etag, accept)
        deadline = time.monotonic() + self._timeout
        for _ in range(MAX_REDIRECTS + 1):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _at(FetchError("timeout", "the time budget ran out"), url)
            try:
                with client.stream(
                    "GET", url, headers=headers, timeout=httpx.Timeout(remaining)
                ) as response:
                    step = self._on_head(response, url, etag)
                    if isinstance(step, str):
                        url = step
                        continue
                    if step is not None:
                        return step
                    body = _Body(self._max_bytes)
                    for chunk in response.iter_bytes():
                        body.add(chunk)
                        if time.monotonic() > deadline:
                            raise FetchError("timeout", "the body did not arrive in time")
                    return _Response(200, response.headers, body.data(), url, etag)
            except FetchError as exc:
                raise _at(exc, url) from None
            except httpx.HTTPError as exc:
                raise _at(_classify(exc), url) from None
        raise _at(FetchError("too_many_redirects", f"more than {MAX_REDIRECTS} redirects"), url)

    async def _exchange_async(self, url: str, etag: str | None, accept: str) -> _Response:
        try:
            return await asyncio.wait_for(
                self._exchange_async_inner(url, etag, accept), self._timeout
            )
        except asyncio.TimeoutError:
            raise _at(FetchError("timeout", "the time budget ran out"), url) from None

    async def _exchange_async_inner(self, url: str, etag: str | None, accept: str) -> _Response:
        client = self._async_client()
        headers = self._request_headers(etag, accept)
        for _ in range(MAX_REDIRECTS + 1):
            try:
                async with client.stream("GET", url, headers=headers) as response:
                    step = self._on_head(response, url, etag)
                    if isinstance(step, str):
                        url = step
                        continue
                    if step is not None:
                        return step
                    body = _Body(self._max_bytes)
                    async for chunk in response.aiter_bytes():
                        body.add(chunk)
                    return _Response(200, response.headers, body.data(), url, etag)
            except FetchError as exc:
                raise _at(exc, url) from None
            except httpx.HTTPError as exc:
                raise _at(_classify(exc), url) from None
        raise _at(FetchError("too_many_redirects", f"more than {MAX_REDIRECTS} redirects"), url)


class _Body:
    """A response body read in chunks, refused as soon as it passes ``limit`` bytes."""

    __slots__ = ("chunks", "limit", "size")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.size = 0
        self.chunks: list[bytes] = []

    def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.limit:
            raise FetchError("too_large", f"the response is over the limit of {self.limit} bytes")
        self.chunks.append(chunk)

    def data(self) -> bytes:
        return b"".join(self.chunks)


def _at(exc: FetchError, url: str) -> FetchError:
    """Attach the URL a failure happened at, for the event (first one wins)."""
    if exc.url is None:
        exc.url = url
    return exc
