"""In-process session state: tests and single-process deployments.

One lock guards everything, so every operation is atomic across threads.
Nothing survives a restart and nothing is shared with other processes: use
:class:`~jwt_guard_core.sessions.SQLiteSessionStore` for several workers on
one machine and :class:`~jwt_guard_core.sessions.RedisSessionStore` for
several machines.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Sequence
from dataclasses import replace

from .listing import (
    FailureCount,
    RevocationRule,
    busiest_failures,
    newest_families,
    ordered_rules,
)
from .ratelimit import Reserved
from .refresh import FamilyRecord, RefreshRecord, SpendResult
from .revocation import RevocationState

__all__ = ["MemorySessionStore"]

# Expired entries are swept after this many writes, so memory stays bounded
# by what is alive without a background thread.
_SWEEP_EVERY = 1024


class MemorySessionStore:
    """Refresh tokens, revocation state and failure counts in this process's memory.

    Implements :class:`~jwt_guard_core.sessions.RefreshTokenStore`,
    :class:`~jwt_guard_core.sessions.RevocationStore`,
    :class:`~jwt_guard_core.sessions.RateLimitStore` and
    :class:`~jwt_guard_core.sessions.SessionListing`.
    """

    #: Answers without I/O: async callers need no worker thread.
    in_process = True

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[str, RefreshRecord] = {}
        self._families: dict[str, FamilyRecord] = {}
        self._by_subject: dict[str, set[str]] = {}
        self._denied: dict[str, float] = {}
        self._denied_sessions: dict[str, float] = {}
        self._denied_kids: dict[str, float] = {}
        self._subjects: dict[str, float] = {}
        self._epoch: float | None = None
        self._failures: dict[str, list[float]] = {}
        self._writes = 0

    def __repr__(self) -> str:
        return "MemorySessionStore()"

    def _wrote(self, now: float) -> None:
        self._writes += 1
        if self._writes % _SWEEP_EVERY == 0:
            self._purge(now)

    def purge(self, *, now: float) -> None:
        """Drop expired tokens, families and denylist entries."""
        with self._lock:
            self._purge(now)

    def _purge(self, now: float) -> None:
        self._tokens = {h: r for h, r in self._tokens.items() if r.expires_at > now}
        gone = {f for f, r in self._families.items() if r.expires_at <= now}
        for family_id in gone:
            record = self._families.pop(family_id)
            members = self._by_subject.get(record.subject)
            if members is not None:
                members.discard(family_id)
                if not members:
                    del self._by_subject[record.subject]
        self._denied = {j: t for j, t in self._denied.items() if t > now}
        self._denied_sessions = {s: t for s, t in self._denied_sessions.items() if t > now}
        self._denied_kids = {k: t for k, t in self._denied_kids.items() if t > now}

    # -- RefreshTokenStore

    def create_family(self, family: FamilyRecord) -> None:
        with self._lock:
            self._families[family.family_id] = family
            self._by_subject.setdefault(family.subject, set()).add(family.family_id)
            self._wrote(family.created_at)

    def add_token(self, record: RefreshRecord, *, now: float) -> None:
        with self._lock:
            self._tokens[record.token_hash] = record
            self._wrote(now)

    def spend(self, token_hash: str, *, now: float) -> SpendResult | None:
        with self._lock:
            record = self._tokens.get(token_hash)
            if record is None:
                return None
            won = record.spent_at is None
            if won:
                self._tokens[token_hash] = replace(record, spent_at=now)
            return SpendResult(record=record, family=self._families.get(record.family_id), won=won)

    def unspend(self, token_hash: str, *, spent_at: float) -> None:
        with self._lock:
            record = self._tokens.get(token_hash)
            if record is not None and record.spent_at == spent_at:
                self._tokens[token_hash] = replace(record, spent_at=None)

    def revoke_family(self, family_id: str, *, now: float) -> bool:
        with self._lock:
            family = self._families.get(family_id)
            if family is None or family.revoked_at is not None:
                return False
            self._families[family_id] = replace(family, revoked_at=now)
            return True

    def revoke_subject(self, subject: str, *, now: float) -> int:
        with self._lock:
            count = 0
            for family_id in self._by_subject.get(subject, ()):
                family = self._families[family_id]
                if family.revoked_at is None:
                    self._families[family_id] = replace(family, revoked_at=now)
                    count += 1
            return count

    def subject_sessions(self, subject: str, *, now: float) -> Sequence[str]:
        with self._lock:
            members = self._by_subject.get(subject, ())
            return tuple(f for f in members if self._families[f].expires_at > now)

    # -- RevocationStore

    def deny_jti(self, jti: str, *, expires_at: float, now: float) -> None:
        with self._lock:
            self._denied[jti] = max(expires_at, self._denied.get(jti, expires_at))
            self._wrote(now)

    def deny_session(self, session_id: str, *, expires_at: float, now: float) -> None:
        with self._lock:
            current = self._denied_sessions.get(session_id, expires_at)
            self._denied_sessions[session_id] = max(expires_at, current)
            self._wrote(now)

    def deny_kid(self, kid: str, *, expires_at: float, now: float) -> None:
        with self._lock:
            self._denied_kids[kid] = max(expires_at, self._denied_kids.get(kid, expires_at))
            self._wrote(now)

    def revoke_subject_before(self, subject: str, before: float) -> None:
        with self._lock:
            self._subjects[subject] = max(before, self._subjects.get(subject, before))

    def set_emergency_epoch(self, epoch: float) -> None:
        with self._lock:
            self._epoch = epoch if self._epoch is None else max(epoch, self._epoch)

    def revocation_state(
        self,
        jti: str | None,
        subject: str | None,
        *,
        now: float,
        session: str | None = None,
        kid: str | None = None,
    ) -> RevocationState:
        # Plain dict reads are atomic under the GIL; no lock on the hot path.
        denied_until = self._denied.get(jti) if jti is not None else None
        session_until = self._denied_sessions.get(session) if session is not None else None
        kid_until = self._denied_kids.get(kid) if kid is not None else None
        return RevocationState(
            jti_denied=denied_until is not None and denied_until > now,
            session_denied=session_until is not None and session_until > now,
            key_denied=kid_until is not None and kid_until > now,
            subject_revoked_before=self._subjects.get(subject) if subject is not None else None,
            emergency_epoch=self._epoch,
        )

    # -- RateLimitStore

    def _live_failures(self, client: str, now: float, window: float) -> list[float]:
        # Under the lock: the client's entries still in the window, oldest first.
        times = [t for t in self._failures.get(client, ()) if t > now - window]
        if times:
            self._failures[client] = times
        else:
            self._failures.pop(client, None)
        return times

    def _failure_written(self, now: float, window: float) -> None:
        self._writes += 1
        if self._writes % _SWEEP_EVERY == 0:
            # Clients whose newest entry left the window are forgotten.
            self._failures = {c: t for c, t in self._failures.items() if t and t[-1] > now - window}

    def reserve(self, client: str, *, now: float, window: float, limit: int) -> Reserved:
        with self._lock:
            times = self._live_failures(client, now, window)
            counted = tuple(times)
            if len(times) >= limit:
                return Reserved(admitted=False, counted=counted)
            bisect.insort(self._failures.setdefault(client, times), now)
            self._failure_written(now, window)
            return Reserved(admitted=True, counted=counted)

    def release(self, client: str, *, at: float) -> None:
        with self._lock:
            times = self._failures.get(client)
            if times is not None and at in times:
                times.remove(at)

    def add_failure(self, client: str, *, now: float, window: float, keep: int) -> None:
        with self._lock:
            times = self._live_failures(client, now, window)
            bisect.insort(times, now)
            # Only the newest `keep` matter.
            self._failures[client] = times[-keep:]
            self._failure_written(now, window)

    def recent_failures(self, client: str, *, now: float, window: float) -> Sequence[float]:
        with self._lock:
            return tuple(t for t in self._failures.get(client, ()) if t > now - window)

    # -- SessionListing

    def list_families(
        self, *, now: float, subject: str | None = None, limit: int = 100
    ) -> Sequence[FamilyRecord]:
        with self._lock:
            if subject is None:
                found = list(self._families.values())
            else:
                found = [self._families[f] for f in self._by_subject.get(subject, ())]
        return newest_families([f for f in found if f.expires_at > now], limit)

    def list_revocations(self, *, now: float, limit: int = 100) -> Sequence[RevocationRule]:
        with self._lock:
            rules = [
                RevocationRule(kind, key, until)
                for kind, table in (
                    ("jti", self._denied),
                    ("sid", self._denied_sessions),
                    ("kid", self._denied_kids),
                )
                for key, until in table.items()
                if until > now
            ]
            rules += [RevocationRule("subject", s, t) for s, t in self._subjects.items()]
            if self._epoch is not None:
                rules.append(RevocationRule("epoch", "", self._epoch))
        return ordered_rules(rules, limit)

    def list_failures(
        self, *, now: float, window: float, limit: int = 100
    ) -> Sequence[FailureCount]:
        with self._lock:
            live = {
                c: [t for t in times if t > now - window] for c, times in self._failures.items()
            }
        return busiest_failures(
            [FailureCount(c, len(times), times[-1]) for c, times in live.items() if times], limit
        )

    def clear_failures(self, client: str) -> int:
        with self._lock:
            return len(self._failures.pop(client, ()))
