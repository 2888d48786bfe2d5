"""JWE decryption keys kept in an encrypted key store and rotated with an overlap window.

A resource server that accepts nested JWE (docs/jwe.md) decrypts with a
private key its issuers encrypt to. :class:`EncryptionKeyManager` keeps that
key in a :class:`~jwt_guard_core.signing.KeyStore` of its own (the same
file or Redis stores as the signing keys, sealed under the same
passphrase), publishes its public half with ``use: "enc"`` and rotates it:

* the **active** key is the only one published, so issuers encrypt to it;
* a key replaced by a rotation is **retired**: no longer published, still
  decrypting for ``retention`` = ``jwks_max_age`` (an issuer may keep
  encrypting to it until its cached JWKS expires) + ``max_token_lifetime``
  (a token encrypted at that last moment lives this long) +
  ``grace_period`` (clock skew, leeway), then dropped.

This is the signing keys' rule turned around: a new signing key is
published *before* it signs, because verifiers must know it first; a new
decryption key can be published at once, because this service holds its
private half from the start, and it is the *old* one that must stay.

:class:`StoredDecryptionKeys` is the verifier's view
(``JWEPolicy(keys=manager.key_set())``): every lookup reads the current
ring, so a rotation by another process is seen without a restart.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from .. import events
from ..errors import ConfigurationError, KeySourceUnavailable
from ..jwe.keys import DecryptionKey, DecryptionKeySet
from ..keys import KeyRejected
from ._crypto import (
    ENCRYPTION_ALGORITHMS,
    ENCRYPTION_CURVES,
    generate_encryption_material,
    thumbprint_kid,
)
from .errors import KeyStoreError
from .keystore import KeyInfo, KeyRing, KeyStore, RingViews, StoredKey
from .manager import (
    DEFAULT_GRACE_PERIOD,
    DEFAULT_JWKS_MAX_AGE,
    DEFAULT_MAX_TOKEN_LIFETIME,
    DEFAULT_ROTATION_INTERVAL,
    _duration,
)

__all__ = ["EncryptionKeyManager", "StoredDecryptionKeys"]

logger = logging.getLogger("jwt_guard.signing")


@dataclass(frozen=True)
class _View:
    ring: KeyRing
    keys: DecryptionKeySet | None  # None for an empty ring
    jwks: dict[str, Any]


class EncryptionKeyManager:
    """Generates, rotates and publishes the keys nested JWE are decrypted with.

    Args:
        store: a key store used for these keys only (``FileKeyStore`` on a
            directory of its own, ``RedisKeyStore`` with a prefix of its
            own): a ring holds one kind of key.
        algorithm: the key-management algorithm of new keys and the ``alg``
            published with them: ``ECDH-ES+A256KW`` (default), ``ECDH-ES``,
            ``ECDH-ES+A128KW``, ``ECDH-ES+A192KW`` or ``RSA-OAEP-256``
            (3072-bit RSA).
        curve: the curve of new ECDH-ES keys: ``P-256`` (default) or
            ``X25519`` (RFC 8037); ignored for RSA-OAEP-256.
        rotation_interval: age at which the active key is replaced (default
            30 days).
        max_token_lifetime, jwks_max_age, grace_period: their sum is how
            long a retired key keeps decrypting (defaults 1 h, 600 s, 1 h).
        auto_rotate: rotate on schedule when the keys are read (without
            waiting when another instance holds the lock).
        clock: returns Unix time; inject a fake one in tests.
    """

    def __init__(
        self,
        store: KeyStore,
        *,
        algorithm: str = "ECDH-ES+A256KW",
        curve: str = "P-256",
        rotation_interval: float | timedelta = DEFAULT_ROTATION_INTERVAL,
        max_token_lifetime: float | timedelta = DEFAULT_MAX_TOKEN_LIFETIME,
        jwks_max_age: int = DEFAULT_JWKS_MAX_AGE,
        grace_period: float | timedelta = DEFAULT_GRACE_PERIOD,
        auto_rotate: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not isinstance(store, KeyStore):
            raise ConfigurationError("store", f"{type(store).__name__} is not a KeyStore")
        if algorithm not in ENCRYPTION_ALGORITHMS:
            raise ConfigurationError(
                "algorithm",
                f"{algorithm!r} is not a key-management algorithm for stored keys; choose one "
                f"of {', '.join(sorted(ENCRYPTION_ALGORITHMS))}",
            )
        if curve not in ENCRYPTION_CURVES:
            raise ConfigurationError(
                "curve", f"{curve!r} is not one of {', '.join(ENCRYPTION_CURVES)}"
            )
        if isinstance(jwks_max_age, bool) or not isinstance(jwks_max_age, int) or jwks_max_age < 0:
            raise ConfigurationError("jwks_max_age", f"{jwks_max_age!r} is not a whole number >= 0")
        if not callable(clock):
            raise ConfigurationError("clock", "must be a callable returning Unix time in seconds")
        self._store = store
        self._algorithm = algorithm
        self._curve = curve
        self._interval = _duration("rotation_interval", rotation_interval, minimum=60.0)
        self._retention = (
            _duration("max_token_lifetime", max_token_lifetime, minimum=1.0)
            + jwks_max_age
            + _duration("grace_period", grace_period)
        )
        self._max_age = jwks_max_age
        self._auto = bool(auto_rotate)
        self._clock = clock
        self._views = RingViews(store, self._build_view)

    @property
    def algorithm(self) -> str:
        """The key-management algorithm of new keys."""
        return self._algorithm

    @property
    def retention(self) -> float:
        """Seconds a retired key keeps decrypting: the overlap window of a rotation."""
        return self._retention

    def __repr__(self) -> str:
        return (
            f"EncryptionKeyManager({self._store!r}, algorithm={self._algorithm!r}, "
            f"curve={self._curve!r})"
        )

    # -- reading

    def _load(self) -> _View:
        return self._views.load()

    def _build_view(self, ring: KeyRing) -> _View:
        for key in ring.keys:
            if key.info.algorithm not in ENCRYPTION_ALGORITHMS or key.material is None:
                raise KeyStoreError(
                    f"key {key.kid} is not a decryption key: give this manager a store of its own"
                )
        decrypting: list[DecryptionKey] = []
        published: list[dict[str, Any]] = []
        for key in ring.keys:
            assert key.material is not None
            try:
                opened = DecryptionKey.from_key(
                    key.material.reveal(), kid=key.kid, algorithms=[key.info.algorithm]
                )
            except KeyRejected as exc:
                raise KeyStoreError(f"stored key {key.kid} fails the key checks: {exc}") from None
            decrypting.append(opened)
            if key.state == "active":
                published.append(dict(opened.public_jwk))
        return _View(
            ring=ring,
            keys=DecryptionKeySet(decrypting) if decrypting else None,
            jwks={"keys": published},
        )

    def _current(self) -> _View:
        """The ring, with its first key created and due maintenance done."""
        view = self._load()
        if view.ring.active is None:
            self.maybe_rotate()
            return self._load()
        if self._auto and self._due(view.ring, self._clock()):
            try:
                self.maybe_rotate(blocking=False)
            except KeyStoreError as exc:
                # The current key still decrypts; the schedule is retried.
                logger.warning("scheduled encryption key maintenance failed: %s", exc)
            view = self._load()
        return view

    def list_keys(self) -> tuple[KeyInfo, ...]:
        """Every stored key's kid, algorithm, state and times (never key material)."""
        return tuple(k.info for k in self._load().ring.keys)

    def jwks(self) -> dict[str, Any]:
        """The public JWKS issuers encrypt to: the active key, ``use: "enc"``, with its ``alg``."""
        return {"keys": [dict(k) for k in self._current().jwks["keys"]]}

    def decryption_keys(self) -> DecryptionKeySet:
        """The keys that decrypt now: the active one and retired ones within :attr:`retention`."""
        keys = self._current().keys
        if keys is None:  # pragma: no cover - _current always leaves an active key
            raise KeyStoreError("the encryption key store has no key")
        return keys

    def key_set(self) -> StoredDecryptionKeys:
        """A :class:`~jwt_guard_core.jwe.DecryptionKeySet` for ``JWEPolicy(keys=...)``."""
        return StoredDecryptionKeys(lambda: self, self._algorithm)

    # -- rotation

    def _expired(self, key: StoredKey, now: float) -> bool:
        retired_at = key.info.retired_at
        return (
            key.state == "retired"
            and retired_at is not None
            and now >= retired_at + (self._retention)
        )

    def _due(self, ring: KeyRing, now: float) -> bool:
        active = ring.active
        if active is None:
            return True
        started = active.info.activated_at or active.info.created_at
        return now >= started + self._interval or any(self._expired(k, now) for k in ring.keys)

    def _new_key(self, now: float) -> StoredKey:
        material = generate_encryption_material(self._algorithm, self._curve)
        public = DecryptionKey.from_key(material.reveal(), algorithms=[self._algorithm]).public_jwk
        info = KeyInfo(
            kid=thumbprint_kid(public),  # RFC 7638: anyone can check it belongs to the key
            algorithm=self._algorithm,
            state="active",
            created_at=now,
            activated_at=now,
        )
        return StoredKey(info=info, material=material)

    def _replace_active(self, ring: KeyRing, now: float) -> tuple[list[StoredKey], str, str | None]:
        """The ring's keys with a new active key and the old one retired; expired ones dropped."""
        new = self._new_key(now)
        old = ring.active
        keys: list[StoredKey] = []
        for key in ring.keys:
            if self._expired(key, now):
                continue
            if key is old:
                key = replace(key, info=replace(key.info, state="retired", retired_at=now))
            keys.append(key)
        keys.append(new)
        return keys, new.kid, old.kid if old is not None else None

    def _commit(self, ring: KeyRing, keys: list[StoredKey]) -> None:
        saved = self._store.save(
            KeyRing(keys=tuple(keys), revision=ring.revision), expected_revision=ring.revision
        )
        self._views.put(saved)

    def maybe_rotate(self, *, blocking: bool = True) -> bool:
        """Do what the schedule says, once across instances; ``True`` when the ring changed.

        Creates the first key of an empty store, replaces the active key
        once it is ``rotation_interval`` old, drops retired keys past
        :attr:`retention`.
        """
        with self._store.lock(blocking=blocking) as acquired:
            if not acquired:
                return False
            ring = self._store.load()
            now = self._clock()
            if not self._due(ring, now):
                return False
            active = ring.active
            if active is not None and now < (
                (active.info.activated_at or active.info.created_at) + self._interval
            ):
                # Only expired keys to drop.
                self._commit(ring, [k for k in ring.keys if not self._expired(k, now)])
                return True
            keys, kid, previous = self._replace_active(ring, now)
            self._commit(ring, keys)
        self._emit(kid, previous, scheduled=True)
        return True

    def rotate(self) -> KeyInfo:
        """Make a new key active now; the old one keeps decrypting for :attr:`retention`."""
        with self._store.lock():
            ring = self._store.load()
            keys, kid, previous = self._replace_active(ring, self._clock())
            self._commit(ring, keys)
        self._emit(kid, previous, scheduled=False)
        return next(k.info for k in keys if k.kid == kid)

    def _emit(self, kid: str, previous: str | None, *, scheduled: bool) -> None:
        events.emit(
            "encryption_key_rotated" if previous else "encryption_key_created",
            message="the JWE decryption key was rotated"
            if previous
            else "the first JWE decryption key was created",
            kid=kid,
            previous_kid=previous,
            alg=self._algorithm,
            scheduled=scheduled,
        )


class StoredDecryptionKeys(DecryptionKeySet):
    """The decryption keys of an :class:`EncryptionKeyManager`, read on every lookup.

    ``manager`` is called on first use (so building a configuration opens
    no store); ``algorithm`` is the manager's, known without opening it. A
    store that cannot be read is an outage (503, ``key_source_unavailable``),
    never a refused token. Lookups read the store (a file or Redis): the
    verifier's async path runs them off the event loop (``blocking``).
    """

    blocking = True

    def __init__(self, manager: Callable[[], EncryptionKeyManager], algorithm: str) -> None:
        self._factory = manager
        self._manager: EncryptionKeyManager | None = None
        self._algorithm = algorithm
        self._open_lock = threading.Lock()

    def manager(self) -> EncryptionKeyManager:
        """The manager, opened on first use."""
        if self._manager is None:
            with self._open_lock:
                if self._manager is None:
                    self._manager = self._factory()
        return self._manager

    def _current(self) -> DecryptionKeySet:
        try:
            return self.manager().decryption_keys()
        except (ConfigurationError, KeyStoreError) as exc:
            # A store that cannot be opened (a wrong passphrase) or read is an
            # outage: 503, never a 500 nor a refused token.
            raise KeySourceUnavailable(f"the decryption keys cannot be read: {exc}") from None

    @property
    def keys(self) -> tuple[DecryptionKey, ...]:
        return self._current().keys

    def key_algorithms(self) -> frozenset[str]:
        return frozenset({self._algorithm})

    def get(self, kid: str | None, alg: str) -> DecryptionKey:
        return self._current().get(kid, alg)

    def jwks(self) -> dict[str, Any]:
        """What issuers encrypt to: the active key only (retired ones still decrypt)."""
        return self.manager().jwks()

    def __repr__(self) -> str:
        return f"StoredDecryptionKeys({self._algorithm})"
