"""A session store over primitive row operations: every decision here, the rows elsewhere.

:class:`RowSessionStore` implements the session storage interfaces over four
tables a :class:`Rows` supplies (``jwt_guard_django.store`` maps them to
Django models): which of two concurrent spends wins, how a revocation time
only moves forward, how the rate limit admits at most ``limit`` attempts, when
expired rows are swept. A :class:`Rows` only runs the queries it is given.

Tables and their fields (the records' field names):

* ``family``: ``family_id``, ``subject``, ``created_at``, ``expires_at``, ``revoked_at``;
* ``token``: ``token_hash``, ``family_id``, ``subject``, ``scopes`` (space-separated),
  ``issued_at``, ``expires_at``, ``spent_at``;
* ``rule``: ``kind`` (``jti``, ``sid``, ``kid``, ``subject``, ``epoch``), ``key``, ``value``;
  ``(kind, key)`` is unique;
* ``failure``: ``pk``, ``client``, ``at``.

A condition (:data:`Where`) maps a field, optionally followed by ``<=``,
``<``, ``>``, `` null`` or `` in``, to a value; all of them must hold.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, fields, replace
from typing import Any, Protocol

from .errors import StoreUnavailable
from .listing import FailureCount, RevocationRule, ordered_rules
from .ratelimit import Reserved
from .refresh import FamilyRecord, RefreshRecord, SpendResult
from .revocation import RevocationState

__all__ = [
    "FAILURE_HORIZON",
    "SWEEP_EVERY",
    "RowSessionStore",
    "Rows",
    "Where",
    "conditions",
    "kid_key",
    "revocation_state",
    "token_record",
]

Where = Mapping[str, Any]

#: Purge expired rows every this many writes: bounded tables without a cron job.
SWEEP_EVERY = 512
#: Failures older than this are purged: no rate-limit window is longer (a day).
FAILURE_HORIZON = 86400.0
# Rules that end at their value; "subject" and "epoch" rules are times, kept.
_EXPIRING = ("jti", "sid", "kid")
# The rule table's key length; the verifier accepts kids of up to 256.
_MAX_KEY = 255
_FAMILY = tuple(f.name for f in fields(FamilyRecord))
_TOKEN = tuple(f.name for f in fields(RefreshRecord))


class Rows(Protocol):
    """The primitive row operations :class:`RowSessionStore` needs of a database."""

    def atomic(self) -> AbstractContextManager[None]:
        """A transaction (a savepoint inside one)."""

    def insert(self, table: str, row: Mapping[str, Any], *, may_exist: bool = False) -> Any:
        """Insert ``row``, return its ``pk``; with ``may_exist``, None when its key exists."""

    def select(
        self,
        table: str,
        columns: Sequence[str],
        *where: Where,
        order: Sequence[str] = (),
        start: int = 0,
        limit: int | None = None,
    ) -> list[tuple[Any, ...]]:
        """``columns`` of the rows matching any of ``where`` (every row without one),
        ordered by ``order`` (``-field``: descending), ``limit`` from ``start``."""

    def update(self, table: str, where: Where, values: Mapping[str, Any]) -> int:
        """Set ``values`` on the matching rows; how many."""

    def delete(self, table: str, where: Where) -> int:
        """Delete the matching rows; how many."""

    def count_failures(self, since: float, limit: int) -> list[tuple[str, int, float]]:
        """``(client, count, latest at)`` of failures after ``since``, latest first, then client."""


def conditions(where: Where) -> Iterator[tuple[str, str, Any]]:
    """``(field, comparison, value)`` of each condition of ``where``; the comparison is
    ``""`` (equal), ``"<="``, ``"<"``, ``">"``, ``"null"`` or ``"in"``."""
    for name, value in where.items():
        field = name.split(" ")[0].rstrip("<=>")
        yield field, name[len(field) :].strip(), value


def kid_key(kid: str) -> str:
    """A kid as the rule table keys it: by digest when too long for the column."""
    if len(kid) <= _MAX_KEY:
        return kid
    return "sha256:" + hashlib.sha256(kid.encode("utf-8", "surrogatepass")).hexdigest()


def token_record(row: Sequence[Any]) -> RefreshRecord:
    """A ``token`` row (its fields in :class:`RefreshRecord` order) as a record."""
    values = dict(zip(_TOKEN, row, strict=True))
    return RefreshRecord(**{**values, "scopes": tuple(values["scopes"].split())})


def revocation_state(found: Mapping[str, float | None], now: float) -> RevocationState:
    """What the rules ``found`` (value by kind; None or missing: no rule) say at ``now``."""

    def denied(kind: str) -> bool:
        until = found.get(kind)
        return until is not None and until > now

    return RevocationState(
        jti_denied=denied("jti"),
        session_denied=denied("sid"),
        key_denied=denied("kid"),
        subject_revoked_before=found.get("subject"),
        emergency_epoch=found.get("epoch"),
    )


class RowSessionStore:
    """Refresh tokens, revocation rules and failures in the tables of ``rows``.

    Implements :class:`~jwt_guard_core.sessions.RefreshTokenStore`,
    :class:`~jwt_guard_core.sessions.RevocationStore`,
    :class:`~jwt_guard_core.sessions.RateLimitStore` and
    :class:`~jwt_guard_core.sessions.SessionListing`. Exceptions of the types
    ``failures`` become :class:`~jwt_guard_core.sessions.StoreUnavailable`
    (503: fail closed).
    """

    def __init__(self, rows: Rows, failures: tuple[type[BaseException], ...]) -> None:
        self._rows = rows
        self._failures = failures
        self._lock = threading.Lock()
        self._writes = 0

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except self._failures as exc:
            # The message names the database error, never a token or a hash.
            raise StoreUnavailable(f"database error: {type(exc).__name__}: {exc}") from None

    def _run(self, action: Callable[[Rows], Any]) -> Any:
        with self._errors():
            return action(self._rows)

    def _wrote(self, now: float) -> None:
        with self._lock:
            self._writes += 1
            sweep = self._writes % SWEEP_EVERY == 0
        if sweep:
            self.purge(now=now)

    def purge(self, *, now: float) -> None:
        """Delete expired tokens, families, denylist entries and old failures."""
        with self._errors():
            self._rows.delete("token", {"expires_at<=": now})
            self._rows.delete("family", {"expires_at<=": now})
            self._rows.delete("rule", {"kind in": _EXPIRING, "value<=": now})
            self._rows.delete("failure", {"at<=": now - FAILURE_HORIZON})

    # -- RefreshTokenStore

    def create_family(self, family: FamilyRecord) -> None:
        self._run(lambda rows: rows.insert("family", asdict(family)))

    def add_token(self, record: RefreshRecord, *, now: float) -> None:
        row = {**asdict(record), "scopes": " ".join(record.scopes)}
        self._run(lambda rows: rows.insert("token", row))
        self._wrote(now)

    def spend(self, token_hash: str, *, now: float) -> SpendResult | None:
        with self._errors(), self._rows.atomic():
            # The database serialises the UPDATE: one caller sees rowcount 1.
            unspent = {"token_hash": token_hash, "spent_at null": True}
            won = self._rows.update("token", unspent, {"spent_at": now})
            found = self._rows.select("token", _TOKEN, {"token_hash": token_hash})
            if not found:
                return None
            record = token_record(found[0])
            family = self._rows.select("family", _FAMILY, {"family_id": record.family_id})
        return SpendResult(
            # The record as it was before this call: unspent when this call won.
            record=replace(record, spent_at=None) if won else record,
            family=FamilyRecord(*family[0]) if family else None,
            won=bool(won),
        )

    def unspend(self, token_hash: str, *, spent_at: float) -> None:
        where = {"token_hash": token_hash, "spent_at": spent_at}
        self._run(lambda rows: rows.update("token", where, {"spent_at": None}))

    def _revoke(self, where: Where, now: float) -> int:
        where = {**where, "revoked_at null": True}
        return int(self._run(lambda rows: rows.update("family", where, {"revoked_at": now})))

    def revoke_family(self, family_id: str, *, now: float) -> bool:
        return bool(self._revoke({"family_id": family_id}, now))

    def revoke_subject(self, subject: str, *, now: float) -> int:
        return self._revoke({"subject": subject}, now)

    def subject_sessions(self, subject: str, *, now: float) -> Sequence[str]:
        where = {"subject": subject, "expires_at>": now}
        return tuple(
            r[0] for r in self._run(lambda rows: rows.select("family", ["family_id"], where))
        )

    # -- RevocationStore

    def _raise_to(self, kind: str, key: str, value: float) -> None:
        # Times only move forward: insert, or raise an existing lower value
        # in one conditional UPDATE (no read-modify-write race).
        def action(rows: Rows) -> None:
            if (
                rows.insert("rule", {"kind": kind, "key": key, "value": value}, may_exist=True)
                is None
            ):
                rows.update("rule", {"kind": kind, "key": key, "value<": value}, {"value": value})

        self._run(action)

    def deny_jti(self, jti: str, *, expires_at: float, now: float) -> None:
        self._raise_to("jti", jti, expires_at)
        self._wrote(now)

    def deny_session(self, session_id: str, *, expires_at: float, now: float) -> None:
        self._raise_to("sid", session_id, expires_at)
        self._wrote(now)

    def deny_kid(self, kid: str, *, expires_at: float, now: float) -> None:
        self._raise_to("kid", kid_key(kid), expires_at)
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
        asked = {"epoch": "", "jti": jti, "sid": session, "subject": subject}
        asked["kid"] = kid_key(kid) if kid is not None else None
        # One query for every rule that applies.
        wanted = [{"kind": k, "key": key} for k, key in asked.items() if key is not None]
        found = dict(self._run(lambda rows: rows.select("rule", ["kind", "value"], *wanted)))
        return revocation_state(found, now)

    # -- RateLimitStore

    def reserve(self, client: str, *, now: float, window: float, limit: int) -> Reserved:
        def action(rows: Rows) -> Reserved:
            # Insert first, committed on its own, then count: every
            # reservation sees the rows of all those committed before its
            # count, so the last of any set of admitted ones saw them all
            # and at most `limit` are admitted, on any database and without
            # a lock table. Under a burst a few too many may be refused,
            # never admitted. Inside a surrounding transaction (Django's
            # ATOMIC_REQUESTS) the row is seen by others only at its commit.
            mine = rows.insert("failure", {"client": client, "at": now})
            rows.delete("failure", {"client": client, "at<=": now - window})
            live = {"client": client, "at>": now - window}
            found = rows.select("failure", ["pk", "at"], live, order=["at", "pk"])
            counted = tuple(at for pk, at in found if pk != mine)
            if len(found) > limit:
                rows.delete("failure", {"pk": mine})
                return Reserved(admitted=False, counted=counted)
            return Reserved(admitted=True, counted=counted)

        reserved: Reserved = self._run(action)
        self._wrote(now)
        return reserved

    def release(self, client: str, *, at: float) -> None:
        def action(rows: Rows) -> None:
            one = rows.select("failure", ["pk"], {"client": client, "at": at}, limit=1)
            rows.delete("failure", {"pk in": [pk for (pk,) in one]})

        self._run(action)

    def add_failure(self, client: str, *, now: float, window: float, keep: int) -> None:
        def action(rows: Rows) -> None:
            with rows.atomic():
                rows.insert("failure", {"client": client, "at": now})
                rows.delete("failure", {"client": client, "at<=": now - window})
                # Keep at most ``keep`` rows per client: the limiter never
                # needs more, and a flood cannot grow the table.
                newest = ["-at", "-pk"]
                extra = rows.select("failure", ["pk"], {"client": client}, order=newest, start=keep)
                if extra:
                    rows.delete("failure", {"pk in": [pk for (pk,) in extra]})

        self._run(action)
        self._wrote(now)

    def recent_failures(self, client: str, *, now: float, window: float) -> Sequence[float]:
        where = {"client": client, "at>": now - window}
        found = self._run(lambda rows: rows.select("failure", ["at"], where, order=["at", "pk"]))
        return tuple(at for (at,) in found)

    # -- SessionListing

    def list_families(
        self, *, now: float, subject: str | None = None, limit: int = 100
    ) -> Sequence[FamilyRecord]:
        where: dict[str, Any] = {"expires_at>": now}
        if subject is not None:
            where["subject"] = subject
        order = ["-created_at", "family_id"]
        found = self._run(
            lambda rows: rows.select("family", _FAMILY, where, order=order, limit=limit)
        )
        return tuple(FamilyRecord(*row) for row in found)

    def list_revocations(self, *, now: float, limit: int = 100) -> Sequence[RevocationRule]:
        in_force = ({"kind in": ("subject", "epoch")}, {"value>": now})
        found = self._run(lambda rows: rows.select("rule", ["kind", "key", "value"], *in_force))
        return ordered_rules([RevocationRule(*row) for row in found], limit)

    def list_failures(
        self, *, now: float, window: float, limit: int = 100
    ) -> Sequence[FailureCount]:
        found = self._run(lambda rows: rows.count_failures(now - window, limit))
        return tuple(FailureCount(*row) for row in found)

    def clear_failures(self, client: str) -> int:
        return int(self._run(lambda rows: rows.delete("failure", {"client": client})))
