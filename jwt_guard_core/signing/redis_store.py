"""Signing keys in Redis, for several instances sharing one key ring.

The ring is one JSON document (metadata plus each key sealed with
AES-256-GCM, exactly as the file store seals them), so every reader sees a
consistent set. Writes are compare-and-set on a revision counter
(one Lua script), and rotations run under a redis-py ``Lock`` with an
expiry, so a crashed instance cannot hold the lock for ever and a stalled
one that lost it cannot overwrite a newer ring.

On a Redis Cluster the prefix is a hash tag (``{prefix}:ring`` ...), so the
compare-and-set over the revision and the ring stays in one slot.
Calls go through a circuit breaker: after repeated failures they fail at
once (:class:`KeyStoreError`) until a probe succeeds.

Nothing stored in Redis is usable without the passphrase: a leaked RDB
dump or a replica exposes kids and times, not keys.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from redis.exceptions import LockError, RedisError

from .._redis import Gateway, KeySpace, RedisClient, connect, is_cluster
from ..breaker import CircuitBreaker
from ..errors import ConfigurationError
from ._crypto import DEFAULT_PASSPHRASE_ENV, Sealer, new_kdf_params, resolve_passphrase
from .errors import KeyStoreError
from .keystore import (
    STORE_FORMAT,
    KeyRing,
    build_ring,
    check_ring,
    open_key,
    parse_key_metadata,
    parse_ring_document,
    ring_document,
    seal_key,
)

__all__ = ["RedisKeyStore"]

logger = logging.getLogger("jwt_guard.signing")


class RedisKeyStore:
    """A :class:`~jwt_guard_core.signing.KeyStore` in Redis.

    Args:
        client: a ``redis.Redis`` client (``decode_responses`` must be off),
            a ``redis.cluster.RedisCluster``, a Sentinel-managed client, or a
            URL (``redis://``, ``rediss://``, ``redis+cluster://``,
            ``redis+sentinel://host:port,.../service``).
        passphrase / passphrase_env: as for
            :class:`~jwt_guard_core.signing.FileKeyStore`; every instance
            sharing the store needs the same passphrase.
        prefix: Redis key prefix (``{prefix}:ring``, ``{prefix}:revision``,
            ``{prefix}:keystore``, ``{prefix}:lock``).
        lock_timeout: seconds after which a held rotation lock expires on its
            own (an instance that died mid-rotation cannot block the others).
        lock_wait: how long a blocking rotation waits for the lock before
            raising :class:`~jwt_guard_core.signing.KeyStoreError`.
        breaker: the :class:`~jwt_guard_core.breaker.CircuitBreaker` (default:
            5 failures, 5 s cool-down).
        replicas: after each write of the ring, ``WAIT`` for this many
            replicas to hold it (default 0), so a rotation survives a
            failover; fewer confirmations raise ``KeyStoreError``.
        replica_timeout: how long that ``WAIT`` may take, in seconds.

    The encryption parameters are read (or created) on first use, so a
    Redis outage at import time does not stop the application from starting;
    call :meth:`check` at start-up to fail early instead.
    """

    def __init__(
        self,
        client: RedisClient | str,
        *,
        passphrase: str | bytes | None = None,
        passphrase_env: str | None = DEFAULT_PASSPHRASE_ENV,
        prefix: str = "jwt_guard:signing",
        lock_timeout: float = 60.0,
        lock_wait: float = 30.0,
        breaker: CircuitBreaker | None = None,
        replicas: int = 0,
        replica_timeout: float = 1.0,
    ) -> None:
        client = connect(client, setting="key_store")
        if not isinstance(prefix, str) or not prefix:
            raise ConfigurationError("prefix", "must be a non-empty string")
        for name, value in (("lock_timeout", lock_timeout), ("lock_wait", lock_wait)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ConfigurationError(name, f"{value!r} is not a positive number of seconds")
        self._client = client
        self._secret = resolve_passphrase(passphrase, passphrase_env)
        self._prefix = prefix
        keys = KeySpace(prefix, cluster=is_cluster(client))
        self._ring_key = keys.key("ring")
        self._revision_key = keys.key("revision")
        self._store_key = keys.key("keystore")
        self._lock_key = keys.key("lock")
        self._redis = Gateway(
            client,
            label="key store",
            name="keys",
            unavailable=KeyStoreError,
            breaker=breaker,
            replicas=replicas,
            replica_timeout=replica_timeout,
        )
        self._save = client.register_script(_SAVE)
        self._lock_timeout = float(lock_timeout)
        self._lock_wait = float(lock_wait)
        self._sealer: Sealer | None = None
        self._init_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"RedisKeyStore(prefix={self._prefix!r})"

    @property
    def breaker(self) -> CircuitBreaker:
        """The store's circuit breaker (its ``state`` is for health checks)."""
        return self._redis.breaker

    def ping(self) -> str | None:
        """``None`` when Redis answers; else why not (for health checks)."""
        return self._redis.ping()

    def check(self) -> None:
        """Connect and verify the passphrase now (for start-up checks)."""
        self._get_sealer()

    def _get_sealer(self) -> Sealer:
        sealer = self._sealer
        if sealer is not None:
            return sealer
        with self._init_lock:
            if self._sealer is None:
                self._sealer = self._open_or_create()
            return self._sealer

    def _open_or_create(self) -> Sealer:
        def read_or_create() -> tuple[Any, Sealer | None]:
            raw = self._client.get(self._store_key)
            if raw is None:
                kdf = new_kdf_params()
                sealer = Sealer(self._secret, kdf)
                created = {"format": STORE_FORMAT, "kdf": kdf, "check": sealer.check_value()}
                # SET NX: when two instances start on an empty Redis at once,
                # one set of parameters wins and both use it.
                if self._client.set(self._store_key, json.dumps(created), nx=True):
                    return None, sealer
                raw = self._client.get(self._store_key)
            return raw, None

        raw, created_sealer = self._redis.run(read_or_create)
        if created_sealer is not None:
            return created_sealer
        doc: Any
        try:
            doc = json.loads(raw) if raw is not None else None
        except ValueError:
            doc = None
        if not isinstance(doc, dict) or doc.get("format") != STORE_FORMAT:
            raise KeyStoreError(f"{self._store_key} in Redis is not a jwt-guard key store")
        sealer = Sealer(self._secret, doc.get("kdf") or {})
        if not sealer.matches(doc.get("check")):
            raise ConfigurationError(
                "passphrase",
                f"the passphrase does not open the Redis key store {self._prefix!r} "
                "(wrong passphrase, or the store was sealed under another one)",
            )
        return sealer

    # -- KeyStore

    @contextlib.contextmanager
    def lock(self, *, blocking: bool = True) -> Iterator[bool]:
        """The rotation lock (a redis-py ``Lock`` with an expiry), shared by every instance."""
        lock = self._client.lock(
            self._lock_key,
            timeout=self._lock_timeout,
            sleep=0.01,
            blocking=blocking,
            blocking_timeout=self._lock_wait if blocking else None,
            thread_local=False,
        )
        acquired = self._redis.run(lock.acquire)
        if not acquired:
            if blocking:
                raise KeyStoreError(
                    f"another instance held the key store lock for more than {self._lock_wait:g} s"
                )
            yield False
            return
        try:
            yield True
        finally:
            try:
                lock.release()
            except LockError:
                # The lock expired while we worked; the revision check in
                # save() already refused to overwrite a newer ring.
                logger.warning("the key store lock expired before it was released")
            except RedisError as exc:
                logger.warning("could not release the key store lock (%s)", type(exc).__name__)

    def revision(self) -> int:
        return _revision(self._redis.run(lambda: self._client.get(self._revision_key)))

    def load(self) -> KeyRing:
        sealer = self._get_sealer()
        raw = self._redis.run(lambda: self._client.get(self._ring_key))
        if raw is None:
            return KeyRing()
        try:
            doc = json.loads(raw)
        except ValueError:
            raise KeyStoreError("the key ring in Redis is not valid JSON") from None
        header = parse_ring_document(doc)
        keys = []
        for entry in header.entries:
            info = parse_key_metadata(entry)
            sealed = entry.get("sealed")
            try:
                blob = base64.b64decode(sealed, validate=True) if isinstance(sealed, str) else b""
            except (binascii.Error, ValueError):
                blob = b""
            if not blob:
                raise KeyStoreError(f"the sealed key for kid {info.kid} is missing or corrupt")
            keys.append(open_key(sealer, info, blob))
        return build_ring(header, keys)

    def save(self, ring: KeyRing, *, expected_revision: int) -> KeyRing:
        """Write ``ring`` atomically if the stored revision is still ``expected_revision``."""
        check_ring(ring)
        sealer = self._get_sealer()
        revision = expected_revision + 1
        doc: dict[str, Any] = ring_document(ring, revision)
        for entry, key in zip(doc["keys"], ring.keys, strict=True):
            entry["sealed"] = base64.b64encode(seal_key(sealer, key)).decode("ascii")
        payload = json.dumps(doc)

        written, raw = self._redis.write(
            [
                (
                    self._save,
                    [self._revision_key, self._ring_key],
                    [str(expected_revision), payload, str(revision)],
                )
            ]
        )[0]
        if written != 1:
            current = _revision(raw)
            raise KeyStoreError(
                f"the key ring changed while it was being updated (revision {current}, "
                f"expected {expected_revision})"
            )
        return replace(ring, revision=revision)


# Compare-and-set: write the ring (KEYS[2]) and its revision (KEYS[1]) if the
# stored revision is still ARGV[1]. One script, so that on a Cluster it is
# one slot's business and with ``replicas`` one WAIT covers it.
_SAVE = """
local current = redis.call('GET', KEYS[1])
if (current or '0') ~= ARGV[1] then return {0, current or '0'} end
redis.call('SET', KEYS[2], ARGV[2])
redis.call('SET', KEYS[1], ARGV[3])
return {1, ARGV[3]}
"""


def _revision(raw: Any) -> int:
    if raw is None:
        return 0
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise KeyStoreError("the key ring revision in Redis is corrupt") from None
    if value < 0:
        raise KeyStoreError("the key ring revision in Redis is corrupt")
    return value
