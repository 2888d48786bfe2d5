"""Refresh tokens: opaque, stored hashed, rotated on every use, reuse detected.

A refresh token is 256 bits from :mod:`secrets`, base64url-encoded. The store
only ever sees its SHA-256 hash: a leaked database or Redis dump holds no
usable token. (No salt or slow hash is needed: the input is 256 random bits,
so there is no dictionary to try.)

Every use *rotates* (OAuth 2.0 Security BCP, RFC 9700 section 4.14.2): the
presented token is spent atomically and a new one of the same *family* is
issued together with a new access token. A spent token presented again means
two parties hold copies of it, one of them a thief: the whole family is
revoked and a ``refresh_token_reuse`` security event is emitted, so the
thief's newer token dies with the victim's.

Lifetimes, all from the injected clock:

* ``lifetime`` (default 14 days): how long one token stays usable.
* ``idle_timeout`` (default: ``lifetime``): a session unused this long ends.
* ``family_lifetime`` (default 30 days): the absolute end of a session,
  however often it is refreshed; after it the user logs in again.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import re
import secrets
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any, Protocol, runtime_checkable

from .. import events
from ..errors import ConfigurationError, StateUnavailable, TokenError
from ..http import ErrorResponse, error_response
from .astore import async_face
from .errors import InvalidRefreshToken, StoreUnavailable
from .revocation import RevocationService
from .steps import Io, Steps, adrive, drive, offloaded, store_io

__all__ = [
    "AccessTokenIssuer",
    "FamilyRecord",
    "RefreshRecord",
    "RefreshTokenService",
    "RefreshTokenStore",
    "SessionTokens",
    "SpendResult",
    "hash_refresh_token",
    "refresh_error_response",
]

logger = logging.getLogger("jwt_guard.sessions")

DAY = 86400.0
DEFAULT_LIFETIME = 14 * DAY
DEFAULT_FAMILY_LIFETIME = 30 * DAY
_TOKEN_BYTES = 32  # 256 bits
_FAMILY_BYTES = 16  # hex-encoded: family ids are typed into revoke commands
# token_urlsafe(32) is exactly 43 base64url characters without padding.
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")
_SCOPE = re.compile(r"[\x21\x23-\x5B\x5D-\x7E]+")


def hash_refresh_token(token: str) -> str:
    """The SHA-256 hex digest a store keeps instead of the token itself."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


@dataclass(frozen=True)
class RefreshRecord:
    """What a store keeps about one refresh token (never the token itself).

    ``expires_at`` already folds in the idle timeout and the family's
    absolute lifetime; ``spent_at`` is ``None`` until the token is used.
    """

    token_hash: str
    family_id: str
    subject: str
    scopes: tuple[str, ...]
    issued_at: float
    expires_at: float
    spent_at: float | None = None


@dataclass(frozen=True)
class FamilyRecord:
    """One login session: every refresh token rotated from one first token."""

    family_id: str
    subject: str
    created_at: float
    expires_at: float
    revoked_at: float | None = None


@dataclass(frozen=True)
class SpendResult:
    """What :meth:`RefreshTokenStore.spend` found.

    ``record`` is the token as it was *before* this call (its ``spent_at``
    is the earlier spend when ``won`` is false); ``family`` is ``None`` when
    the family record is gone.
    """

    record: RefreshRecord
    family: FamilyRecord | None
    won: bool


@runtime_checkable
class RefreshTokenStore(Protocol):
    """Storage for refresh-token records and their families.

    Implementations: :class:`~jwt_guard_core.sessions.MemorySessionStore`,
    :class:`~jwt_guard_core.sessions.SQLiteSessionStore`,
    :class:`~jwt_guard_core.sessions.RedisSessionStore` (and the Django
    adapter's model store). Every method raises
    :class:`~jwt_guard_core.sessions.StoreUnavailable` when the storage
    cannot be reached. Records may be dropped once ``expires_at`` (tokens)
    or ``expires_at`` (families) has passed.
    """

    def create_family(self, family: FamilyRecord) -> None:
        """Store a new family."""

    def add_token(self, record: RefreshRecord, *, now: float) -> None:
        """Store a new, unspent token."""

    def spend(self, token_hash: str, *, now: float) -> SpendResult | None:
        """Atomically mark the token spent at ``now`` unless it already is.

        Exactly one of any number of concurrent calls for the same hash (in
        any thread, process or machine sharing the store) gets
        ``won=True``. ``None`` for an unknown hash.
        """

    def unspend(self, token_hash: str, *, spent_at: float) -> None:
        """Undo a spend made at ``spent_at`` (only if it is still that spend).

        Called when the replacement tokens could not be issued (key store or
        session store down), so the client's retry is not taken for theft.
        """

    def revoke_family(self, family_id: str, *, now: float) -> bool:
        """Mark the family revoked; ``True`` when it existed and was not revoked yet."""

    def revoke_subject(self, subject: str, *, now: float) -> int:
        """Revoke every family of ``subject``; returns how many were revoked."""

    def subject_sessions(self, subject: str, *, now: float) -> Sequence[str]:
        """The ids of ``subject``'s families not yet expired at ``now``, revoked or not."""


@runtime_checkable
class AccessTokenIssuer(Protocol):
    """Anything with :meth:`~jwt_guard_core.signing.TokenIssuer.issue_access_token`."""

    def issue_access_token(
        self,
        subject: str,
        *,
        scopes: Iterable[str] = (),
        claims: Mapping[str, Any] | None = None,
    ) -> str: ...


@dataclass(frozen=True)
class SessionTokens:
    """A new access token and refresh token, as a login or refresh returns them.

    ``refresh_token`` is the only copy of the token in clear text: hand it to
    the client (an HttpOnly cookie, or the JSON body) and drop it.
    """

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    subject: str
    scopes: tuple[str, ...]
    family_id: str
    refresh_expires_at: float

    def refresh_max_age(self, now: float) -> int:
        """Seconds until the refresh token expires, for a cookie's ``Max-Age``."""
        return max(0, int(self.refresh_expires_at - now))


def _duration(setting: str, value: float | timedelta | None, *, allow_none: bool) -> float | None:
    if value is None:
        if allow_none:
            return None
        raise ConfigurationError(setting, "a number of seconds or a timedelta is required")
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigurationError(setting, f"{value!r} is not a number of seconds or a timedelta")
    if value <= 0:
        raise ConfigurationError(setting, f"{value!r} is not a positive number of seconds")
    return float(value)


def _scopes(value: Iterable[str], setting: str) -> tuple[str, ...]:
    if isinstance(value, (str, bytes)):
        raise ConfigurationError(setting, "give a list of scope names, not one string")
    try:
        items = tuple(dict.fromkeys(value))
    except TypeError:
        raise ConfigurationError(setting, "must be an iterable of scope names") from None
    for scope in items:
        if not isinstance(scope, str) or _SCOPE.fullmatch(scope) is None:
            raise ConfigurationError(
                setting, "each scope must be printable ASCII without spaces (RFC 6749 3.3)"
            )
    return items


class RefreshTokenService:
    """Issues, rotates and revokes refresh tokens over a :class:`RefreshTokenStore`.

    Args:
        store: the backend (memory, SQLite, Redis, or the Django model store).
        access_tokens: issues the access token that goes with each refresh
            token: a :class:`~jwt_guard_core.signing.TokenIssuer` (or
            anything with ``issue_access_token(subject, *, scopes, claims)``),
            or a callable with the same signature.
        lifetime: how long one refresh token is usable (default 14 days).
        idle_timeout: a session not refreshed for this long ends (default:
            ``lifetime``; at most ``lifetime``).
        family_lifetime: the absolute limit of a session from login, however
            often it is refreshed (default 30 days).
        reuse_interval: seconds after a token is spent during which
            presenting it again is refused as ``refresh_token_spent``
            without revoking the family (for clients that race two refreshes,
            e.g. two browser tabs). Default 0: every re-presentation is
            treated as theft.
        session_claim: the claim that carries the family id in access
            tokens (default ``sid``), so that a logout holding only an access
            token can revoke its session; ``None`` to leave it out.
        revocation: a :class:`~jwt_guard_core.sessions.RevocationService`.
            When given, revoking a family (logout, detected reuse) also
            denylists its session id, so the session's access tokens still
            in flight are refused at once, and :meth:`revoke_subject` also
            refuses the subject's access tokens (log out everywhere in one
            call): those issued before it, and every one carrying the id of
            a session it ended, whatever the issuing clock said.
        clock: returns Unix time; inject a fake one in tests.
    """

    def __init__(
        self,
        store: RefreshTokenStore,
        *,
        access_tokens: AccessTokenIssuer | Callable[..., str],
        lifetime: float | timedelta = DEFAULT_LIFETIME,
        idle_timeout: float | timedelta | None = None,
        family_lifetime: float | timedelta = DEFAULT_FAMILY_LIFETIME,
        reuse_interval: float = 0.0,
        session_claim: str | None = "sid",
        revocation: RevocationService | None = None,
        clock: Callable[[], float] = time.time,
        astore: Any = None,
    ) -> None:
        if not isinstance(store, RefreshTokenStore):
            raise ConfigurationError("store", f"{type(store).__name__} is not a RefreshTokenStore")
        if isinstance(access_tokens, AccessTokenIssuer):
            self._issue_access: Callable[..., str] = access_tokens.issue_access_token
        elif callable(access_tokens):
            self._issue_access = access_tokens
        else:
            raise ConfigurationError(
                "access_tokens", "give a TokenIssuer or a callable(subject, *, scopes, claims)"
            )
        life = _duration("lifetime", lifetime, allow_none=False)
        assert life is not None
        self._lifetime: float = life
        idle = _duration("idle_timeout", idle_timeout, allow_none=True)
        self._idle = idle if idle is not None else self._lifetime
        if self._idle > self._lifetime:
            raise ConfigurationError(
                "idle_timeout",
                f"{self._idle:g} s is longer than lifetime ({self._lifetime:g} s); it would "
                "never apply",
            )
        family = _duration("family_lifetime", family_lifetime, allow_none=False)
        assert family is not None
        self._family_lifetime = family
        if (
            isinstance(reuse_interval, bool)
            or not isinstance(reuse_interval, (int, float))
            or not 0 <= reuse_interval <= 60
        ):
            raise ConfigurationError(
                "reuse_interval", f"{reuse_interval!r} is not a number of seconds from 0 to 60"
            )
        self._reuse_interval = float(reuse_interval)
        if session_claim is not None and (not isinstance(session_claim, str) or not session_claim):
            raise ConfigurationError("session_claim", "must be a claim name or None")
        self._session_claim = session_claim
        if revocation is not None and not isinstance(revocation, RevocationService):
            raise ConfigurationError("revocation", "must be a RevocationService")
        self._revocation = revocation
        if not callable(clock):
            raise ConfigurationError("clock", "must be a callable returning Unix time in seconds")
        self._store = store
        self._astore = async_face(store, astore)
        self._clock = clock

    @property
    def store(self) -> RefreshTokenStore:
        return self._store

    @property
    def astore(self) -> Any:
        """The async face of :attr:`store` the ``a...`` methods await."""
        return self._astore

    def _io(self, method: str, *args: Any, **kwargs: Any) -> Io:
        return store_io(self._store, self._astore, method, *args, **kwargs)

    @property
    def lifetime(self) -> float:
        return self._lifetime

    def __repr__(self) -> str:
        return f"RefreshTokenService({self._store!r}, lifetime={self._lifetime:g})"

    # -- issuing

    def issue(self, subject: str, *, scopes: Iterable[str] = ()) -> SessionTokens:
        """Start a session (a login): a new family, its first refresh token and an access token.

        Call it after the user's credentials were checked. ``scopes`` are
        what the session may ever hold; a refresh can narrow but never
        widen them (RFC 6749 section 6).
        """
        return drive(self.issue_steps(subject, scopes=scopes))

    async def aissue(self, subject: str, *, scopes: Iterable[str] = ()) -> SessionTokens:
        """Like :meth:`issue`, awaiting the async store (the access token signed in a thread)."""
        return await adrive(self.issue_steps(subject, scopes=scopes))

    def issue_steps(self, subject: str, *, scopes: Iterable[str] = ()) -> Steps[SessionTokens]:
        if not isinstance(subject, str) or not subject:
            raise ConfigurationError("subject", "must be a non-empty string")
        granted = _scopes(scopes, "scopes")
        now = self._clock()
        family = FamilyRecord(
            family_id=secrets.token_hex(_FAMILY_BYTES),
            subject=subject,
            created_at=now,
            expires_at=now + self._family_lifetime,
        )
        with _unavailable_as_503():
            yield self._io("create_family", family)
        return (yield from self._new_tokens(family, granted, granted, now))

    def _new_tokens(
        self,
        family: FamilyRecord,
        granted: tuple[str, ...],
        access_scopes: tuple[str, ...],
        now: float,
    ) -> Steps[SessionTokens]:
        # Access token first: if signing fails (key store down) no refresh
        # token is stored that the client never received. Signing may read
        # a key store: on the async path it runs in a worker thread.
        claims = {self._session_claim: family.family_id} if self._session_claim else None
        access: str = yield offloaded(
            partial(self._issue_access, family.subject, scopes=access_scopes, claims=claims)
        )
        token = secrets.token_urlsafe(_TOKEN_BYTES)
        record = RefreshRecord(
            token_hash=hash_refresh_token(token),
            family_id=family.family_id,
            subject=family.subject,
            scopes=granted,
            issued_at=now,
            expires_at=min(now + self._lifetime, now + self._idle, family.expires_at),
        )
        with _unavailable_as_503():
            yield self._io("add_token", record, now=now)
        return SessionTokens(
            access_token=access,
            refresh_token=token,
            subject=family.subject,
            scopes=access_scopes,
            family_id=family.family_id,
            refresh_expires_at=record.expires_at,
        )

    # -- rotating

    def refresh(self, token: str, *, scopes: Iterable[str] | None = None) -> SessionTokens:
        """Spend ``token`` and return a new refresh token and access token.

        ``scopes`` may narrow the new access token's scopes to a subset of
        the session's (RFC 6749 section 6); the new refresh token keeps the
        session's full grant.

        Raises:
            InvalidRefreshToken: 400 ``invalid_grant``; ``reason`` says why.
                A token presented after it was spent revokes its family and
                emits ``refresh_token_reuse`` (WARNING).
            StateUnavailable: 503; the store cannot be reached (reason
                ``session_store_unavailable``).
        """
        return drive(self.refresh_steps(token, scopes=scopes))

    async def arefresh(self, token: str, *, scopes: Iterable[str] | None = None) -> SessionTokens:
        """Like :meth:`refresh`, awaiting the async store: the same rotation and reuse rules."""
        return await adrive(self.refresh_steps(token, scopes=scopes))

    def refresh_steps(
        self, token: str, *, scopes: Iterable[str] | None = None
    ) -> Steps[SessionTokens]:
        token_hash = self._hash(token)
        now = self._clock()
        with _unavailable_as_503():
            result: SpendResult | None = yield self._io("spend", token_hash, now=now)
        if result is None:
            raise self._rejected("refresh_token_unknown", "no such refresh token")
        record, family = result.record, result.family

        if not result.won:
            if family is None or family.revoked_at is not None:
                # Already logged out (or already caught): nothing left to
                # protect, and a second tab presenting its old token after a
                # logout is no theft alarm.
                raise self._rejected("refresh_family_revoked", "the session was revoked", record)
            spent_at = record.spent_at if record.spent_at is not None else now
            if self._reuse_interval and now - spent_at < self._reuse_interval:
                raise self._rejected(
                    "refresh_token_spent",
                    "the refresh token was just rotated by a concurrent request",
                    record,
                )
            # Two holders of one token: the victim and a thief. Which one is
            # presenting it now cannot be known, so the session ends for both.
            with _unavailable_as_503():
                yield self._io("revoke_family", record.family_id, now=now)
            events.emit(
                "refresh_token_reuse",
                level=logging.WARNING,
                reason="refresh_token_reused",
                message="a spent refresh token was presented again; its family was revoked",
                subject=record.subject,
                family_id=record.family_id,
                spent_at=spent_at,
            )
            yield from self._end_access_tokens(record.family_id)
            raise InvalidRefreshToken(
                "the refresh token was already used", reason="refresh_token_reused"
            )
        try:
            return (yield from self._rotate(record, family, scopes, now))
        except BaseException:
            # Only a completed rotation leaves the token spent. A refused or
            # failed one gives it back, so the client's next attempt is
            # answered for what it is (expired, revoked, a retry after an
            # outage) and never taken for theft.
            with contextlib.suppress(StoreUnavailable):
                yield self._io("unspend", token_hash, spent_at=now)
            raise

    def _rotate(
        self,
        record: RefreshRecord,
        family: FamilyRecord | None,
        scopes: Iterable[str] | None,
        now: float,
    ) -> Steps[SessionTokens]:
        if family is None or family.revoked_at is not None:
            raise self._rejected("refresh_family_revoked", "the session was revoked", record)
        if now >= family.expires_at:
            raise self._rejected("refresh_family_expired", "the session is over", record)
        if self._idle < self._lifetime and now >= record.issued_at + self._idle:
            raise self._rejected("refresh_token_idle", "the session was idle too long", record)
        if now >= record.expires_at:
            raise self._rejected("refresh_token_expired", "the refresh token has expired", record)

        access_scopes = record.scopes
        if scopes is not None:
            try:
                wanted = _scopes(scopes, "scopes")
            except ConfigurationError:
                raise self._rejected("invalid_scope", "bad scope list", record) from None
            if not set(wanted) <= set(record.scopes):
                # RFC 6749 section 6: a refresh never widens the grant.
                raise self._rejected("invalid_scope", "scope not granted to the session", record)
            access_scopes = wanted
        return (yield from self._new_tokens(family, record.scopes, access_scopes, now))

    # -- revoking

    def revoke(self, token: str) -> bool:
        """Log out the session ``token`` belongs to (spent or not); ``True`` if it was live.

        An unknown or malformed token is not an error: logging out twice
        must not fail.
        """
        return drive(self.revoke_steps(token))

    async def arevoke(self, token: str) -> bool:
        """Like :meth:`revoke`, awaiting the async store."""
        return await adrive(self.revoke_steps(token))

    def revoke_steps(self, token: str) -> Steps[bool]:
        try:
            token_hash = self._hash(token)
        except InvalidRefreshToken:
            return False
        now = self._clock()
        with _unavailable_as_503():
            result: SpendResult | None = yield self._io("spend", token_hash, now=now)
            if result is None:
                return False
            revoked: bool = yield self._io("revoke_family", result.record.family_id, now=now)
        if revoked:
            events.emit("refresh_family_revoked", family_id=result.record.family_id)
        yield from self._end_access_tokens(result.record.family_id)
        return revoked

    def revoke_family(self, family_id: str) -> bool:
        """Revoke one session by family id (the ``sid`` claim of its access tokens)."""
        return drive(self.revoke_family_steps(family_id))

    async def arevoke_family(self, family_id: str) -> bool:
        """Like :meth:`revoke_family`, awaiting the async store."""
        return await adrive(self.revoke_family_steps(family_id))

    def revoke_family_steps(self, family_id: str) -> Steps[bool]:
        if not isinstance(family_id, str) or not family_id:
            return False
        with _unavailable_as_503():
            revoked: bool = yield self._io("revoke_family", family_id, now=self._clock())
        yield from self._end_access_tokens(family_id)
        if revoked:
            events.emit("refresh_family_revoked", family_id=family_id)
        return revoked

    def revoke_subject(self, subject: str) -> int:
        """Revoke every session of ``subject`` (log out everywhere); returns how many."""
        return drive(self.revoke_subject_steps(subject))

    async def arevoke_subject(self, subject: str) -> int:
        """Like :meth:`revoke_subject`, awaiting the async stores."""
        return await adrive(self.revoke_subject_steps(subject))

    def revoke_subject_steps(self, subject: str) -> Steps[int]:
        if not isinstance(subject, str) or not subject:
            raise ConfigurationError("subject", "must be a non-empty string")
        now = self._clock()
        ends_sessions = self._revocation is not None and self._session_claim is not None
        with _unavailable_as_503():
            # Read before revoking: a login racing this call keeps its new
            # session id off the denylist (its family is still revoked, and
            # its first access token, older than the logout, fails the time
            # rule), so a session id is never denied for what comes after.
            sessions: Sequence[str] = (
                (yield self._io("subject_sessions", subject, now=now)) if ends_sessions else ()
            )
            count: int = yield self._io("revoke_subject", subject, now=now)
        if self._revocation is not None:
            yield from self._revocation.revoke_subject_steps(subject)
            # The time rule trusts the issuer's clock; denying the session
            # ids also ends tokens minted by a clock running ahead.
            for family_id in sessions:
                yield from self._end_access_tokens(family_id)
        events.emit("refresh_subject_revoked", subject=subject, families=count)
        return count

    # -- helpers

    def _end_access_tokens(self, family_id: str) -> Steps[None]:
        # A revoked session's access tokens are still in flight for up to
        # their lifetime; the session denylist ends them now.
        if self._revocation is not None and self._session_claim is not None:
            yield from self._revocation.revoke_session_steps(family_id)

    @staticmethod
    def _hash(token: Any) -> str:
        # Shape first: garbage never reaches the store, and the hash input
        # is known to be ASCII.
        if not isinstance(token, str) or _TOKEN_SHAPE.fullmatch(token) is None:
            raise InvalidRefreshToken("the refresh token is not well formed", reason="malformed")
        return hash_refresh_token(token)

    @staticmethod
    def _rejected(
        reason: str, detail: str, record: RefreshRecord | None = None
    ) -> InvalidRefreshToken:
        events.emit(
            "refresh_token_rejected",
            reason=reason,
            message=f"refresh token rejected: {detail}",
            subject=record.subject if record else None,
            family_id=record.family_id if record else None,
        )
        return InvalidRefreshToken(detail, reason=reason)


@contextlib.contextmanager
def _unavailable_as_503() -> Iterator[None]:
    """Turn a backend outage into a 503: nothing is issued or accepted blind."""
    try:
        yield
    except StoreUnavailable as exc:
        events.emit(
            "session_store_unavailable",
            level=logging.ERROR,
            reason="session_store_unavailable",
            message=f"session store unavailable: {exc}",
        )
        raise StateUnavailable(
            "the session store is unavailable", reason="session_store_unavailable"
        ) from None


def refresh_error_response(error: TokenError) -> ErrorResponse:
    """The response a refresh (token) endpoint sends for a rejection.

    :class:`InvalidRefreshToken` becomes RFC 6749 section 5.2: 400 with
    ``{"error": "invalid_grant"}`` and no ``WWW-Authenticate`` (the refresh
    endpoint is not a Bearer-protected resource). Anything else is mapped by
    :func:`jwt_guard_core.http.error_response` (503 with ``Retry-After``,
    429 ...). Every answer carries ``Cache-Control: no-store`` (RFC 6749
    section 5.1).
    """
    if isinstance(error, InvalidRefreshToken):
        return ErrorResponse(
            status=400,
            headers={"Cache-Control": "no-store"},
            body={
                "error": "invalid_grant",
                "error_description": "The refresh token is invalid, expired or revoked.",
            },
        )
    base = error_response(error)
    return ErrorResponse(
        status=base.status, headers={**base.headers, "Cache-Control": "no-store"}, body=base.body
    )
