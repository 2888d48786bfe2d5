"""``KeyManager``: one active signing key, its successor and its retired predecessors.

Lifecycle of a key (times from the injected clock)::

    next ──(due, and published for jwks_max_age)──> active ──(rotation)──> retired
                                                                │
                                  dropped at retired_at + max_token_lifetime + grace_period

* A scheduled rotation first **publishes** the successor ``publish_ahead``
  before it is due, so a verifier that cached the JWKS for ``jwks_max_age``
  seconds already knows the new kid when the first token signed with it
  arrives.
* A retired key stays in the JWKS for the longest access-token lifetime plus
  a grace period: every token it signed can still be verified until it
  expires, and no longer.
* :meth:`KeyManager.emergency_rotate` is for a leaked key: every other key
  leaves the JWKS at once and an epoch is recorded; tokens with ``iat``
  before it are to be treated as revoked. With ``revocation=`` the removed
  kids are also denied in the shared revocation store, so verifiers still
  holding the old JWKS refuse every token of those keys at once, including
  tokens forged with the leaked key and any ``iat``.

Every change happens under the store's lock after re-reading the store, so
several instances sharing a store never rotate twice for one schedule.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from types import MappingProxyType
from typing import Any, Protocol, runtime_checkable

from .. import events
from ..errors import ConfigurationError, KeySourceUnavailable, StateUnavailable, UnknownKid
from ..keys import KeyRejected, VerificationKey, key_from_jwk, key_from_secret, select_key
from ._crypto import (
    HMAC_SIGNING_ALGORITHMS,
    SIGNING_ALGORITHMS,
    KeyMaterial,
    generate_material,
    new_kid,
)
from .errors import KeyStoreError
from .keystore import GeneratesKeys, KeyInfo, KeyRing, KeyStore, RingViews, StoredKey
from .signer import Signer

__all__ = ["JWKS_MEDIA_TYPE", "JWKSResponse", "KeyManager", "KeyRevocation", "RotationOutcome"]

logger = logging.getLogger("jwt_guard.signing")

DAY = 86400.0
DEFAULT_ROTATION_INTERVAL = 30 * DAY
DEFAULT_MAX_TOKEN_LIFETIME = 3600.0
DEFAULT_GRACE_PERIOD = 3600.0
DEFAULT_JWKS_MAX_AGE = 600
JWKS_MEDIA_TYPE = "application/jwk-set+json"


def _duration(setting: str, value: float | timedelta, *, minimum: float = 0.0) -> float:
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise ConfigurationError(setting, f"{value!r} is not a number of seconds or a timedelta")
    if value < minimum or value == float("inf"):
        raise ConfigurationError(setting, f"{value!r} must be a finite {minimum:g} seconds or more")
    return float(value)


@runtime_checkable
class KeyRevocation(Protocol):
    """Where an emergency rotation records what it revoked.

    :class:`~jwt_guard_core.sessions.RevocationService` is one: its store is
    the state every verifier's revocation check reads.
    """

    def revoke_keys(self, kids: Iterable[str]) -> tuple[str, ...]: ...

    def set_emergency_epoch(self, epoch: float | None = None) -> float: ...


@dataclass(frozen=True)
class RotationOutcome:
    """What one :meth:`KeyManager.maybe_rotate` call changed (kids only).

    Falsy when nothing was due, or when another instance held the lock.
    """

    created: str | None = None
    published: str | None = None
    activated: str | None = None
    retired: str | None = None
    dropped: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.created or self.published or self.activated or self.dropped)


@dataclass(frozen=True)
class JWKSResponse:
    """Everything an HTTP route needs to serve the JWKS: status, headers, body.

    The adapters' JWKS views return this as is, so the document, its media
    type (RFC 7517 section 8.5.1) and the cache lifetime are decided once,
    here.
    """

    body: bytes
    headers: Mapping[str, str]
    status: int = 200


@dataclass(frozen=True)
class _View:
    """A loaded ring with its public forms prepared once per revision."""

    ring: KeyRing
    jwks: Mapping[str, Mapping[str, Any]]
    verification: Mapping[str, VerificationKey]


class KeyManager:
    """Generates, rotates and publishes signing keys kept in a :class:`KeyStore`.

    Args:
        store: a :class:`~jwt_guard_core.signing.FileKeyStore`,
            :class:`~jwt_guard_core.signing.RedisKeyStore`,
            :class:`~jwt_guard_core.signing.Pkcs11KeyStore` (keys on a
            hardware token) or your own
            :class:`~jwt_guard_core.signing.KeyStore`.
        algorithm: the algorithm of new keys: ``ES256`` (default), ``ES384``,
            ``ES512``, ``RS256`` and ``PS256`` (3072-bit RSA) or ``EdDSA``
            (Ed25519). Changing it takes effect at the next rotation.
            ``None`` keeps the algorithm of the keys already in the store
            (ES256 for an empty one): for tools that rotate a store they
            did not configure, such as ``jwt-guard rotate``.
        allow_hmac: must be ``True`` to choose ``HS256``/``HS384``/``HS512``.
            HMAC keys are never published, so only this service (through the
            manager as a key source) can verify its tokens: a single-service
            deployment only.
        rotation_interval: age of the active key at which a scheduled
            rotation is due (default 30 days).
        max_token_lifetime: the longest access-token lifetime any issuer
            using this manager may mint (default 1 hour).
        grace_period: how long, beyond ``max_token_lifetime``, a retired key
            stays published (default 1 hour; covers clock skew and leeway).
        jwks_max_age: the ``Cache-Control: max-age`` recommended for the
            JWKS (default 600 s). Also how long a verifier sharing no
            revocation state may keep trusting a key removed by
            :meth:`emergency_rotate` (within its own cache bounds).
        publish_ahead: how long before it signs a successor key is published
            (default twice ``jwks_max_age``; at least ``jwks_max_age``).
        auto_rotate: run the scheduled maintenance from the signing path
            (without waiting when another instance holds the lock). Turn it
            off to rotate only from a scheduler via :meth:`maybe_rotate`.
        revocation: a :class:`~jwt_guard_core.sessions.RevocationService`
            over the revocation store the verifiers share (any
            :class:`KeyRevocation`). :meth:`emergency_rotate` then denies
            every removed kid there and sets the emergency epoch, so
            verifiers refuse the leaked key's tokens at once, even with the
            key still in their JWKS cache. Without it, a verifier trusts a
            leaked key until its JWKS cache expires (``jwks_max_age``).
        clock: returns Unix time; inject a fake one in tests.
    """

    def __init__(
        self,
        store: KeyStore,
        *,
        algorithm: str | None = "ES256",
        allow_hmac: bool = False,
        rotation_interval: float | timedelta = DEFAULT_ROTATION_INTERVAL,
        max_token_lifetime: float | timedelta = DEFAULT_MAX_TOKEN_LIFETIME,
        grace_period: float | timedelta = DEFAULT_GRACE_PERIOD,
        jwks_max_age: int = DEFAULT_JWKS_MAX_AGE,
        publish_ahead: float | timedelta | None = None,
        auto_rotate: bool = True,
        revocation: KeyRevocation | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not isinstance(store, KeyStore):
            raise ConfigurationError(
                "store", f"{type(store).__name__} is not a KeyStore (FileKeyStore, RedisKeyStore)"
            )
        if algorithm is not None and algorithm not in SIGNING_ALGORITHMS:
            raise ConfigurationError(
                "algorithm",
                f"{algorithm!r} cannot sign; choose one of {', '.join(sorted(SIGNING_ALGORITHMS))}",
            )
        if algorithm in HMAC_SIGNING_ALGORITHMS and allow_hmac is not True:
            raise ConfigurationError(
                "algorithm",
                f"{algorithm} is a shared-secret algorithm: only the holder of the secret can "
                "verify, so no other service can check these tokens; pass allow_hmac=True for a "
                "single-service deployment, or use ES256",
            )
        if not callable(clock):
            raise ConfigurationError("clock", "must be a callable returning Unix time in seconds")
        if revocation is not None and not isinstance(revocation, KeyRevocation):
            raise ConfigurationError(
                "revocation", "give a RevocationService (revoke_keys and set_emergency_epoch)"
            )
        self._revocation = revocation
        if isinstance(jwks_max_age, bool) or not isinstance(jwks_max_age, int) or jwks_max_age < 0:
            raise ConfigurationError("jwks_max_age", f"{jwks_max_age!r} is not a whole number >= 0")
        self._store = store
        self._algorithm = algorithm
        self._allow_hmac = allow_hmac is True
        self._interval = _duration("rotation_interval", rotation_interval, minimum=60.0)
        self._max_lifetime = _duration("max_token_lifetime", max_token_lifetime, minimum=1.0)
        self._grace = _duration("grace_period", grace_period)
        self._max_age = jwks_max_age
        self._ahead = (
            _duration("publish_ahead", publish_ahead)
            if publish_ahead is not None
            else 2.0 * jwks_max_age
        )
        if self._ahead < self._max_age:
            raise ConfigurationError(
                "publish_ahead",
                f"{self._ahead:g} s is shorter than jwks_max_age ({self._max_age} s): verifiers "
                "with a cached JWKS would meet the new kid before they can know it",
            )
        if self._ahead >= self._interval:
            raise ConfigurationError(
                "publish_ahead",
                f"{self._ahead:g} s is not shorter than rotation_interval ({self._interval:g} s)",
            )
        self._auto = bool(auto_rotate)
        self._clock = clock
        self._views = RingViews(store, self._build_view)

    # -- settings

    @property
    def algorithm(self) -> str:
        """The algorithm new keys are generated for.

        With ``algorithm=None`` this is the active key's algorithm (read
        from the store), ES256 for an empty store.
        """
        if self._algorithm is not None:
            return self._algorithm
        ring = self._load_view().ring
        current = ring.active or ring.next
        return current.info.algorithm if current is not None else "ES256"

    @property
    def allows_hmac(self) -> bool:
        """Whether this manager's keys are HMAC secrets (part of the ``KeySource`` protocol)."""
        return self.algorithm in HMAC_SIGNING_ALGORITHMS

    def _algorithm_for_new_key(self, ring: KeyRing) -> str:
        if self._algorithm is not None:
            return self._algorithm
        current = ring.active or ring.next
        algorithm = current.info.algorithm if current is not None else "ES256"
        if algorithm in HMAC_SIGNING_ALGORITHMS and not self._allow_hmac:
            raise ConfigurationError(
                "algorithm",
                f"the key store holds {algorithm} keys; pass allow_hmac=True to keep rotating "
                "HMAC secrets, or choose an algorithm",
            )
        return algorithm

    @property
    def max_token_lifetime(self) -> float:
        return self._max_lifetime

    @property
    def retention(self) -> float:
        """Seconds a retired key stays published: ``max_token_lifetime + grace_period``.

        When another manager sharing the store was configured with a longer
        retention (recorded in the ring), that one applies.
        """
        return self._max_lifetime + self._grace

    @property
    def rotation_interval(self) -> float:
        return self._interval

    @property
    def jwks_max_age(self) -> int:
        return self._max_age

    @property
    def clock(self) -> Callable[[], float]:
        return self._clock

    @property
    def store(self) -> KeyStore:
        """The key store (a health check pings a Redis one)."""
        return self._store

    def __repr__(self) -> str:
        return (
            f"KeyManager({self._store!r}, algorithm={self._algorithm!r}, "
            f"rotation_interval={self._interval:g})"
        )

    # -- reading

    def _load_view(self) -> _View:
        """The current ring, re-read only when the store's revision moved."""
        return self._views.load()

    def _set_view(self, ring: KeyRing) -> _View:
        return self._views.put(ring)

    def _build_view(self, ring: KeyRing) -> _View:
        jwks: dict[str, Mapping[str, Any]] = {}
        verification: dict[str, VerificationKey] = {}
        for key in ring.keys:
            try:
                jwk = key.signer.public_jwk()
                if jwk is None:
                    # Only a local key can be an HMAC secret; a signer kept
                    # elsewhere must publish its public key.
                    if key.material is None:
                        raise KeyStoreError(f"the signer of key {key.kid} gives no public key")
                    secret = key.material.reveal()
                    assert isinstance(secret, bytes)
                    verification[key.kid] = key_from_secret(
                        secret, algorithm=key.info.algorithm, kid=key.kid
                    )
                else:
                    jwks[key.kid] = jwk
                    verification[key.kid] = key_from_jwk(jwk)
            except KeyRejected as exc:
                raise KeyStoreError(f"stored key {key.kid} fails the key checks: {exc}") from None
        return _View(ring=ring, jwks=jwks, verification=verification)

    def _retention_for(self, ring: KeyRing) -> float:
        # The longest retention any manager sharing the store was given: a
        # tool run with default settings must not unpublish a key early.
        return max(self.retention, ring.retention or 0.0)

    def _expired(self, ring: KeyRing, key: StoredKey, now: float) -> bool:
        retired_at = key.info.retired_at
        return (
            key.state == "retired"
            and retired_at is not None
            and now >= retired_at + self._retention_for(ring)
        )

    def _published(self, ring: KeyRing, now: float) -> list[StoredKey]:
        """Keys verifiers need now: active, next, and retired ones still within retention."""
        order = {"active": 0, "next": 1, "retired": 2}
        keys = [k for k in ring.keys if not self._expired(ring, k, now)]
        return sorted(keys, key=lambda k: (order[k.state], -(k.info.retired_at or 0.0)))

    def refresh(self) -> None:
        """Forget the cached ring; the next use reads the store again."""
        self._views.forget()

    def list_keys(self) -> tuple[KeyInfo, ...]:
        """Every stored key's kid, algorithm, state and times (never key material)."""
        return tuple(k.info for k in self._load_view().ring.keys)

    def active_key(self) -> KeyInfo:
        """The key that signs now, created on first use of an empty store."""
        return self._signing_key().info

    @property
    def emergency_epoch(self) -> int | None:
        """Unix time of the last :meth:`emergency_rotate`, or ``None``.

        Tokens whose ``iat`` is before it were issued before the emergency
        and must be treated as revoked by every verifier sharing this state.
        """
        return self._load_view().ring.emergency_epoch

    def known_emergency_epoch(self) -> tuple[bool, int | None]:
        """``(True, epoch)`` when :attr:`emergency_epoch` needs no I/O, else ``(False, None)``.

        The revocation check's async path reads the epoch inline when it is
        known and in a worker thread otherwise. It is known when the key
        store answers from memory (``in_process = True``: the test kit's
        ``MemoryKeyStore``, a CLI ``--key`` file). A file, Redis or PKCS#11
        store is asked for its revision on every read (a stat, a GET, a
        token search), so that an emergency rotation made by another
        process is seen at once: that read may block, and is not known.
        """
        if getattr(self._store, "in_process", False) is True:
            return True, self.emergency_epoch
        return False, None

    @property
    def revocation(self) -> KeyRevocation | None:
        """The revocation store :meth:`emergency_rotate` writes to, or ``None``."""
        return self._revocation

    @property
    def revoked_before(self) -> int | None:
        """Alias of :attr:`emergency_epoch`, in the vocabulary of revocation checks."""
        return self.emergency_epoch

    # -- publishing

    def jwks(self) -> dict[str, Any]:
        """The public JWKS document: ``kid``, ``kty``, ``alg``, ``use: sig`` and key members.

        Holds the active key, a successor published ahead of a rotation and
        retired keys within their retention. HMAC secrets are never
        published (their JWKS is empty). Serve it with
        :meth:`jwks_cache_control` as the ``Cache-Control`` header.
        """
        view = self._load_view()
        if view.ring.active is None:
            # Publish before the first token: a verifier's first fetch then
            # already holds the key that will sign.
            self.maybe_rotate()
            view = self._load_view()
        now = self._clock()
        return {
            "keys": [
                dict(view.jwks[k.kid])
                for k in self._published(view.ring, now)
                if k.kid in view.jwks
            ]
        }

    def jwks_cache_control(self) -> str:
        """``Cache-Control`` for the JWKS response.

        ``max-age`` is ``jwks_max_age``: successor keys are published
        ``publish_ahead`` (at least that long) before they sign, so a cache
        honouring it never meets an unknown kid at a scheduled rotation.
        """
        return f"public, max-age={self._max_age}"

    def jwks_response(self) -> JWKSResponse:
        """The JWKS as an HTTP response: compact JSON, ``application/jwk-set+json``,
        ``Cache-Control`` from :meth:`jwks_cache_control`."""
        body = json.dumps(self.jwks(), separators=(",", ":")).encode("utf-8")
        return JWKSResponse(
            body=body,
            headers=MappingProxyType(
                {
                    "Content-Type": JWKS_MEDIA_TYPE,
                    "Cache-Control": self.jwks_cache_control(),
                    "X-Content-Type-Options": "nosniff",
                }
            ),
        )

    # -- KeySource: in-process verification of this manager's own tokens

    def get_key(self, kid: str | None, alg: str) -> VerificationKey:
        """The published verification key for ``kid`` (the manager is a ``KeySource``).

        Lets a single service verify its own tokens, HMAC ones included,
        without a JWKS round trip; a store outage is
        :class:`~jwt_guard_core.KeySourceUnavailable`.
        """
        try:
            view = self._load_view()
        except KeyStoreError as exc:
            raise KeySourceUnavailable(str(exc)) from None
        published = [view.verification[k.kid] for k in self._published(view.ring, self._clock())]
        key = select_key(published, {k.kid: k for k in published if k.kid}, kid, alg)
        if key is None:
            raise UnknownKid()
        return key

    async def aget_key(self, kid: str | None, alg: str) -> VerificationKey:
        # The store read may be a file or a Redis round trip: off the loop.
        return await asyncio.to_thread(self.get_key, kid, alg)

    # -- signing

    def _signing_key(self) -> StoredKey:
        """The active key, running due maintenance first when ``auto_rotate`` is on."""
        view = self._load_view()
        if view.ring.active is None:
            self.maybe_rotate()
            view = self._load_view()
        elif self._auto and self._due(view.ring, self._clock()):
            # Never wait here: if another instance holds the lock it is
            # doing this very work, and the current key is still valid.
            try:
                self.maybe_rotate(blocking=False)
            except KeyStoreError as exc:
                # A failed maintenance must not stop issuing: the current
                # key stays valid until the schedule is retried.
                logger.warning(
                    "scheduled key maintenance failed, signing with the current key: %s", exc
                )
            view = self._load_view()
        active = view.ring.active
        if active is None:  # pragma: no cover - maybe_rotate always leaves an active key
            raise KeyStoreError("the key store has no active signing key")
        return active

    # -- rotation

    def _due(self, ring: KeyRing, now: float) -> bool:
        active = ring.active
        if active is None:
            return True
        due_at = (active.info.activated_at or active.info.created_at) + self._interval
        nxt = ring.next
        if nxt is None and now >= due_at - self._ahead:
            return True
        if nxt is not None and now >= due_at and now >= nxt.info.created_at + self._max_age:
            return True
        return any(self._expired(ring, k, now) for k in ring.keys)

    def _new_key(self, state: str, now: float, algorithm: str) -> StoredKey:
        material: KeyMaterial | None = None
        signer: Signer | None = None
        if isinstance(self._store, GeneratesKeys):
            # Created inside the store's device (a PKCS#11 token): no key
            # material ever exists in this process.
            signer = self._store.generate_key(algorithm)
            kid = signer.kid
        else:
            material = generate_material(algorithm)
            kid = new_kid(material)
        info = KeyInfo(
            kid=kid,
            algorithm=algorithm,
            state="active" if state == "active" else "next",
            created_at=now,
            activated_at=now if state == "active" else None,
        )
        return StoredKey(info=info, material=material, external=signer)

    def _drop_expired(self, ring: KeyRing, now: float) -> tuple[list[StoredKey], list[StoredKey]]:
        kept: list[StoredKey] = []
        dropped: list[StoredKey] = []
        for k in ring.keys:
            (dropped if self._expired(ring, k, now) else kept).append(k)
        return kept, dropped

    def _commit(self, old: KeyRing, keys: list[StoredKey], epoch: int | None) -> KeyRing:
        ring = KeyRing(
            keys=tuple(keys),
            revision=old.revision,
            emergency_epoch=epoch,
            retention=self._retention_for(old),
        )
        saved = self._store.save(ring, expected_revision=old.revision)
        self._set_view(saved)
        return saved

    def _emit_dropped(self, dropped: list[StoredKey]) -> None:
        for k in dropped:
            events.emit(
                "key_retired_dropped",
                message="a retired signing key left the JWKS",
                kid=k.kid,
                alg=k.info.algorithm,
                retired_at=k.info.retired_at,
            )

    def maybe_rotate(self, *, blocking: bool = True) -> RotationOutcome:
        """Do whatever the schedule says is due, once across all instances.

        Creates the first key of an empty store, publishes the successor
        ``publish_ahead`` before the active key is ``rotation_interval``
        old, activates it when due (and published for ``jwks_max_age``),
        and drops retired keys past their retention. Runs under the store
        lock on a freshly read ring, so when several instances call it at
        once exactly one does the work and the others find nothing due.
        With ``blocking=False`` it returns at once when the lock is held.
        Call it from a scheduler every few minutes when ``auto_rotate`` is
        off.
        """
        with self._store.lock(blocking=blocking) as acquired:
            if not acquired:
                return RotationOutcome()
            ring = self._store.load()
            now = self._clock()
            keys, dropped = self._drop_expired(ring, now)
            created = published = activated = retired = None
            algorithm: str | None = None
            active = next((k for k in keys if k.state == "active"), None)
            if active is None:
                new = self._new_key("active", now, self._algorithm_for_new_key(ring))
                keys.append(new)
                created, algorithm = new.kid, new.info.algorithm
            else:
                due_at = (active.info.activated_at or active.info.created_at) + self._interval
                nxt = next((k for k in keys if k.state == "next"), None)
                if nxt is None and now >= due_at - self._ahead:
                    nxt = self._new_key("next", now, self._algorithm_for_new_key(ring))
                    keys.append(nxt)
                    published, algorithm = nxt.kid, nxt.info.algorithm
                if nxt is not None and now >= due_at and now >= nxt.info.created_at + self._max_age:
                    keys = self._promote(keys, active, nxt, now)
                    activated, retired = nxt.kid, active.kid
            outcome = RotationOutcome(
                created=created,
                published=published,
                activated=activated,
                retired=retired,
                dropped=tuple(k.kid for k in dropped),
            )
            if not outcome:
                return outcome
            self._commit(ring, keys, ring.emergency_epoch)
        self._emit_dropped(dropped)
        if created:
            events.emit(
                "key_created",
                message="the first signing key was created",
                kid=created,
                alg=algorithm,
            )
        if published:
            events.emit(
                "key_published",
                message="the next signing key was published ahead of rotation",
                kid=published,
                alg=algorithm,
            )
        if activated:
            events.emit(
                "key_rotated",
                message="the signing key was rotated on schedule",
                kid=activated,
                previous_kid=retired,
                scheduled=True,
            )
        return outcome

    @staticmethod
    def _promote(
        keys: list[StoredKey], active: StoredKey, new: StoredKey, now: float
    ) -> list[StoredKey]:
        result = []
        for k in keys:
            if k is active:
                k = replace(k, info=replace(k.info, state="retired", retired_at=now))
            elif k is new:
                k = replace(k, info=replace(k.info, state="active", activated_at=now))
            result.append(k)
        if not any(k is new for k in keys):
            result.append(replace(new, info=replace(new.info, state="active", activated_at=now)))
        return result

    def rotate(self) -> KeyInfo:
        """Make a new key active now; the old one is retired and stays published.

        A successor already published by the schedule is activated;
        otherwise a new key is generated (verifiers meet its kid at once and
        fetch the JWKS again, as ``RemoteJWKS`` does on an unknown kid).
        Retired keys past their retention are dropped. Emits
        ``key_rotated``.
        """
        with self._store.lock():
            ring = self._store.load()
            now = self._clock()
            keys, dropped = self._drop_expired(ring, now)
            active = next((k for k in keys if k.state == "active"), None)
            new = next((k for k in keys if k.state == "next"), None) or self._new_key(
                "next", now, self._algorithm_for_new_key(ring)
            )
            if active is None:
                keys = [*(k for k in keys if k is not new), new]
                keys = [
                    replace(k, info=replace(k.info, state="active", activated_at=now))
                    if k is new
                    else k
                    for k in keys
                ]
            else:
                keys = self._promote(keys, active, new, now)
            saved = self._commit(ring, keys, ring.emergency_epoch)
        self._emit_dropped(dropped)
        events.emit(
            "key_rotated",
            message="the signing key was rotated",
            kid=new.kid,
            previous_kid=active.kid if active else None,
            scheduled=False,
        )
        result = saved.active
        assert result is not None
        return result.info

    def emergency_rotate(self, *, reason: str | None = None) -> KeyInfo:
        """Replace every key at once, for a key that leaked or may have.

        The new key becomes active; every other key (active, successor and
        retired) leaves the store and the JWKS immediately, so tokens they
        signed fail with ``unknown_kid`` at every verifier that refetches.
        The emergency epoch (:attr:`emergency_epoch`) is set to now.

        With ``revocation=`` the removed kids are denied in the revocation
        store and the epoch is set there too: every verifier reading it
        refuses every token of those keys at once, whatever ``iat`` a forger
        wrote, even with the old JWKS still cached. The keys are replaced
        first; if the revocation store cannot be written,
        :class:`~jwt_guard_core.errors.StateUnavailable` is raised naming the
        kids (an event ``signing_keys_revocation_failed`` too), to be denied
        with ``RevocationService.revoke_keys`` once the store is back.
        Emits ``key_emergency_rotated`` at CRITICAL level.
        """
        with self._store.lock():
            ring = self._store.load()
            now = self._clock()
            new = self._new_key("active", now, self._algorithm_for_new_key(ring))
            # Integer seconds, like iat: "iat < epoch" is revoked. A token
            # signed by an old key within the same second keeps iat == epoch
            # but its key is gone from the JWKS.
            epoch = max(int(now), ring.emergency_epoch or 0)
            self._commit(ring, [new], epoch)
        events.emit(
            "key_emergency_rotated",
            level=logging.CRITICAL,
            reason=reason,
            message="emergency key rotation: every previous signing key was removed",
            kid=new.kid,
            removed_kids=",".join(k.kid for k in ring.keys) or None,
            emergency_epoch=epoch,
        )
        if self._revocation is not None:
            self._revoke([k.kid for k in ring.keys], epoch)
        return new.info

    def _revoke(self, kids: list[str], epoch: int) -> None:
        """Record an emergency in the shared revocation store, after the keys are replaced.

        Rotating first keeps the order safe: a failed revocation write leaves
        the leaked key out of the JWKS anyway, and the error names what must
        still be denied.
        """
        assert self._revocation is not None
        try:
            if kids:
                self._revocation.revoke_keys(kids)
            self._revocation.set_emergency_epoch(epoch)
        except StateUnavailable as exc:
            listed = ",".join(kids) or None
            events.emit(
                "signing_keys_revocation_failed",
                level=logging.CRITICAL,
                message="the keys were replaced but the revocation store was not written",
                kids=listed,
                emergency_epoch=epoch,
            )
            raise StateUnavailable(
                f"the signing keys were replaced, but the revocation store was not written "
                f"({exc.detail}); deny these kids with RevocationService.revoke_keys once it is "
                f"back: {listed}",
                retry_after=exc.retry_after,
            ) from None
