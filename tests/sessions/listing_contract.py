"""What every store's :class:`SessionListing` must answer; run on memory, SQLite, Redis, Django."""

from __future__ import annotations

from typing import Any

from jwt_guard_core.sessions import (
    FailureCount,
    FamilyRecord,
    RevocationRule,
    SessionListing,
)
from tests.factories import NOW


def _family(family_id: str, subject: str, age: float, *, life: float = 1000) -> FamilyRecord:
    return FamilyRecord(
        family_id=family_id, subject=subject, created_at=NOW - age, expires_at=NOW - age + life
    )


def check_families(store: Any) -> None:
    assert isinstance(store, SessionListing)
    assert list(store.list_families(now=NOW)) == []
    for record in (
        _family("f-old", "ann", 300),
        _family("f-new", "ann", 10),
        _family("f-bob", "bob", 100),
        _family("f-gone", "ann", 2000),  # expired 1000 s ago
    ):
        store.create_family(record)
    store.revoke_family("f-bob", now=NOW - 5)
    listed = store.list_families(now=NOW)
    assert [f.family_id for f in listed] == ["f-new", "f-bob", "f-old"]  # newest first
    assert listed[1] == FamilyRecord("f-bob", "bob", NOW - 100, NOW + 900, revoked_at=NOW - 5)
    assert [f.family_id for f in store.list_families(now=NOW, subject="ann")] == ["f-new", "f-old"]
    assert [f.family_id for f in store.list_families(now=NOW, limit=1)] == ["f-new"]
    assert list(store.list_families(now=NOW, subject="nobody")) == []


def check_revocations(store: Any) -> None:
    assert list(store.list_revocations(now=NOW)) == []
    store.deny_jti("jti-live", expires_at=NOW + 60, now=NOW)
    store.deny_jti("jti-over", expires_at=NOW - 1, now=NOW - 100)
    store.deny_session("sid-1", expires_at=NOW + 600, now=NOW)
    store.deny_kid("kid-1", expires_at=NOW + 6000, now=NOW)
    store.revoke_subject_before("ann", NOW - 30)
    store.set_emergency_epoch(NOW - 3600)
    assert list(store.list_revocations(now=NOW)) == [
        RevocationRule("jti", "jti-live", NOW + 60),
        RevocationRule("sid", "sid-1", NOW + 600),
        RevocationRule("kid", "kid-1", NOW + 6000),
        RevocationRule("subject", "ann", NOW - 30),
        RevocationRule("epoch", "", NOW - 3600),
    ]
    assert len(store.list_revocations(now=NOW, limit=2)) == 2


def check_failures(store: Any) -> None:
    assert list(store.list_failures(now=NOW, window=60)) == []
    for at in (NOW - 100, NOW - 30, NOW - 20):
        store.add_failure("203.0.113.7", now=at, window=60, keep=10)
    store.add_failure("198.51.100.1", now=NOW - 10, window=60, keep=10)
    assert list(store.list_failures(now=NOW, window=60)) == [
        FailureCount("198.51.100.1", 1, NOW - 10),
        FailureCount("203.0.113.7", 2, NOW - 20),  # the one 100 s ago left the window
    ]
    assert store.clear_failures("203.0.113.7") >= 2
    assert store.recent_failures("203.0.113.7", now=NOW, window=60) == ()
    assert [c.client for c in store.list_failures(now=NOW, window=60)] == ["198.51.100.1"]
    assert store.clear_failures("never-seen") == 0
