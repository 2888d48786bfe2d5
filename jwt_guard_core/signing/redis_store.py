"""Signing keys in Redis, for several instances sharing one key ring.

The ring is one JSON document (metadata plus each key sealed with
AES-256-GCM, exactly as the file store seals them), so every reader sees a
consistent set. Writes are compare-and-set on a revision counter
(``WATCH``/``MULTI``), and rotations run under a redis-py ``Lock`` with an
expiry, so a crashed instance cannot hold the lock for ever and a stalled
one that lost it cannot overwrite a newer ring.

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

import redis
from redis.exceptions import LockError, RedisError, WatchError

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


def _unavailable(exc: Exception) -> KeyStoreError:
    # The class name only: redis-py messages can carry host names and, for
    # some connection errors, parts of the URL.
    return KeyStoreError(f"the Redis key store is unavailable ({type(exc).__name__})")


class RedisKeyStore:
    """A :class:`~jwt_guard_core.signing.KeyStore` in Redis.

    Args:
        client: a ``redis.Redis`` client (``decode_responses`` must be off)
            or a ``redis://`` / ``rediss://`` URL.
        passphrase / passphrase_env: as for
            :class:`~jwt_guard_core.signing.FileKeyStore`; every instance
            sharing the store needs the same passphrase.
        prefix: Redis key prefix (``{prefix}:ring``, ``{prefix}:revision``,
            ``{prefix}:keystore``, ``{prefix}:lock``).
        lock_timeout: seconds after which a held rotation lock expires on its
            own (an instance that died mid-rotation cannot block the others).
        lock_wait: how long a blocking rotation waits for the lock before
            raising :class:`~jwt_guard_core.signing.KeyStoreError`.

    The encryption parameters are read (or created) on first use, so a
    Redis outage at import time does not stop the application from starting;
    call :meth:`check` at start-up to fail early instead.
    """

    def __init__(
        self,
        client: redis.Redis | str,
        *,
        passphrase: str | bytes | None = None,
        passphrase_env: str | None = DEFAULT_PASSPHRASE_ENV,
        prefix: str = "jwt_guard:signing",
        lock_timeout: float = 60.0,
        lock_wait: float = 30.0,
    ) -> None:
        if isinstance(client, str):
            try:
                client = redis.Redis.from_url(client)
            except ValueError:
                raise ConfigurationError(
                    "key_store", "the Redis URL is not valid (redis://, rediss:// or unix://)"
                ) from None
        if not isinstance(client, redis.Redis):
            raise ConfigurationError("key_store", "give a redis.Redis client or a redis:// URL")
        if client.get_encoder().decode_responses:
            raise ConfigurationError(
                "key_store", "the Redis client must be created with decode_responses=False"
            )
        if not isinstance(prefix, str) or not prefix:
            raise ConfigurationError("prefix", "must be a non-empty string")
        for name, value in (("lock_timeout", lock_timeout), ("lock_wait", lock_wait)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ConfigurationError(name, f"{value!r} is not a positive number of seconds")
        self._client = client
        self._secret = resolve_passphrase(passphrase, passphrase_env)
        self._prefix = prefix
        self._ring_key = f"{prefix}:ring"
        self._revision_key = f"{prefix}:revision"
        self._store_key = f"{prefix}:keystore"
        self._lock_key = f"{prefix}:lock"
        self._lock_timeout = float(lock_timeout)
        self._lock_wait = float(lock_wait)
        self._sealer: Sealer | None = None
        self._init_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"RedisKeyStore(prefix={self._prefix!r})"

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
        try:
            raw = self._client.get(self._store_key)
            if raw is None:
                kdf = new_kdf_params()
                sealer = Sealer(self._secret, kdf)
                created = {"format": STORE_FORMAT, "kdf": kdf, "check": sealer.check_value()}
                # SET NX: when two instances start on an empty Redis at once,
                # one set of parameters wins and both use it.
                if self._client.set(self._store_key, json.dumps(created), nx=True):
                    return sealer
                raw = self._client.get(self._store_key)
        except RedisError as exc:
            raise _unavailable(exc) from None
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
        try:
            acquired = lock.acquire()
        except RedisError as exc:
            raise _unavailable(exc) from None
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
        try:
            raw = self._client.get(self._revision_key)
        except RedisError as exc:
            raise _unavailable(exc) from None
        return _revision(raw)

    def load(self) -> KeyRing:
        sealer = self._get_sealer()
        try:
            raw = self._client.get(self._ring_key)
        except RedisError as exc:
            raise _unavailable(exc) from None
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
        try:
            with self._client.pipeline(transaction=True) as pipe:
                pipe.watch(self._revision_key)  # type: ignore[no-untyped-call]
                current = _revision(pipe.get(self._revision_key))
                if current != expected_revision:
                    raise KeyStoreError(
                        f"the key ring changed while it was being updated (revision {current}, "
                        f"expected {expected_revision})"
                    )
                pipe.multi()
                pipe.set(self._ring_key, payload)
                pipe.set(self._revision_key, revision)
                pipe.execute()
        except WatchError:
            raise KeyStoreError("the key ring changed while it was being updated") from None
        except RedisError as exc:
            raise _unavailable(exc) from None
        return replace(ring, revision=revision)


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
