"""Revocation of access tokens before they expire (pipeline step 7).

Five rules, checked on every verification with one store read:

* signing-key denylist (a leaked key): every token verified by a key that
  :meth:`KeyManager.emergency_rotate` retired is refused, whatever its
  ``iat``: the holder of a leaked key writes the claims, so only the key
  itself can be judged. The verifier hands the check the kid of the key
  that verified the token (:meth:`RevocationService.is_token_revoked`).
* ``jti`` denylist (a logout): the entry lives until the token would have
  expired anyway, so the list never grows beyond the tokens still alive.
* session denylist: every access token carrying a revoked session id (the
  ``sid`` claim :class:`~jwt_guard_core.sessions.RefreshTokenService` puts
  in them), so a logout or a detected refresh-token theft also ends the
  access tokens of that session that are still in flight.
* per-subject "revoked before" (log out everywhere): every token of that
  subject with ``iat`` before the exact time of the logout is refused.
* the global emergency epoch: every token with ``iat`` before it is refused,
  whoever it belongs to. It stops stolen tokens of any key, not forged ones
  (see the key rule). It is read from the shared store and, when given, from
  the signing side's :class:`~jwt_guard_core.signing.KeyManager`
  (``emergency_epoch_source``).

"Log out everywhere" records the exact time and compares ``iat < time``.
``iat`` is a whole second rounded down from the moment of issue, so every
token issued before the logout is refused, even in the same second; the
price is that a token issued later in that same second (logging straight
back in within the second) is refused too. The emergency epoch is a whole
second, the convention of :meth:`KeyManager.emergency_rotate`. A token
without ``iat`` is refused as soon as a time rule applies to it, since it
cannot prove it is newer.

A :class:`RevocationService` is a :class:`~jwt_guard_core.RevocationCheck`:
give it to ``GuardConfig(revocation=...)``. When its store is down it fails
closed (503, :class:`~jwt_guard_core.errors.StateUnavailable`) unless
``fail_open=True``, which accepts the token and emits
``revocation_unavailable`` at ERROR level.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from .. import events
from ..errors import ConfigurationError, StateUnavailable
from ..token import VerifiedToken
from .astore import async_face
from .errors import StoreUnavailable
from .steps import Io, Steps, adrive, drive, offloaded, store_io

__all__ = [
    "DEFAULT_MAX_STALENESS",
    "REFRESHES_PER_BOUND",
    "RevocationService",
    "RevocationState",
    "RevocationStore",
    "check_max_staleness",
]

logger = logging.getLogger("jwt_guard.sessions")

# A revoked jti stays listed this long past its exp, so a verifier with the
# maximum leeway (300 s) still refuses it.
_DENYLIST_MARGIN = 300.0
# A token with no exp cannot say when its entry may go: keep it a year.
_NO_EXP_RETENTION = 365 * 86400.0
# "Until the end of year 9999": a signing key revoked for good. A number
# rather than None, so every backend stores and compares it like any expiry.
FOREVER = 253402300799.0
# The verifier refuses longer kids (MalformedToken), so none can be denied.
_MAX_KID_LENGTH = 256

#: How far, in seconds, a local copy of the revocation state (the Redis
#: revocation mirror) may lag a revocation made elsewhere, by default.
DEFAULT_MAX_STALENESS = 1.0
#: A local copy is refreshed this many times per staleness bound.
REFRESHES_PER_BOUND = 4


def check_max_staleness(value: Any) -> float:
    """A staleness bound in seconds, 0.05 to 60; ConfigurationError ``max_staleness`` otherwise.

    Here rather than beside the mirror so that settings are validated
    without importing redis-py.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.05 <= value <= 60:
        raise ConfigurationError(
            "max_staleness", f"{value!r} is not a number of seconds from 0.05 to 60"
        )
    return float(value)


@dataclass(frozen=True)
class RevocationState:
    """What the store knows about one token, read in one round trip."""

    jti_denied: bool = False
    session_denied: bool = False
    key_denied: bool = False
    subject_revoked_before: float | None = None
    emergency_epoch: float | None = None


@runtime_checkable
class RevocationStore(Protocol):
    """Storage for the denylists, per-subject times and the emergency epoch.

    Every method raises :class:`~jwt_guard_core.sessions.StoreUnavailable`
    when the storage cannot be reached. Setting a time never lowers a time
    already stored (the later revocation wins).
    """

    def deny_kid(self, kid: str, *, expires_at: float, now: float) -> None:
        """List a signing key's ``kid`` until ``expires_at`` (:data:`FOREVER`: for good)."""

    def deny_jti(self, jti: str, *, expires_at: float, now: float) -> None:
        """List ``jti`` until ``expires_at``."""

    def deny_session(self, session_id: str, *, expires_at: float, now: float) -> None:
        """List a session id (the ``sid`` claim) until ``expires_at``."""

    def revoke_subject_before(self, subject: str, before: float) -> None:
        """Refuse tokens of ``subject`` with ``iat < before``."""

    def set_emergency_epoch(self, epoch: float) -> None:
        """Refuse every token with ``iat < epoch``."""

    def revocation_state(
        self,
        jti: str | None,
        subject: str | None,
        *,
        now: float,
        session: str | None = None,
        kid: str | None = None,
    ) -> RevocationState:
        """Every rule's data for one token, in one read."""


class RevocationService:
    """The revocation check a :class:`~jwt_guard_core.Verifier` runs, and the calls that feed it.

    Args:
        store: a :class:`RevocationStore` (memory, SQLite or Redis); share it
            between the signing service and every API so a logout is seen
            everywhere at once.
        emergency_epoch_source: where else to read the emergency epoch: a
            :class:`~jwt_guard_core.signing.KeyManager` (its
            ``emergency_epoch``) or a callable returning a Unix time or
            ``None``. The later of it and the store's epoch applies.
        fail_open: when the store (or the epoch source) cannot be read,
            accept the token and emit ``revocation_unavailable`` instead of
            refusing with 503. Off by default: a revoked token must not get
            through because Redis restarted.
        retry_after: the ``Retry-After`` of the 503 (seconds).
        session_claim: the claim holding the session id (default ``sid``,
            as the refresh service issues it); ``None`` turns the session
            rule off.
        session_retention: how long a revoked session id stays listed
            (default one day); must exceed the longest access-token
            lifetime, after which every token of the session is expired.
        key_retention: how long a signing key revoked by
            :meth:`revoke_keys` (an emergency rotation) stays listed.
            ``None`` (the default) keeps it for good: a verifier configured
            with the old public key, or holding it in a cache, would accept
            forged tokens for as long as it trusts the key. A number of
            seconds must exceed the longest time any verifier may keep a
            JWKS (``RemoteJWKS`` ``max_ttl`` + ``stale_ttl``).
        clock: returns Unix time; inject a fake one in tests.
        astore: the store's async face for the ``a...`` methods (an
            :class:`~jwt_guard_core.sessions.AsyncRedisSessionStore`);
            default :class:`~jwt_guard_core.sessions.AsyncSessionStore` over
            ``store`` (a worker thread per call, none for a memory store).
            On the async path the epoch source is read in a worker thread,
            unless its ``known_emergency_epoch()`` returns ``(True, epoch)``:
            an answer held in memory (a
            :class:`~jwt_guard_core.signing.KeyManager` over an
            in-process key store, a remembered read still within its
            interval), read inline.

    Every write and :meth:`check` has a coroutine twin (``arevoke_token``,
    ``arevoke_session``, ``arevoke_subject``, ``ais_revoked`` ...) making the
    same decisions (:mod:`jwt_guard_core.sessions.steps`).
    """

    def __init__(
        self,
        store: RevocationStore,
        *,
        astore: Any = None,
        emergency_epoch_source: Any = None,
        fail_open: bool = False,
        retry_after: int = 5,
        session_claim: str | None = "sid",
        session_retention: float = 86400.0,
        key_retention: float | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not isinstance(store, RevocationStore):
            raise ConfigurationError("store", f"{type(store).__name__} is not a RevocationStore")
        # The source may also say when it holds the epoch in memory
        # (known_emergency_epoch): the async check then reads it inline.
        known = getattr(emergency_epoch_source, "known_emergency_epoch", None)
        self._epoch_known: Callable[[], tuple[bool, float | None]] | None = None
        if callable(known):

            def _known() -> tuple[bool, float | None]:
                found, value = known()
                return found, None if value is None else float(value)

            self._epoch_known = _known
        if emergency_epoch_source is None:
            self._epoch_source: Callable[[], float | None] | None = None
        elif hasattr(emergency_epoch_source, "emergency_epoch"):
            source = emergency_epoch_source

            def _read() -> float | None:
                value = source.emergency_epoch
                return None if value is None else float(value)

            self._epoch_source = _read
        elif callable(emergency_epoch_source):
            self._epoch_source = emergency_epoch_source
        else:
            raise ConfigurationError(
                "emergency_epoch_source",
                "give a KeyManager (or anything with .emergency_epoch) or a callable",
            )
        if not isinstance(fail_open, bool):
            raise ConfigurationError("fail_open", f"{fail_open!r} is not True or False")
        if isinstance(retry_after, bool) or not isinstance(retry_after, int) or retry_after < 1:
            raise ConfigurationError("retry_after", f"{retry_after!r} is not a whole number >= 1")
        if session_claim is not None and (not isinstance(session_claim, str) or not session_claim):
            raise ConfigurationError("session_claim", "must be a claim name or None")
        if (
            isinstance(session_retention, bool)
            or not isinstance(session_retention, (int, float))
            or not 60 <= session_retention <= 30 * 86400
        ):
            raise ConfigurationError(
                "session_retention",
                f"{session_retention!r} is not a number of seconds (60 to 30 days)",
            )
        if key_retention is not None and (
            isinstance(key_retention, bool)
            or not isinstance(key_retention, (int, float))
            or not 60 <= key_retention < FOREVER
        ):
            raise ConfigurationError(
                "key_retention", f"{key_retention!r} is not None or a number of seconds >= 60"
            )
        if not callable(clock):
            raise ConfigurationError("clock", "must be a callable returning Unix time in seconds")
        self._key_retention = None if key_retention is None else float(key_retention)
        self._session_claim = session_claim
        self._session_retention = float(session_retention)
        self._store = store
        self._fail_open = fail_open
        self._retry_after = retry_after
        self._clock = clock
        self._astore = async_face(store, astore)

    @property
    def store(self) -> RevocationStore:
        return self._store

    @property
    def astore(self) -> Any:
        """The async face of :attr:`store` the ``a...`` methods await."""
        return self._astore

    def _io(self, method: str, *args: Any, **kwargs: Any) -> Io:
        return store_io(self._store, self._astore, method, *args, **kwargs)

    def __repr__(self) -> str:
        return f"RevocationService({self._store!r}, fail_open={self._fail_open})"

    # -- writing

    def revoke_jti(self, jti: str, *, expires_at: float | None) -> None:
        """Deny the token with this ``jti`` until ``expires_at`` (its ``exp``).

        Raises :class:`~jwt_guard_core.errors.StateUnavailable` when the
        store is down: a logout that did not happen must not look like one.
        """
        drive(self.revoke_jti_steps(jti, expires_at=expires_at))

    async def arevoke_jti(self, jti: str, *, expires_at: float | None) -> None:
        """Like :meth:`revoke_jti`, awaiting the async store."""
        await adrive(self.revoke_jti_steps(jti, expires_at=expires_at))

    def revoke_jti_steps(self, jti: str, *, expires_at: float | None) -> Steps[None]:
        if not isinstance(jti, str) or not jti:
            raise ConfigurationError("jti", "must be a non-empty string")
        now = self._clock()
        until = (
            now + _NO_EXP_RETENTION if expires_at is None else float(expires_at) + _DENYLIST_MARGIN
        )
        yield from self._write("deny_jti", jti, expires_at=until, now=now)
        events.emit("token_revoked", jti=jti)

    def revoke_token(self, claims: Mapping[str, Any]) -> None:
        """Log out one access token, given its verified claims (uses ``jti`` and ``exp``)."""
        drive(self.revoke_token_steps(claims))

    async def arevoke_token(self, claims: Mapping[str, Any]) -> None:
        """Like :meth:`revoke_token`, awaiting the async store."""
        await adrive(self.revoke_token_steps(claims))

    def revoke_token_steps(self, claims: Mapping[str, Any]) -> Steps[None]:
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti:
            raise ConfigurationError(
                "claims", "the token has no jti, so it cannot be revoked on its own"
            )
        exp = claims.get("exp")
        until = float(exp) if isinstance(exp, (int, float)) and not isinstance(exp, bool) else None
        yield from self.revoke_jti_steps(jti, expires_at=until)

    def revoke_session(self, session_id: str) -> None:
        """Refuse every access token whose session claim (``sid``) is ``session_id``.

        :class:`~jwt_guard_core.sessions.RefreshTokenService` calls it
        whenever it revokes a family when given ``revocation=``.
        """
        drive(self.revoke_session_steps(session_id))

    async def arevoke_session(self, session_id: str) -> None:
        """Like :meth:`revoke_session`, awaiting the async store."""
        await adrive(self.revoke_session_steps(session_id))

    def revoke_session_steps(self, session_id: str) -> Steps[None]:
        if not isinstance(session_id, str) or not session_id:
            raise ConfigurationError("session_id", "must be a non-empty string")
        now = self._clock()
        until = now + self._session_retention
        yield from self._write("deny_session", session_id, expires_at=until, now=now)
        events.emit("session_revoked", family_id=session_id)

    def revoke_subject(self, subject: str, *, at: float | None = None) -> float:
        """Log ``subject`` out everywhere: refuse its tokens issued before ``at`` (default now).

        Returns the time recorded, exact (not rounded): a token issued in
        the same second before the logout carries that second, rounded
        down, as ``iat`` and is refused; one issued later in that second is
        refused too (see the module notes). Refresh-token sessions are
        separate: also call
        :meth:`~jwt_guard_core.sessions.RefreshTokenService.revoke_subject`,
        which calls this when given ``revocation=``.
        """
        return drive(self.revoke_subject_steps(subject, at=at))

    async def arevoke_subject(self, subject: str, *, at: float | None = None) -> float:
        """Like :meth:`revoke_subject`, awaiting the async store."""
        return await adrive(self.revoke_subject_steps(subject, at=at))

    def revoke_subject_steps(self, subject: str, *, at: float | None = None) -> Steps[float]:
        if not isinstance(subject, str) or not subject:
            raise ConfigurationError("subject", "must be a non-empty string")
        # Never floored: iat is rounded down, so "iat < floor(now)" let every
        # token minted earlier in the logout's own second through.
        before = float(self._clock() if at is None else at)
        yield from self._write("revoke_subject_before", subject, before)
        events.emit("subject_revoked", subject=subject, revoked_before=before)
        return before

    def set_emergency_epoch(self, epoch: float | None = None) -> float:
        """Refuse every token issued before ``epoch`` (default now), at every verifier.

        After :meth:`KeyManager.emergency_rotate` call it with
        ``keys.emergency_epoch`` so that verifiers that only share this
        store, not the key store, see the emergency too.
        """
        return drive(self.set_emergency_epoch_steps(epoch))

    async def aset_emergency_epoch(self, epoch: float | None = None) -> float:
        """Like :meth:`set_emergency_epoch`, awaiting the async store."""
        return await adrive(self.set_emergency_epoch_steps(epoch))

    def set_emergency_epoch_steps(self, epoch: float | None) -> Steps[float]:
        value = float(math.floor(self._clock() if epoch is None else epoch))
        yield from self._write("set_emergency_epoch", value)
        events.emit(
            "emergency_epoch_set",
            level=logging.CRITICAL,
            message="every token issued before the emergency epoch is now refused",
            emergency_epoch=value,
        )
        return value

    def revoke_keys(self, kids: Iterable[str]) -> tuple[str, ...]:
        """Refuse every token verified by one of these signing keys, whatever its claims.

        :meth:`KeyManager.emergency_rotate` calls it with every key it
        removed when the manager is given ``revocation=``. Kept for
        ``key_retention`` (default: for good). Returns the kids recorded.
        Raises :class:`~jwt_guard_core.errors.StateUnavailable` when the
        store is down.
        """
        return drive(self.revoke_keys_steps(kids))

    async def arevoke_keys(self, kids: Iterable[str]) -> tuple[str, ...]:
        """Like :meth:`revoke_keys`, awaiting the async store."""
        return await adrive(self.revoke_keys_steps(kids))

    def revoke_keys_steps(self, kids: Iterable[str]) -> Steps[tuple[str, ...]]:
        if isinstance(kids, (str, bytes)):
            raise ConfigurationError("kids", "give a list of kids, not one string")
        listed = tuple(kids)
        if not listed or not all(
            isinstance(k, str) and 0 < len(k) <= _MAX_KID_LENGTH for k in listed
        ):
            raise ConfigurationError(
                "kids", f"must be one or more non-empty strings of at most {_MAX_KID_LENGTH} chars"
            )
        now = self._clock()
        until = FOREVER if self._key_retention is None else now + self._key_retention
        for kid in listed:
            yield from self._write("deny_kid", kid, expires_at=until, now=now)
        events.emit(
            "signing_keys_revoked",
            level=logging.CRITICAL,
            message="every token of these signing keys is now refused, whatever its iat",
            kids=",".join(listed),
            until=until,
        )
        return listed

    def _write(self, method: str, *args: Any, **kwargs: Any) -> Steps[None]:
        try:
            yield self._io(method, *args, **kwargs)
        except StoreUnavailable as exc:
            # Writes always fail loudly, even with fail_open: the caller
            # must know the revocation did not happen.
            raise StateUnavailable(
                f"revocation not recorded: {exc}", retry_after=self._retry_after_for(exc)
            ) from None

    # -- reading

    def check(self, claims: Mapping[str, Any], *, kid: str | None = None) -> str | None:
        """The rule that revokes this token, or ``None``.

        One of ``key`` (``kid``, the key that verified the token, was
        revoked by :meth:`revoke_keys`), ``jti``, ``session``, ``subject``
        or ``emergency_epoch``.

        Raises :class:`~jwt_guard_core.errors.StateUnavailable` when the
        state cannot be read and the service fails closed.
        """
        return drive(self.check_steps(claims, kid=kid))

    async def acheck(self, claims: Mapping[str, Any], *, kid: str | None = None) -> str | None:
        """Like :meth:`check`, awaiting the async store (the epoch source in a thread)."""
        return await adrive(self.check_steps(claims, kid=kid))

    def check_steps(
        self, claims: Mapping[str, Any], *, kid: str | None = None
    ) -> Steps[str | None]:
        jti = claims.get("jti")
        sub = claims.get("sub")
        sid = claims.get(self._session_claim) if self._session_claim else None
        try:
            state: RevocationState = yield self._io(
                "revocation_state",
                jti if isinstance(jti, str) and jti else None,
                sub if isinstance(sub, str) and sub else None,
                now=self._clock(),
                session=sid if isinstance(sid, str) and sid else None,
                kid=kid if isinstance(kid, str) and kid else None,
            )
            source_epoch: float | None = (
                (yield offloaded(self._epoch_source, known=self._epoch_known))
                if self._epoch_source is not None
                else None
            )
        except Exception as exc:
            # Any failure to read (store or epoch source) is an outage here.
            self._unavailable(exc, claims)
            return None
        if state.key_denied:
            # Checked first and regardless of iat: whoever holds a leaked
            # key writes whatever claims get past the other rules.
            events.emit(
                "revoked_key_presented",
                level=logging.WARNING,
                message="a token signed by a key revoked in an emergency was presented",
                kid=kid,
                jti=jti if isinstance(jti, str) else None,
            )
            return "key"
        if state.jti_denied:
            return "jti"
        if state.session_denied:
            return "session"
        iat = claims.get("iat")
        # NaN compares false with everything: it must count as "no iat".
        issued = (
            float(iat)
            if isinstance(iat, (int, float)) and not isinstance(iat, bool) and math.isfinite(iat)
            else None
        )
        if _before(issued, state.subject_revoked_before):
            return "subject"
        epochs = [e for e in (state.emergency_epoch, source_epoch) if e is not None]
        if epochs and _before(issued, max(epochs)):
            return "emergency_epoch"
        return None

    def is_revoked(
        self, claims: Mapping[str, Any], issuer: str | None, *, kid: str | None = None
    ) -> bool:
        """The :class:`~jwt_guard_core.RevocationCheck` hook: is any rule against these claims?

        ``kid`` (the key that verified the token) enables the key rule.
        """
        return _revoked_by(self.check(claims, kid=kid))

    async def ais_revoked(
        self, claims: Mapping[str, Any], issuer: str | None, *, kid: str | None = None
    ) -> bool:
        """Like :meth:`is_revoked`, awaiting the async store: the event loop never blocks."""
        return _revoked_by(await self.acheck(claims, kid=kid))

    def is_token_revoked(self, token: VerifiedToken) -> bool:
        """What the :class:`~jwt_guard_core.Verifier` calls: every rule, the key rule included.

        The verifier prefers this to :meth:`is_revoked` when a revocation
        check has it, so the check sees ``token.kid``, the key that
        verified the signature (not a header the sender chose).
        """
        return self.is_revoked(token.claims, token.issuer, kid=token.kid)

    async def ais_token_revoked(self, token: VerifiedToken) -> bool:
        """Like :meth:`is_token_revoked`, off the event loop for a store that does I/O."""
        return await self.ais_revoked(token.claims, token.issuer, kid=token.kid)

    def _unavailable(self, exc: Exception, claims: Mapping[str, Any]) -> None:
        jti = claims.get("jti")
        if self._fail_open:
            events.emit(
                "revocation_unavailable",
                level=logging.ERROR,
                reason="revocation_unavailable",
                message="revocation state unreadable; token accepted (fail_open=True)",
                # StoreUnavailable messages name the backend and the cause's
                # class, never a host or password.
                error=str(exc) if isinstance(exc, StoreUnavailable) else type(exc).__name__,
                jti=jti if isinstance(jti, str) else None,
                fail_open=True,
            )
            return None
        if not isinstance(exc, StoreUnavailable):
            logger.error("reading the revocation state failed", exc_info=exc)
        raise StateUnavailable(
            "the revocation state cannot be read", retry_after=self._retry_after_for(exc)
        ) from None

    def _retry_after_for(self, exc: Exception) -> int:
        """``Retry-After``: an open circuit breaker's wait until its probe, else the default."""
        breaker_wait = getattr(exc, "retry_after", None)
        if isinstance(breaker_wait, int) and breaker_wait > 0:
            return max(self._retry_after, breaker_wait)
        return self._retry_after


def _revoked_by(rule: str | None) -> bool:
    if rule is not None:
        logger.debug("token revoked by the %s rule", rule, extra={"jwt_guard_rule": rule})
    return rule is not None


def _before(issued: float | None, limit: float | None) -> bool:
    if limit is None:
        return False
    # No iat: the token cannot show it is newer than the revocation.
    return issued is None or issued < limit
