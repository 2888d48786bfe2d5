"""The decisions of a remote key set, without I/O: what to fetch, when, and what came back means.

:class:`KeySetCache` holds the cached keys (and the discovered
``jwks_uri``) and decides everything a :class:`~jwt_guard_core.remote.RemoteJWKS`
does: serve from the cache or fetch, refresh ahead, the unknown-kid cooldown,
the backoff after failures, stale-if-error, the TTL and ETag of a response,
the discovery document's checks. A fetch is the generator :meth:`KeySetCache.fetch`:
it yields the :class:`~jwt_guard_core._remote_exchange.Exchange` objects to
perform, one after the other, and is sent each one's response (or thrown its
error). Whoever performs them, a thread or a task, never decides anything.

With a shared cache (:mod:`jwt_guard_core.shared_jwks`) the fetch also
yields :class:`~jwt_guard_core.shared_jwks.SharedStep` objects: calls to the
shared store, which the driver runs (in a thread for async callers) and
answers with their result.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from . import events
from ._remote_exchange import DISCOVERY_ACCEPT, JWKS_ACCEPT, Exchange, Response
from ._remote_policy import (
    FetchError,
    backoff_delay,
    parse_discovery,
    parse_jwks,
    short,
    ttl_from_headers,
)
from .errors import KeySourceUnavailable, UnknownKid
from .keys import VerificationKey, select_key
from .shared_jwks import SharedCopy, SharedFailure, SharedStep, new_owner, wait_for_copy

if TYPE_CHECKING:
    from .shared_jwks import SharedJWKSCache

__all__ = ["CacheOptions", "Fetch", "KeySetCache"]

logger = logging.getLogger("jwt_guard.remote")

# How much longer than its own time budget a caller waits for a fetch led by
# someone else before giving up with KeySourceUnavailable.
_WAIT_MARGIN = 1.0

# A fetch: yields exchanges (and shared-store steps) to perform, is sent
# their responses (results), returns success.
Fetch = Generator[Exchange | SharedStep, Any, bool]


@dataclass(frozen=True)
class CacheOptions:
    """The validated options of a RemoteJWKS (see its docstring)."""

    url: str | None
    discovery_url: str | None
    issuer: str | None
    min_ttl: float
    max_ttl: float
    stale_ttl: float
    cooldown: float
    timeout: float
    max_bytes: int
    max_keys: int
    allow_http: bool
    refresh_ahead: float
    clock: Callable[[], float]
    shared: SharedJWKSCache | None = None
    #: How long the shared fetch lock is held at most (``None``: one fetch's time budget).
    shared_lock: float | None = None


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
    # What a shared cache needs to pass the set on: the body and its TTL.
    body: bytes | None = None
    ttl: float = 0.0


@dataclass(frozen=True)
class _Discovered:
    """The cached OpenID Provider configuration: only its jwks_uri matters here."""

    jwks_uri: str
    expires_at: float
    stale_until: float
    etag: str | None


def _unchanged_or_new(
    before: Mapping[str, VerificationKey], key: VerificationKey
) -> VerificationKey:
    """The key already held for this kid when the provider still publishes it unchanged.

    A verifier's token cache reuses a token only while its key source
    returns the very key object that verified it, so a refetch that
    publishes the same keys must not make every cached token be verified
    again; a kid whose key or bindings changed gets the new object.
    """
    held = before.get(key.kid) if key.kid is not None else None
    if (
        held is not None
        and held.kty == key.kty
        and held.crv == key.crv
        and held.algorithms == key.algorithms
        and held.public_jwk is not None
        and held.public_jwk == key.public_jwk
    ):
        return held
    return key


class KeySetCache:
    """The cached key set of one RemoteJWKS and every decision about it."""

    def __init__(self, options: CacheOptions) -> None:
        self.options = options
        self._clock = options.clock
        exchanges = 2 if options.issuer is not None else 1
        # How long one fetch may take; with a shared cache a fetch may first
        # wait that long for another process's fetch.
        self._fetch_bound = options.timeout * exchanges + _WAIT_MARGIN
        shared = options.shared is not None
        self._lock_bound = options.shared_lock or self._fetch_bound
        self.wait_bound = self._fetch_bound + self._lock_bound if shared else self._fetch_bound
        self.lock = threading.Lock()
        self._state = _State()
        self._discovered: _Discovered | None = None

    @property
    def url(self) -> str | None:
        """The JWKS URL: as configured, or the discovered ``jwks_uri`` (``None`` before)."""
        if self.options.url is not None:
            return self.options.url
        discovered = self._discovered
        return discovered.jwks_uri if discovered is not None else None

    def after_fork(self) -> None:
        # A lock held by a parent thread at fork time would stay held forever.
        self.lock = threading.Lock()

    # -- serving

    def fresh(self) -> bool:
        """Keys are cached and not yet due for a refresh."""
        return self._state.keys is not None and self._clock() < self._state.refresh_at

    def usable(self) -> bool:
        """Keys are cached and within their stale bound."""
        return self._state.keys is not None and self._clock() < self._state.stale_until

    def plan(
        self, kid: str | None, alg: str, *, fetching: bool
    ) -> tuple[VerificationKey | None, bool]:
        """``(key, refresh_in_background)`` from the cache, or ``(None, _)``: fetch and wait.

        Raises without any network access when the answer is known: the
        kid is unknown within the cooldown (``UnknownKid``), or a fetch
        would be needed during the backoff (``KeySourceUnavailable``).
        ``fetching`` says a fetch is already under way.
        """
        now = self._clock()
        st = self._state
        if st.keys is not None and now < st.stale_until:
            key = select_key(st.keys, st.by_kid, kid, alg)
            if key is not None:
                if now >= st.expires_at and st.failures and not st.stale_reported:
                    self._report_stale(now)
                return key, now >= st.refresh_at and now >= st.next_attempt and not fetching
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

    def after_fetch(self, kid: str | None, alg: str, *, fetched: bool) -> VerificationKey:
        """The key once the awaited fetch ended (``fetched``: it succeeded)."""
        now = self._clock()
        st = self._state
        if st.keys is not None and now < st.stale_until:
            key = select_key(st.keys, st.by_kid, kid, alg)
            if key is not None:
                return key
            if fetched:
                raise UnknownKid()
        raise self._unavailable(now, st)

    def health(self) -> dict[str, Any]:
        """See :meth:`RemoteJWKS.health <jwt_guard_core.remote.RemoteJWKS.health>`."""
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
            "issuer": self.options.issuer,
            "last_success": st.last_success,
            "age": None if st.last_success is None else max(0.0, now - st.last_success),
            "expires_in": None if st.keys is None else st.expires_at - now,
            "kids": sorted(st.by_kid),
            "last_error": st.last_error,
            "failures": st.failures,
            "retry_in": max(0.0, st.next_attempt - now) if st.failures else None,
        }

    def _unavailable(self, now: float, st: _State) -> KeySourceUnavailable:
        wait = st.next_attempt - now if st.next_attempt > now else self.wait_bound
        detail = "the key set cannot be fetched"
        if st.last_error:
            detail += f" ({st.last_error})"
        return KeySourceUnavailable(detail, retry_after=math.ceil(wait))

    def _report_stale(self, now: float) -> None:
        with self.lock:
            st = self._state
            # Re-checked under the lock: a refresh may have succeeded since
            # the caller looked, and marking a fresh state would silence the
            # next outage's event.
            if st.stale_reported or not st.failures or now < st.expires_at:
                return
            self._state = replace(st, stale_reported=True)
        self._emit_stale(now, st)

    def _emit_stale(self, now: float, st: _State) -> None:
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

    # -- fetching

    def fetch(self) -> Fetch:
        """One fetch: the discovery document if due, then the key set.

        Never raises: a failure is recorded (event, backoff, ``health()``)
        and the generator returns ``False``.
        """
        started = time.perf_counter()
        try:
            jwks_url = yield from self._jwks_url()
            if self.options.shared is not None:
                return (yield from self._fetch_shared(self.options.shared, jwks_url, started))
            response = yield self._exchange(jwks_url, self._etag_for(jwks_url), JWKS_ACCEPT)
            self._accept_jwks(response, started)
            return True
        except FetchError as exc:
            self._record_failure(exc)
        except Exception as exc:  # CancelledError is not an Exception: it propagates
            logger.exception("unexpected error while fetching the JWKS")
            self._record_failure(FetchError("internal_error", type(exc).__name__))
        return False

    def _exchange(self, url: str, etag: str | None, accept: str) -> Exchange:
        o = self.options
        return Exchange(
            url,
            etag=etag,
            accept=accept,
            timeout=o.timeout,
            max_bytes=o.max_bytes,
            allow_http=o.allow_http,
        )

    def _etag_for(self, url: str) -> str | None:
        st = self._state
        # A validator belongs to the URL that sent it, and a 304 is only
        # useful when the keys it refers to are still held.
        return st.etag if st.keys is not None and st.etag_url == url else None

    def _accept_jwks(
        self, response: Response, started: float, *, shared: SharedCopy | None = None
    ) -> None:
        """Install a fetched key set, or (``shared``) one another process fetched.

        A shared copy's age counts: its TTL runs from when it was fetched,
        not from now, so it expires (and turns stale) when the original does.
        """
        o = self.options
        now = self._clock() if shared is None else shared.fetched_at
        previous = self._state
        if shared is None:
            ttl = ttl_from_headers(response.headers, min_ttl=o.min_ttl, max_ttl=o.max_ttl)
        else:
            ttl = min(max(shared.ttl, o.min_ttl), o.max_ttl)
        if response.status == 304:
            if response.sent_etag is None or previous.keys is None:
                raise FetchError("unexpected_304", "304 Not Modified to an unconditional request")
            keys = previous.keys
            skipped = previous.skipped
            etag = response.headers.get("etag") or previous.etag
            body = previous.body
        else:
            # Skipped keys are reported once per URL, not on every refresh.
            reported = previous.skipped if previous.last_url == response.url else frozenset()
            parsed = parse_jwks(
                response.body, url=response.url, max_keys=o.max_keys, already_skipped=reported
            )
            keys = tuple(_unchanged_or_new(previous.by_kid, key) for key in parsed.keys)
            skipped = parsed.skipped
            etag = response.headers.get("etag")
            body = response.body
        ahead = min(o.refresh_ahead, ttl / 2)
        state = _State(
            keys=keys,
            by_kid=MappingProxyType({k.kid: k for k in keys if k.kid is not None}),
            last_success=now,
            expires_at=now + ttl,
            refresh_at=now + ttl - ahead,
            stale_until=now + ttl + o.stale_ttl,
            cooldown_until=now + o.cooldown,
            etag=etag,
            etag_url=response.url if etag else None,
            last_url=response.url,
            skipped=skipped,
            body=body,
            ttl=ttl,
        )
        with self.lock:
            self._state = state
        if shared is not None:
            events.emit(
                "jwks_shared_copy_used",
                message="JWKS taken from the shared cache",
                url=response.url,
                age=round(self._clock() - shared.fetched_at, 3),
                keys=len(keys),
                ttl=ttl,
            )
        else:
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

    # -- the shared second-level cache

    def _fetch_shared(self, shared: SharedJWKSCache, url: str, started: float) -> Fetch:
        """Use a newer fresh shared copy; else fetch under the shared lock and share the result."""
        now = self._clock()
        mine = self._state.last_success
        newer_than = -math.inf if mine is None else mine
        copy = yield SharedStep(lambda: shared.read(url))
        if (
            isinstance(copy, SharedCopy)
            and copy.fetched_at > newer_than
            and now < self._refresh_at(copy)
            and self._adopt(copy, started)
        ):
            return True
        if isinstance(copy, SharedCopy):
            # Too old: wait for a copy newer than this one, not just than ours.
            newer_than = max(newer_than, copy.fetched_at)
        owner = new_owner()
        outcome, found = yield SharedStep(
            lambda: wait_for_copy(
                shared,
                url,
                newer_than=newer_than,
                since=now,
                owner=owner,
                lock_seconds=self._lock_bound,
                wait_seconds=self._lock_bound,
            ),
            fallback=("alone", None),
        )
        if outcome == "copy" and self._adopt(found, started):
            return True
        if outcome == "failed":
            # The leader failed a moment ago: share its backoff rather than
            # retrying at once from every process.
            self._stale_fallback(copy, started)
            self._record_failure(
                FetchError(
                    "shared_fetch_failed",
                    f"another instance's fetch failed ({found.error})",
                    retry_after=max(0.0, found.retry_at - self._clock()),
                )
            )
            return False
        try:
            response = yield self._exchange(url, self._etag_for(url), JWKS_ACCEPT)
            self._accept_jwks(response, started)
        except FetchError as exc:
            self._stale_fallback(copy, started)
            self._record_failure(exc)
            st = self._state
            error = st.last_error or exc.reason
            failure = SharedFailure(url, error, self._clock(), st.next_attempt)
            yield SharedStep(lambda: shared.write_failure(failure))
            if outcome == "lead":
                yield SharedStep(lambda: shared.unlock(url, owner))
            return False
        st = self._state
        if st.body is not None and st.last_success is not None:
            done = SharedCopy(url, st.body, st.etag, st.ttl, st.last_success)
            yield SharedStep(lambda: shared.write(done, keep=st.ttl + self.options.stale_ttl))
        if outcome == "lead":
            yield SharedStep(lambda: shared.unlock(url, owner))
        return True

    def _refresh_at(self, copy: SharedCopy) -> float:
        o = self.options
        ttl = min(max(copy.ttl, o.min_ttl), o.max_ttl)
        return copy.fetched_at + ttl - min(o.refresh_ahead, ttl / 2)

    def _adopt(self, copy: Any, started: float) -> bool:
        """Install a shared copy; ``False`` (and nothing changed) if it is not a good key set."""
        if not isinstance(copy, SharedCopy):
            return False
        response = Response(
            status=200,
            headers={"etag": copy.etag} if copy.etag else {},
            body=copy.body,
            url=copy.url,
            sent_etag=None,
        )
        try:
            self._accept_jwks(response, started, shared=copy)
        except FetchError as exc:
            logger.warning("ignoring a shared JWKS copy that does not parse (%s)", exc.reason)
            return False
        return True

    def _stale_fallback(self, copy: Any, started: float) -> None:
        """Stale-if-error across processes: a shared copy older than fresh still beats nothing."""
        st = self._state
        if (
            isinstance(copy, SharedCopy)
            and (st.last_success is None or copy.fetched_at > st.last_success)
            and self._clock() < copy.fetched_at + copy.ttl + self.options.stale_ttl
        ):
            self._adopt(copy, started)

    def _record_failure(self, exc: FetchError) -> None:
        now = self._clock()
        with self.lock:
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
            url=exc.url or self.url or self.options.discovery_url,
            error=exc.message,
            failures=failures,
            retry_in=round(delay, 3),
            serving_cached=st.keys is not None and now < st.stale_until,
        )
        if stale and not st.stale_reported:
            self._emit_stale(now, new)

    # -- discovery

    def _jwks_url(self) -> Generator[Exchange, Response, str]:
        """The JWKS URL: configured, cached from discovery, or discovered now."""
        o = self.options
        if o.url is not None:
            return o.url
        assert o.discovery_url is not None
        discovered = self._discovered
        if discovered is not None and self._clock() < discovered.expires_at:
            return discovered.jwks_uri
        etag = discovered.etag if discovered is not None else None
        try:
            response = yield self._exchange(o.discovery_url, etag, DISCOVERY_ACCEPT)
            return self._accept_discovery(response)
        except FetchError as exc:
            return self._discovery_failed(exc)

    def _accept_discovery(self, response: Response) -> str:
        o = self.options
        assert o.issuer is not None
        now = self._clock()
        previous = self._discovered
        ttl = ttl_from_headers(response.headers, min_ttl=o.min_ttl, max_ttl=o.max_ttl)
        if response.status == 304:
            if previous is None or response.sent_etag is None:
                raise FetchError("unexpected_304", "304 Not Modified to an unconditional request")
            jwks_uri = previous.jwks_uri
            etag = response.headers.get("etag") or previous.etag
        else:
            jwks_uri = parse_discovery(response.body, issuer=o.issuer, allow_http=o.allow_http)
            etag = response.headers.get("etag")
        if previous is not None and previous.jwks_uri != jwks_uri:
            logger.info("the discovery document now names jwks_uri %s", jwks_uri)
        self._discovered = _Discovered(
            jwks_uri=jwks_uri,
            expires_at=now + ttl,
            stale_until=now + ttl + o.stale_ttl,
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
            url=self.options.discovery_url,
            document="discovery",
        )
        return discovered.jwks_uri
