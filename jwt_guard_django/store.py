"""``DjangoSessionStore``: the core's session storage interfaces over Django models.

Implements :class:`~jwt_guard_core.sessions.RefreshTokenStore`,
:class:`~jwt_guard_core.sessions.RevocationStore`,
:class:`~jwt_guard_core.sessions.RateLimitStore` and
:class:`~jwt_guard_core.sessions.SessionListing` with the tables of
:mod:`jwt_guard_django.models` (``manage.py migrate`` creates them), so a
project whose processes share a database needs nothing else.

Spending a refresh token is one ``UPDATE ... WHERE spent_at IS NULL``: the
database decides which of two concurrent refreshes wins (its row count is 1
for exactly one of them), whatever the number of processes or machines.
Database errors become :class:`~jwt_guard_core.sessions.StoreUnavailable`,
which the core turns into 503 (fail closed).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar

from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Count, Max, Q

from jwt_guard_core.sessions import (
    FamilyRecord,
    RefreshRecord,
    RevocationState,
    SpendResult,
    StoreUnavailable,
)
from jwt_guard_core.sessions.listing import FailureCount, RevocationRule, ordered_rules
from jwt_guard_core.sessions.ratelimit import Reserved

from .models import FailedAttempt, RefreshFamily, RefreshToken, RevocationEntry

__all__ = ["DjangoSessionStore"]

_T = TypeVar("_T")
# Purge expired rows every this many writes: bounded tables without a cron job.
_SWEEP_EVERY = 512
# RevocationEntry.key's max_length; the verifier accepts kids of up to 256.
_MAX_KEY = 255


@contextmanager
def _database_errors() -> Iterator[None]:
    try:
        yield
    except DatabaseError as exc:
        # The message names the database error, never a token or a hash.
        raise StoreUnavailable(f"database error: {type(exc).__name__}: {exc}") from None


def _kid_key(kid: str) -> str:
    # A kid too long for the column is stored by digest, read back the same way.
    if len(kid) <= _MAX_KEY:
        return kid
    return "sha256:" + hashlib.sha256(kid.encode("utf-8", "surrogatepass")).hexdigest()


def _record(row: RefreshToken) -> RefreshRecord:
    return RefreshRecord(
        token_hash=row.token_hash,
        family_id=row.family_id,
        subject=row.subject,
        scopes=tuple(row.scopes.split()),
        issued_at=row.issued_at,
        expires_at=row.expires_at,
        spent_at=row.spent_at,
    )


def _family(row: RefreshFamily) -> FamilyRecord:
    return FamilyRecord(
        family_id=row.family_id,
        subject=row.subject,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
    )


class DjangoSessionStore:
    """Session state in the project's database (``SESSIONS["BACKEND"] = "django"``).

    Args:
        using: the database alias (default ``"default"``).
    """

    def __init__(self, using: str = "default") -> None:
        self._using = using
        self._writes = 0

    def __repr__(self) -> str:
        return f"DjangoSessionStore(using={self._using!r})"

    def _run(self, action: Callable[[], _T]) -> _T:
        with _database_errors():
            return action()

    def _wrote(self, now: float) -> None:
        self._writes += 1
        if self._writes % _SWEEP_EVERY == 0:
            self.purge(now=now)

    def purge(self, *, now: float) -> None:
        """Delete expired tokens, families, denylist entries and old failures."""

        def action() -> None:
            RefreshToken.objects.using(self._using).filter(expires_at__lte=now).delete()
            RefreshFamily.objects.using(self._using).filter(expires_at__lte=now).delete()
            RevocationEntry.objects.using(self._using).filter(
                kind__in=("jti", "sid", "kid"), value__lte=now
            ).delete()
            # The longest window is a day (FailureRateLimiter's bound).
            FailedAttempt.objects.using(self._using).filter(at__lte=now - 86400).delete()

        self._run(action)

    # -- RefreshTokenStore

    def create_family(self, family: FamilyRecord) -> None:
        self._run(
            lambda: RefreshFamily.objects.using(self._using).create(
                family_id=family.family_id,
                subject=family.subject,
                created_at=family.created_at,
                expires_at=family.expires_at,
                revoked_at=family.revoked_at,
            )
        )

    def add_token(self, record: RefreshRecord, *, now: float) -> None:
        self._run(
            lambda: RefreshToken.objects.using(self._using).create(
                token_hash=record.token_hash,
                family_id=record.family_id,
                subject=record.subject,
                scopes=" ".join(record.scopes),
                issued_at=record.issued_at,
                expires_at=record.expires_at,
                spent_at=record.spent_at,
            )
        )
        self._wrote(now)

    def spend(self, token_hash: str, *, now: float) -> SpendResult | None:
        def action() -> SpendResult | None:
            tokens = RefreshToken.objects.using(self._using)
            with transaction.atomic(using=self._using):
                # The database serialises the UPDATE: one caller sees rowcount 1.
                won = tokens.filter(token_hash=token_hash, spent_at__isnull=True).update(
                    spent_at=now
                )
                row = tokens.filter(token_hash=token_hash).first()
                if row is None:
                    return None
                family = (
                    RefreshFamily.objects.using(self._using).filter(family_id=row.family_id).first()
                )
            record = _record(row)
            if won:
                # The record as it was before this call: unspent.
                record = RefreshRecord(**{**record.__dict__, "spent_at": None})
            return SpendResult(
                record=record,
                family=_family(family) if family is not None else None,
                won=bool(won),
            )

        return self._run(action)

    def unspend(self, token_hash: str, *, spent_at: float) -> None:
        self._run(
            lambda: (
                RefreshToken.objects.using(self._using)
                .filter(token_hash=token_hash, spent_at=spent_at)
                .update(spent_at=None)
            )
        )

    def revoke_family(self, family_id: str, *, now: float) -> bool:
        return bool(
            self._run(
                lambda: (
                    RefreshFamily.objects.using(self._using)
                    .filter(family_id=family_id, revoked_at__isnull=True)
                    .update(revoked_at=now)
                )
            )
        )

    def revoke_subject(self, subject: str, *, now: float) -> int:
        revoked = self._run(
            lambda: (
                RefreshFamily.objects.using(self._using)
                .filter(subject=subject, revoked_at__isnull=True)
                .update(revoked_at=now)
            )
        )
        return int(revoked)

    def subject_sessions(self, subject: str, *, now: float) -> Sequence[str]:
        return self._run(
            lambda: tuple(
                RefreshFamily.objects.using(self._using)
                .filter(subject=subject, expires_at__gt=now)
                .values_list("family_id", flat=True)
            )
        )

    # -- RevocationStore

    def _raise_to(self, kind: str, key: str, value: float) -> None:
        # Times only move forward: insert, or raise an existing lower value
        # in one conditional UPDATE (no read-modify-write race).
        entries = RevocationEntry.objects.using(self._using)

        def action() -> None:
            try:
                with transaction.atomic(using=self._using):
                    entries.create(kind=kind, key=key, value=value)
            except IntegrityError:
                entries.filter(kind=kind, key=key, value__lt=value).update(value=value)

        self._run(action)

    def deny_jti(self, jti: str, *, expires_at: float, now: float) -> None:
        self._raise_to("jti", jti, expires_at)
        self._wrote(now)

    def deny_session(self, session_id: str, *, expires_at: float, now: float) -> None:
        self._raise_to("sid", session_id, expires_at)
        self._wrote(now)

    def deny_kid(self, kid: str, *, expires_at: float, now: float) -> None:
        self._raise_to("kid", _kid_key(kid), expires_at)
        self._wrote(now)

    def revoke_subject_before(self, subject: str, before: float) -> None:
        self._raise_to("subject", subject, before)

    def set_emergency_epoch(self, epoch: float) -> None:
        self._raise_to("epoch", "", epoch)

    def revocation_state(
        self,
        jti: str | None,
        subject: str | None,
        *,
        now: float,
        session: str | None = None,
        kid: str | None = None,
    ) -> RevocationState:
        wanted = Q(kind="epoch", key="")
        if jti is not None:
            wanted |= Q(kind="jti", key=jti)
        if session is not None:
            wanted |= Q(kind="sid", key=session)
        if subject is not None:
            wanted |= Q(kind="subject", key=subject)
        if kid is not None:
            wanted |= Q(kind="kid", key=_kid_key(kid))

        def action() -> dict[str, float]:
            rows = RevocationEntry.objects.using(self._using).filter(wanted)
            return dict(rows.values_list("kind", "value"))

        found = self._run(action)
        return RevocationState(
            jti_denied=found.get("jti", 0.0) > now,
            session_denied=found.get("sid", 0.0) > now,
            key_denied=found.get("kid", 0.0) > now,
            subject_revoked_before=found.get("subject"),
            emergency_epoch=found.get("epoch"),
        )

    # -- RateLimitStore

    def reserve(self, client: str, *, now: float, window: float, limit: int) -> Reserved:
        attempts = FailedAttempt.objects.using(self._using)

        def action() -> Reserved:
            # Insert first, committed on its own, then count: every
            # reservation sees the rows of all those committed before its
            # count, so the last of any set of admitted ones saw them all
            # and at most `limit` are admitted, on any database and without
            # a lock table. Under a burst a few too many may be refused,
            # never admitted. Inside a surrounding transaction (ATOMIC_REQUESTS)
            # the row is seen by others only at its commit.
            mine = attempts.create(client=client, at=now)
            attempts.filter(client=client, at__lte=now - window).delete()
            live = list(
                attempts.filter(client=client, at__gt=now - window)
                .order_by("at", "pk")
                .values_list("pk", "at")
            )
            counted = tuple(at for pk, at in live if pk != mine.pk)
            if len(live) > limit:
                attempts.filter(pk=mine.pk).delete()
                return Reserved(admitted=False, counted=counted)
            return Reserved(admitted=True, counted=counted)

        reserved = self._run(action)
        self._wrote(now)
        return reserved

    def release(self, client: str, *, at: float) -> None:
        def action() -> None:
            attempts = FailedAttempt.objects.using(self._using)
            one = attempts.filter(client=client, at=at).values_list("pk", flat=True)[:1]
            attempts.filter(pk__in=list(one)).delete()

        self._run(action)

    def add_failure(self, client: str, *, now: float, window: float, keep: int) -> None:
        def action() -> None:
            attempts = FailedAttempt.objects.using(self._using)
            with transaction.atomic(using=self._using):
                attempts.create(client=client, at=now)
                attempts.filter(client=client, at__lte=now - window).delete()
                # Keep at most ``keep`` rows per client: the limiter never
                # needs more, and a flood cannot grow the table.
                extra = list(
                    attempts.filter(client=client)
                    .order_by("-at", "-pk")
                    .values_list("pk", flat=True)[keep:]
                )
                if extra:
                    attempts.filter(pk__in=extra).delete()

        self._run(action)
        self._wrote(now)

    def recent_failures(self, client: str, *, now: float, window: float) -> Sequence[float]:
        return self._run(
            lambda: tuple(
                FailedAttempt.objects.using(self._using)
                .filter(client=client, at__gt=now - window)
                .order_by("at", "pk")
                .values_list("at", flat=True)
            )
        )

    # -- SessionListing (the admin pages query the models themselves)

    def list_families(
        self, *, now: float, subject: str | None = None, limit: int = 100
    ) -> Sequence[FamilyRecord]:
        def action() -> tuple[FamilyRecord, ...]:
            rows = RefreshFamily.objects.using(self._using).filter(expires_at__gt=now)
            if subject is not None:
                rows = rows.filter(subject=subject)
            return tuple(_family(r) for r in rows.order_by("-created_at", "family_id")[:limit])

        return self._run(action)

    def list_revocations(self, *, now: float, limit: int = 100) -> Sequence[RevocationRule]:
        def action() -> list[RevocationRule]:
            rows = RevocationEntry.objects.using(self._using).filter(
                Q(kind__in=("subject", "epoch")) | Q(value__gt=now)
            )
            return [
                RevocationRule(k, key, v) for k, key, v in rows.values_list("kind", "key", "value")
            ]

        return ordered_rules(self._run(action), limit)

    def list_failures(
        self, *, now: float, window: float, limit: int = 100
    ) -> Sequence[FailureCount]:
        def action() -> tuple[FailureCount, ...]:
            rows = (
                FailedAttempt.objects.using(self._using)
                .filter(at__gt=now - window)
                .values("client")
                .annotate(failures=Count("pk"), last_at=Max("at"))
                .order_by("-last_at", "client")[:limit]
            )
            return tuple(FailureCount(r["client"], r["failures"], r["last_at"]) for r in rows)

        return self._run(action)

    def clear_failures(self, client: str) -> int:
        def action() -> int:
            deleted, _ = FailedAttempt.objects.using(self._using).filter(client=client).delete()
            return int(deleted)

        return self._run(action)
