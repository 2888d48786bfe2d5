"""Revocation at memory speed on Redis: a local mirror kept fresh by Redis itself.

:class:`RedisRevocationMirror` wraps a
:class:`~jwt_guard_core.sessions.RedisSessionStore` and answers
``revocation_state`` from a copy of every revocation entry (the ``jti``,
session and signing-key denylists, the per-subject "revoked before" times
and the emergency epoch) held in this process, instead of one Redis round
trip per request.

How the copy stays fresh. A dedicated connection turns on Redis client-side
caching in broadcast mode for the revocation keys (``CLIENT TRACKING ON
BCAST PREFIX ...``, RESP3): whoever writes one of them, any process, any
client, Redis pushes its name on that connection. Every ``refresh`` seconds
(a quarter of ``max_staleness``) the mirror sends ``ROLE`` there and,
once the answer is back, re-reads (on the same connection) the keys whose
invalidations came before it. Redis queues a write's invalidation before
the write's reply reaches its writer, so an answer to a command sent at time
``t`` proves that every revocation completed before ``t`` has been applied:
``t`` becomes the mirror's confirmed time. The answer must say the server is
the primary: after a Sentinel failover the connection may still reach the
old primary, a replica that answers but may never see another write, so the
mirror drops it, counts as unavailable and reconnects to the new primary
(reloading everything).

The bound. An answer is given from memory only while the confirmed time is
at most ``max_staleness`` seconds old (default 1 s): a revocation made
anywhere is refused everywhere within that bound. When freshness cannot be
confirmed (Redis down, the connection lost, the refresh thread stalled)
``revocation_state`` raises
:class:`~jwt_guard_core.sessions.StoreUnavailable` without any I/O, and
:class:`~jwt_guard_core.sessions.RevocationService` fails closed (503)
unless told to fail open. The thread reconnects and reloads the whole copy.

Writes go to Redis through the wrapped store and are applied to the local
copy at once, so a process sees its own revocations immediately.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from typing import Any

import redis
from redis.exceptions import RedisError

from ..errors import ConfigurationError
from .errors import StoreUnavailable
from .redis import RedisSessionStore
from .revocation import (
    DEFAULT_MAX_STALENESS,
    REFRESHES_PER_BOUND,
    RevocationState,
    check_max_staleness,
)

__all__ = ["RedisRevocationMirror"]

logger = logging.getLogger("jwt_guard.sessions")

# The kinds of revocation key, as RedisSessionStore names them ("epoch" is
# one key, the others a prefix followed by a name).
_KINDS = ("deny", "denysid", "denykid", "sub")
_GLOB_SPECIALS = str.maketrans({c: f"\\{c}" for c in "*?[]\\"})


def _number(value: bytes | str | None) -> float | None:
    if value is None or value == b"":
        return None
    try:
        return float(value)
    except ValueError:
        return None


class _Copy:
    """The mirrored entries and the freshness they were confirmed at. No I/O here."""

    def __init__(self) -> None:
        self.values: dict[bytes, float] = {}
        # Monotonic time of the ROLE whose answer confirmed every write before it.
        self.confirmed_at = -math.inf

    def replace(self, values: dict[bytes, float], confirmed_at: float) -> None:
        self.values = values
        self.confirmed_at = confirmed_at

    def apply(self, names: Iterable[bytes], values: Iterable[bytes | str | None]) -> None:
        """Take Redis's current value of each name (``None``: the key is gone)."""
        for name, raw in zip(names, values, strict=True):
            number = _number(raw)
            if number is None:
                self.values.pop(name, None)
            else:
                self.values[name] = number

    def raise_to(self, name: bytes, value: float) -> None:
        """A local write: Redis keeps the larger time (see RedisSessionStore's _SET_MAX)."""
        current = self.values.get(name)
        if current is None or value > current:
            self.values[name] = value


class RedisRevocationMirror:
    """A :class:`~jwt_guard_core.sessions.RevocationStore` answering from memory, fed by Redis.

    Args:
        store: the :class:`~jwt_guard_core.sessions.RedisSessionStore`
            holding the revocation state (its client and prefix are used).
        max_staleness: the longest, in seconds, that an answer may lag a
            revocation made in another process (default 1 s; 0.05 to 60).
            Past it, reads fail closed until the mirror is fresh again.
        background: keep the mirror fresh from a daemon thread (default).
            ``False`` leaves it to explicit :meth:`sync` calls (tests, or an
            application with its own scheduler).
        monotonic: the clock staleness is measured with; inject one in tests.

    Give it to :class:`~jwt_guard_core.sessions.RevocationService` in place
    of the store: ``RevocationService(RedisRevocationMirror(store))``.
    Needs Redis 6 or later (client-side caching) and targets a single
    server, like the store.
    """

    #: Answers never block on I/O: the verifier's async path calls it inline.
    in_process = True
    #: Writes go to Redis: an async caller makes them in a worker thread.
    in_process_writes = False

    def __init__(
        self,
        store: RedisSessionStore,
        *,
        max_staleness: float = DEFAULT_MAX_STALENESS,
        background: bool = True,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not isinstance(store, RedisSessionStore):
            raise ConfigurationError("store", "give the RedisSessionStore to mirror")
        max_staleness = check_max_staleness(max_staleness)
        if not isinstance(background, bool):
            raise ConfigurationError("background", f"{background!r} is not True or False")
        if not callable(monotonic):
            raise ConfigurationError("monotonic", "must be a callable returning seconds")
        client = store._client
        if not isinstance(client, redis.Redis):
            # Broadcast tracking and the key layout below are a single server's
            # (or a Sentinel-managed primary's); a Cluster spreads both over nodes.
            raise ConfigurationError(
                "store",
                "the revocation mirror needs a single Redis server or a Sentinel-managed "
                "primary; a Redis Cluster is not supported (check revocation directly)",
            )
        self._store = store
        # The store's own client and key layout: the mirror reads what it writes.
        self._client: redis.Redis = client
        self._prefix: str = store._prefix
        self._max_staleness = max_staleness
        self.refresh = self._max_staleness / REFRESHES_PER_BOUND
        self._monotonic = monotonic
        self._copy = _Copy()
        self._sync_lock = threading.Lock()
        self._tracking: Any = None
        self._invalidated: list[bytes] = []
        self._reload = True
        self._stale_reported = False
        self._background = background
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        _instances.add(self)
        try:
            self.sync()
        except StoreUnavailable as exc:
            # A service may start while Redis is down: reads fail closed
            # until the refresh thread reaches it.
            logger.warning("revocation mirror not loaded yet: %s", exc)
        if background:
            self._start_thread()

    def __repr__(self) -> str:
        return f"RedisRevocationMirror({self._store!r}, max_staleness={self._max_staleness:g})"

    # -- freshness

    @property
    def fresh(self) -> bool:
        """Whether answers are within ``max_staleness`` of every revocation."""
        return self._monotonic() - self._copy.confirmed_at <= self._max_staleness

    def sync(self) -> None:
        """Bring the copy up to date now and confirm its freshness (one round trip or two).

        Raises :class:`~jwt_guard_core.sessions.StoreUnavailable` when Redis
        cannot be reached; the copy then goes stale within ``max_staleness``.
        """
        with self._sync_lock:
            try:
                self._sync()
            except (RedisError, OSError) as exc:
                self._disconnect()
                raise StoreUnavailable(
                    f"the revocation mirror cannot reach Redis ({type(exc).__name__})"
                ) from None

    def _sync(self) -> None:
        if self._tracking is None:
            self._connect()
        started = self._monotonic()
        # Invalidations Redis queued before this reply arrive ahead of it and
        # are collected by _on_invalidate. ROLE rather than PING: after a
        # failover this connection may still reach the old primary, now a
        # replica that answers but, cut off from the new one, never sees a
        # write; only a primary's answer confirms anything.
        role = self._command("ROLE")
        if not role or role[0] not in (b"master", "master"):
            raise redis.ConnectionError("the mirrored server is no longer the primary")
        names, self._invalidated = self._invalidated, []
        if self._reload:
            self._copy.replace(self._load_all(), started)
            self._reload = False
        else:
            if names:
                unique = list(dict.fromkeys(names))
                self._copy.apply(unique, self._command("MGET", *unique))
            self._copy.confirmed_at = started
        self._stale_reported = False

    def _command(self, *args: Any) -> Any:
        """One command on the tracking connection: the server whose role was confirmed.

        (The store's client pool may still hold a connection to an old
        primary after a failover, so values are read here too.)
        """
        self._tracking.send_command(*args)
        return self._tracking.read_response()

    def _connect(self) -> None:
        pool = self._client.connection_pool
        connection = pool.connection_class(**{**pool.connection_kwargs, "protocol": 3})
        connection.connect()
        # Private to redis-py's RESP3 parser, and the hook its own
        # client-side cache uses: push messages never reach read_response.
        connection._parser.set_invalidation_push_handler(self._on_invalidate)
        prefixes: list[str] = []
        for kind in _KINDS:
            prefixes += ["PREFIX", f"{self._prefix}:{kind}:"]
        prefixes += ["PREFIX", f"{self._prefix}:epoch"]
        connection.send_command("CLIENT", "TRACKING", "ON", "BCAST", *prefixes)
        if connection.read_response() != b"OK":
            connection.disconnect()
            raise redis.ConnectionError("CLIENT TRACKING was refused")
        self._tracking = connection
        self._invalidated = []
        # Everything written before tracking was on is read by the reload.
        self._reload = True

    def _on_invalidate(self, message: list[Any]) -> None:
        names = message[1] if len(message) > 1 else None
        if names is None:
            # FLUSHALL, FLUSHDB or a full tracking table: reload everything.
            self._reload = True
        else:
            self._invalidated.extend(names)

    def _load_all(self) -> dict[bytes, float]:
        prefix = self._prefix.translate(_GLOB_SPECIALS)
        names: list[bytes] = []
        for kind in _KINDS:
            cursor: bytes | int = 0
            while True:
                cursor, batch = self._command(
                    "SCAN", cursor, "MATCH", f"{prefix}:{kind}:*", "COUNT", 1000
                )
                names.extend(batch)
                if int(cursor) == 0:
                    break
        names.append(f"{self._prefix}:epoch".encode())
        values: dict[bytes, float] = {}
        for start in range(0, len(names), 1000):
            batch = names[start : start + 1000]
            for name, raw in zip(batch, self._command("MGET", *batch), strict=True):
                number = _number(raw)
                if number is not None:
                    values[name] = number
        return values

    def _disconnect(self) -> None:
        tracking, self._tracking = self._tracking, None
        if tracking is not None:
            with contextlib.suppress(RedisError, OSError):
                tracking.disconnect()

    # -- the refresh thread

    def _start_thread(self) -> None:
        self._stop = threading.Event()
        thread = threading.Thread(
            target=_refresh_loop,
            args=(weakref.ref(self), self._stop, self.refresh),
            name="jwt-guard-revocation-mirror",
            daemon=True,
        )
        self._thread = thread
        thread.start()

    def _refresh_once(self) -> None:
        try:
            self.sync()
        except StoreUnavailable as exc:
            if not self._stale_reported:
                self._stale_reported = True
                logger.warning("revocation mirror cannot refresh: %s", exc)
        except Exception:  # pragma: no cover - a bug must not end the thread
            logger.exception("revocation mirror refresh failed")

    def close(self) -> None:
        """Stop the refresh thread and close the tracking connection."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(self.refresh + 5)
        with self._sync_lock:
            self._disconnect()

    def _after_fork(self) -> None:
        # The parent's connection and thread are not this process's.
        self._sync_lock = threading.Lock()
        self._tracking = None
        self._copy.confirmed_at = -math.inf
        self._reload = True
        if self._background and not self._stop.is_set():
            self._start_thread()

    # -- RevocationStore: reads from memory

    def revocation_state(
        self,
        jti: str | None,
        subject: str | None,
        *,
        now: float,
        session: str | None = None,
        kid: str | None = None,
    ) -> RevocationState:
        copy = self._copy
        if self._monotonic() - copy.confirmed_at > self._max_staleness:
            raise StoreUnavailable(
                "the revocation mirror is not confirmed fresh (Redis unreachable or too slow)"
            )
        values = copy.values
        prefix = self._prefix
        denied = values.get(f"{prefix}:deny:{jti}".encode()) if jti else None
        session_until = values.get(f"{prefix}:denysid:{session}".encode()) if session else None
        kid_until = values.get(f"{prefix}:denykid:{kid}".encode()) if kid else None
        return RevocationState(
            jti_denied=denied is not None and denied > now,
            session_denied=session_until is not None and session_until > now,
            key_denied=kid_until is not None and kid_until > now,
            subject_revoked_before=(
                values.get(f"{prefix}:sub:{subject}".encode()) if subject else None
            ),
            emergency_epoch=values.get(f"{prefix}:epoch".encode()),
        )

    # -- RevocationStore: writes go to Redis, then to the copy

    def deny_jti(self, jti: str, *, expires_at: float, now: float) -> None:
        self._store.deny_jti(jti, expires_at=expires_at, now=now)
        self._copy.raise_to(f"{self._prefix}:deny:{jti}".encode(), expires_at)

    def deny_session(self, session_id: str, *, expires_at: float, now: float) -> None:
        self._store.deny_session(session_id, expires_at=expires_at, now=now)
        self._copy.raise_to(f"{self._prefix}:denysid:{session_id}".encode(), expires_at)

    def deny_kid(self, kid: str, *, expires_at: float, now: float) -> None:
        self._store.deny_kid(kid, expires_at=expires_at, now=now)
        self._copy.raise_to(f"{self._prefix}:denykid:{kid}".encode(), expires_at)

    def revoke_subject_before(self, subject: str, before: float) -> None:
        self._store.revoke_subject_before(subject, before)
        self._copy.raise_to(f"{self._prefix}:sub:{subject}".encode(), before)

    def set_emergency_epoch(self, epoch: float) -> None:
        self._store.set_emergency_epoch(epoch)
        self._copy.raise_to(f"{self._prefix}:epoch".encode(), epoch)


_instances: weakref.WeakSet[RedisRevocationMirror] = weakref.WeakSet()


def _refresh_loop(
    ref: weakref.ReferenceType[RedisRevocationMirror], stop: threading.Event, every: float
) -> None:
    # Holds the mirror only while refreshing it: a mirror dropped without
    # close() (settings rebuilt, an app discarded) ends its thread.
    while not stop.wait(every):
        mirror = ref()
        if mirror is None:
            return
        mirror._refresh_once()
        del mirror


def _after_fork_in_child() -> None:
    for mirror in list(_instances):
        mirror._after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
