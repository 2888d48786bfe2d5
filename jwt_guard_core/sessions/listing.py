"""What an operator may look at in a session store: sessions, revocation rules, failures.

The stores' hot paths read one key at a time; operating sessions (an admin
page, ``flask jwt-guard sessions ...``, ``manage.py jwt_guard_sessions``)
needs to list them. :class:`SessionListing` is that second interface, kept
apart from the stores' hot-path protocols so a user's own store stays a
valid ``RefreshTokenStore`` without it. Every backend of the core (memory,
SQLite, Redis) and the Django model store implement it.

Nothing listed is a secret: a family id is the ``sid`` claim of its access
tokens, a revocation rule names a ``jti``, session, key id or subject, a
failure row names a client's rate-limit key. Refresh tokens (even their
hashes) are never listed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from .refresh import FamilyRecord

__all__ = ["RULE_KINDS", "FailureCount", "RevocationRule", "SessionListing"]

#: A revocation rule's kind, as every store names it: a denied access token
#: (``jti``), session (``sid``) or signing key (``kid``) until ``value``; a
#: subject's "revoked before" time (``subject``); the emergency epoch
#: (``epoch``, key ``""``).
RULE_KINDS = ("jti", "sid", "kid", "subject", "epoch")


@dataclass(frozen=True)
class RevocationRule:
    """One revocation rule; ``value`` is an expiry (jti, sid, kid) or a time (subject, epoch)."""

    kind: str
    key: str
    value: float


@dataclass(frozen=True)
class FailureCount:
    """A client's failed attempts still in the rate-limit window, and the latest one."""

    client: str
    failures: int
    last_at: float


@runtime_checkable
class SessionListing(Protocol):
    """Listing and clearing for operators, over the same storage as the hot-path protocols.

    ``limit`` bounds every answer (the newest first); a store may scan to
    answer, so these are for operators, never for requests. Raises
    :class:`~jwt_guard_core.sessions.StoreUnavailable` when the storage
    cannot be reached.
    """

    def list_families(
        self, *, now: float, subject: str | None = None, limit: int = 100
    ) -> Sequence[FamilyRecord]:
        """Sessions not expired at ``now`` (revoked or not), newest first; ``subject``'s only."""

    def list_revocations(self, *, now: float, limit: int = 100) -> Sequence[RevocationRule]:
        """Rules in force at ``now``: denials not yet expired, subject times, the epoch."""

    def list_failures(
        self, *, now: float, window: float, limit: int = 100
    ) -> Sequence[FailureCount]:
        """Clients with entries in ``(now - window, now]``, the most recent first."""

    def clear_failures(self, client: str) -> int:
        """Forget every entry of the rate-limit key ``client``; returns how many there were."""


def newest_families(families: Sequence[FamilyRecord], limit: int) -> list[FamilyRecord]:
    """``families`` newest first (ties by id, so listings are stable), at most ``limit``."""
    return sorted(families, key=lambda f: (-f.created_at, f.family_id))[: max(0, limit)]


def ordered_rules(rules: Sequence[RevocationRule], limit: int) -> list[RevocationRule]:
    """``rules`` in :data:`RULE_KINDS` order, then by key, at most ``limit``."""
    order = {kind: i for i, kind in enumerate(RULE_KINDS)}
    return sorted(rules, key=lambda r: (order.get(r.kind, 99), r.key))[: max(0, limit)]


def busiest_failures(counts: Sequence[FailureCount], limit: int) -> list[FailureCount]:
    """``counts`` most recent first (ties by client), at most ``limit``."""
    return sorted(counts, key=lambda c: (-c.last_at, c.client))[: max(0, limit)]
