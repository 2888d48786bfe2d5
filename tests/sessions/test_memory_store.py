"""MemorySessionStore: bounded by what is alive."""

from __future__ import annotations

from jwt_guard_core.sessions import MemorySessionStore
from tests.factories import NOW


def test_purge_drops_expired_tokens_families_and_denylist_entries(make_sessions, clock):
    store = MemorySessionStore()
    sessions = make_sessions(store)
    sessions.issue("old")
    store.deny_jti("old", expires_at=NOW + 10, now=NOW)
    clock.advance(31 * 86400)
    live = sessions.issue("new")
    store.purge(now=clock())
    assert [r.subject for r in store._tokens.values()] == ["new"]
    assert [f.subject for f in store._families.values()] == ["new"]
    assert list(store._by_subject) == ["new"]
    assert store._denied == {}
    assert sessions.refresh(live.refresh_token).subject == "new"


def test_writes_sweep_expired_entries_without_an_explicit_purge(clock):
    store = MemorySessionStore()
    for i in range(2000):
        store.deny_jti(f"j{i}", expires_at=clock() + 1, now=clock())
        clock.advance(1)
    assert len(store._denied) < 1100


def test_failure_log_per_client_is_capped_at_the_limit(clock):
    store = MemorySessionStore()
    for _ in range(100):
        store.add_failure("10.0.0.1", now=clock(), window=60, keep=5)
    assert len(store.recent_failures("10.0.0.1", now=clock(), window=60)) == 5
