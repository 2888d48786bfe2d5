"""One JWKS fetch per fleet: a second-level key-set cache shared by processes.

A :class:`~jwt_guard_core.remote.RemoteJWKS` keeps its own in-memory cache
first. Given ``shared_cache=``, a process that needs the key set (cold start,
refresh due, unknown ``kid``) first reads the shared copy; if that copy is
newer than its own and still fresh, it uses it and fetches nothing. Otherwise
it takes the shared lock and fetches, and writes what it got (or its failure)
for the others; processes that find the lock taken wait for that copy instead
of fetching. So 16 workers started cold make one request to the provider,
and a rotation seen by one worker reaches the others without a request each.

The shared copy obeys the local rules: its age counts against the TTL the
fetching process computed (``Cache-Control``/``Expires`` within
``[min_ttl, max_ttl]``), it serves past expiry only within ``stale_ttl``
while fetching fails, and a failure recorded by the fetching process puts
every waiting process into the same backoff. Every key read from it passes
the same checks as a key fetched over HTTPS.

Two stores:

* :class:`RedisSharedJWKS`: for a fleet; the copy, the failure and the lock
  (``SET NX PX``) live under ``prefix``. Anyone who can write there can
  replace the keys your services trust: give it the same protection as the
  Redis key store.
* :class:`FileSharedJWKS`: for the processes of one host; a private
  directory (0700, owned by this user) holding the copy and an ``flock``
  lock file. POSIX only.

A shared store that fails (Redis down) never fails a verification: the
process falls back to fetching on its own, with a ``jwks_shared_unavailable``
event.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import logging
import os
import secrets
import stat
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol, runtime_checkable

from . import events
from .errors import ConfigurationError

__all__ = [
    "FileSharedJWKS",
    "RedisSharedJWKS",
    "SharedCopy",
    "SharedFailure",
    "SharedJWKSCache",
]

logger = logging.getLogger("jwt_guard.remote")

# How often a waiting process looks for the leader's copy (real time): soon
# at first, then less often, so a crowd of waiters does not load the store.
_POLL_FIRST = 0.01
_POLL_MAX = 0.2


@dataclass(frozen=True)
class SharedCopy:
    """A key set as one process fetched it: the body, its TTL and when (injected clock)."""

    url: str
    body: bytes
    etag: str | None
    ttl: float
    fetched_at: float


@dataclass(frozen=True)
class SharedFailure:
    """A failed fetch, so that others wait out the same backoff instead of retrying."""

    url: str
    error: str
    failed_at: float
    retry_at: float


@runtime_checkable
class SharedJWKSCache(Protocol):
    """Where processes share a key set. Times are the key sources' injected clock."""

    def read(self, url: str) -> SharedCopy | None: ...

    def read_failure(self, url: str) -> SharedFailure | None: ...

    def write(self, copy: SharedCopy, *, keep: float) -> None:
        """Store ``copy`` for ``keep`` seconds (its TTL plus the stale bound)."""

    def write_failure(self, failure: SharedFailure) -> None: ...

    def try_lock(self, url: str, owner: str, *, seconds: float) -> bool:
        """Take the fetch lock of ``url`` for at most ``seconds``; ``False`` if held."""

    def unlock(self, url: str, owner: str) -> None: ...


# --- what RemoteJWKS's fetch asks its driver to do ------------------------------


class SharedStep:
    """One call to the shared store, performed by the driver (a thread for async callers).

    It never raises: a failing store is reported once per outage and answered
    as "nothing shared" (``fallback``), so the process fetches on its own.
    """

    def __init__(self, action: Callable[[], Any], *, fallback: Any = None) -> None:
        self._action = action
        self._fallback = fallback

    def run(self) -> Any:
        try:
            return self._action()
        except Exception as exc:
            events.emit(
                "jwks_shared_unavailable",
                level=logging.WARNING,
                reason="shared_cache_unavailable",
                message="the shared JWKS cache failed; fetching without it",
                error=type(exc).__name__,
            )
            return self._fallback


def wait_for_copy(
    store: SharedJWKSCache,
    url: str,
    *,
    newer_than: float,
    since: float,
    owner: str,
    lock_seconds: float,
    wait_seconds: float,
) -> tuple[str, Any]:
    """Until one of these happens (bounded by ``wait_seconds`` of real time):

    ``("copy", SharedCopy)`` another process wrote a copy newer than ``newer_than``;
    ``("failed", SharedFailure)`` it recorded a failure at or after ``since``;
    ``("lead", None)`` this process took the lock and must fetch;
    ``("timeout", None)`` none of these.
    """
    deadline = time.monotonic() + wait_seconds
    pause = _POLL_FIRST
    while True:
        copy = store.read(url)
        if copy is not None and copy.fetched_at > newer_than:
            return "copy", copy
        failure = store.read_failure(url)
        if failure is not None and failure.failed_at >= since:
            return "failed", failure
        if store.try_lock(url, owner, seconds=lock_seconds):
            # The leader before us may have written its copy and unlocked
            # between our read and our lock: read once more, under the lock.
            copy = store.read(url)
            if copy is not None and copy.fetched_at > newer_than:
                store.unlock(url, owner)
                return "copy", copy
            return "lead", None
        if time.monotonic() >= deadline:
            return "timeout", None
        time.sleep(pause)
        pause = min(pause * 2, _POLL_MAX)


def new_owner() -> str:
    return secrets.token_hex(8)


# --- encoding -------------------------------------------------------------------


def _digest(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:32]


def _dump_copy(copy: SharedCopy) -> bytes:
    return json.dumps(
        {
            "url": copy.url,
            "body": base64.b64encode(copy.body).decode("ascii"),
            "etag": copy.etag,
            "ttl": copy.ttl,
            "fetched_at": copy.fetched_at,
        }
    ).encode()


def _load_copy(raw: bytes | None, url: str) -> SharedCopy | None:
    """The copy of ``url``, or ``None`` for nothing, another URL or anything malformed."""
    if not raw:
        return None
    try:
        doc = json.loads(raw)
        copy = SharedCopy(
            url=str(doc["url"]),
            body=base64.b64decode(doc["body"], validate=True),
            etag=doc["etag"] if isinstance(doc.get("etag"), str) else None,
            ttl=float(doc["ttl"]),
            fetched_at=float(doc["fetched_at"]),
        )
    except (ValueError, TypeError, KeyError):
        return None
    # A digest collision or a copy written for another URL is not this set.
    return copy if copy.url == url and copy.ttl >= 0 else None


def _dump_failure(failure: SharedFailure) -> bytes:
    return json.dumps(
        {
            "url": failure.url,
            "error": failure.error,
            "failed_at": failure.failed_at,
            "retry_at": failure.retry_at,
        }
    ).encode()


def _load_failure(raw: bytes | None, url: str) -> SharedFailure | None:
    if not raw:
        return None
    try:
        doc = json.loads(raw)
        failure = SharedFailure(
            url=str(doc["url"]),
            error=str(doc["error"])[:200],
            failed_at=float(doc["failed_at"]),
            retry_at=float(doc["retry_at"]),
        )
    except (ValueError, TypeError, KeyError):
        return None
    return failure if failure.url == url else None


# --- Redis ----------------------------------------------------------------------

_UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisSharedJWKS:
    """The shared key-set cache in Redis (a client or URL as for the Redis stores).

    Args:
        client: ``redis.Redis``, ``RedisCluster``, a Sentinel-managed client
            or a URL (``redis://``, ``redis+cluster://``, ``redis+sentinel://``).
        prefix: key prefix (``{prefix}:<url digest>:copy`` / ``:failed`` / ``:lock``).
        clock: the key sources' clock (Unix seconds): it turns the failure
            record's ``retry_at`` into a Redis TTL.
        breaker: a :class:`~jwt_guard_core.breaker.CircuitBreaker` (default:
            5 failures, 5 s cool-down).
    """

    def __init__(
        self,
        client: Any,
        *,
        prefix: str = "jwt_guard:jwks",
        clock: Callable[[], float] = time.time,
        breaker: Any = None,
    ) -> None:
        from ._redis import Gateway, KeySpace, connect, is_cluster

        client = connect(client, setting="shared_cache")
        if not isinstance(prefix, str) or not prefix:
            raise ConfigurationError("prefix", "must be a non-empty string")
        self._client = client
        self._prefix = prefix
        self._keys = KeySpace(prefix, cluster=is_cluster(client))
        self._clock = clock
        self._redis = Gateway(
            client,
            label="shared JWKS cache",
            name="jwks",
            unavailable=RuntimeError,
            breaker=breaker,
        )
        self._unlock = client.register_script(_UNLOCK)

    def __repr__(self) -> str:
        return f"RedisSharedJWKS(prefix={self._prefix!r})"

    @property
    def breaker(self) -> Any:
        """The cache's circuit breaker (its ``state`` is for health checks)."""
        return self._redis.breaker

    def ping(self) -> str | None:
        """``None`` when Redis answers; else why not (for health checks)."""
        return self._redis.ping()

    def _key(self, url: str, kind: str) -> str:
        # On a Cluster, a URL's keys share a slot of their own.
        return f"{self._keys.alone('url', _digest(url))}:{kind}"

    def read(self, url: str) -> SharedCopy | None:
        return _load_copy(self._redis.run(lambda: self._client.get(self._key(url, "copy"))), url)

    def read_failure(self, url: str) -> SharedFailure | None:
        raw = self._redis.run(lambda: self._client.get(self._key(url, "failed")))
        return _load_failure(raw, url)

    def write(self, copy: SharedCopy, *, keep: float) -> None:
        seconds = max(1, round(keep))
        self._redis.run(
            lambda: self._client.set(self._key(copy.url, "copy"), _dump_copy(copy), ex=seconds)
        )

    def write_failure(self, failure: SharedFailure) -> None:
        seconds = max(1, round(failure.retry_at - self._clock()))
        self._redis.run(
            lambda: self._client.set(
                self._key(failure.url, "failed"), _dump_failure(failure), ex=seconds
            )
        )

    def try_lock(self, url: str, owner: str, *, seconds: float) -> bool:
        milliseconds = max(1, round(seconds * 1000))
        return bool(
            self._redis.run(
                lambda: self._client.set(self._key(url, "lock"), owner, nx=True, px=milliseconds)
            )
        )

    def unlock(self, url: str, owner: str) -> None:
        self._redis.run(lambda: self._unlock(keys=[self._key(url, "lock")], args=[owner]))


# --- a file, for one host -------------------------------------------------------


class FileSharedJWKS:
    """The shared key-set cache in a private directory, for the processes of one host.

    The directory is created 0700 if missing; an existing one must belong to
    this user and be writable by nobody else (whoever can write there can
    replace the keys). The lock is an ``flock`` on a lock file: the kernel
    releases it when its process dies.
    """

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        try:
            import fcntl  # noqa: F401  (POSIX only)
        except ImportError:
            raise ConfigurationError(
                "shared_cache", "FileSharedJWKS needs flock (POSIX); use RedisSharedJWKS"
            ) from None
        path = Path(directory)
        try:
            path.mkdir(mode=0o700, parents=True, exist_ok=True)
            info = path.stat()
        except OSError as exc:
            raise ConfigurationError(
                "shared_cache", f"cannot use {str(path)!r} ({type(exc).__name__})"
            ) from None
        if not stat.S_ISDIR(info.st_mode):
            raise ConfigurationError("shared_cache", f"{str(path)!r} is not a directory")
        if info.st_uid != os.getuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            raise ConfigurationError(
                "shared_cache",
                f"{str(path)!r} must belong to this user and be writable by nobody else",
            )
        self._dir = path
        self._held: dict[tuple[str, str], IO[bytes]] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"FileSharedJWKS({str(self._dir)!r})"

    def _file(self, url: str, kind: str) -> Path:
        return self._dir / f"{_digest(url)}.{kind}"

    def _read(self, path: Path) -> bytes | None:
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None

    def _write(self, path: Path, data: bytes) -> None:
        # Written whole then renamed: a reader sees the old copy or the new one.
        temporary = path.with_name(f"{path.name}.{secrets.token_hex(4)}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)

    def read(self, url: str) -> SharedCopy | None:
        return _load_copy(self._read(self._file(url, "copy")), url)

    def read_failure(self, url: str) -> SharedFailure | None:
        return _load_failure(self._read(self._file(url, "failed")), url)

    def write(self, copy: SharedCopy, *, keep: float) -> None:
        # ``keep`` needs no enforcement here: a reader checks the copy's age.
        self._write(self._file(copy.url, "copy"), _dump_copy(copy))

    def write_failure(self, failure: SharedFailure) -> None:
        self._write(self._file(failure.url, "failed"), _dump_failure(failure))

    def try_lock(self, url: str, owner: str, *, seconds: float) -> bool:
        import fcntl

        handle = open(self._file(url, "lock"), "ab")  # noqa: SIM115 (held until unlock)
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        except BaseException:
            handle.close()
            raise
        with self._lock:
            self._held[(url, owner)] = handle
        return True

    def unlock(self, url: str, owner: str) -> None:
        with self._lock:
            handle = self._held.pop((url, owner), None)
        if handle is not None:
            with contextlib.suppress(OSError):
                handle.close()  # closing the descriptor releases the flock
