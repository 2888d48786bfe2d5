"""Listing sessions, revocation rules and failed attempts, on every core backend; clearing.

The Django model store runs the same contract in
tests/django/test_session_admin.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from jwt_guard_core import ConfigurationError, SecurityEvent, StateUnavailable, admin
from jwt_guard_core.errors import RateLimited
from jwt_guard_core.sessions import FailureRateLimiter, MemorySessionStore, StoreUnavailable
from tests.factories import NOW, FakeClock
from tests.sessions.listing_contract import check_failures, check_families, check_revocations


def test_families_are_listed_newest_first_with_their_state(backend_store: Any) -> None:
    check_families(backend_store)


def test_revocation_rules_in_force_are_listed(backend_store: Any) -> None:
    check_revocations(backend_store)


def test_failures_are_listed_by_client_and_cleared(backend_store: Any) -> None:
    check_failures(backend_store)


def test_the_limiter_clears_a_client_and_lets_it_in_again(
    backend_store: Any, clock: FakeClock, recorded_events: list[SecurityEvent]
) -> None:
    limiter = FailureRateLimiter(backend_store, limit=2, window=60, clock=clock)
    for _ in range(2):
        limiter.record_failure("2001:db8:1:2::7")
    with pytest.raises(RateLimited) as refused:
        limiter.check("2001:db8:1:2::7")
    assert refused.value.reason == "rate_limited"
    # The listing shows the key (the /64 network); clearing by it or by the address works.
    assert limiter.clear("2001:db8:1:2::/64") == 2
    limiter.check("2001:db8:1:2::7")
    cleared = [e for e in recorded_events if e.name == "rate_limit_cleared"]
    assert cleared[-1].fields == {"client": "2001:db8:1:2::/64", "cleared": 2}


class _Down(MemorySessionStore):
    def clear_failures(self, client: str) -> int:
        raise StoreUnavailable("down")


def test_clearing_fails_loudly_when_the_store_is_down(clock: FakeClock) -> None:
    limiter = FailureRateLimiter(_Down(), clock=clock)
    with pytest.raises(StateUnavailable) as info:
        limiter.clear("203.0.113.7")
    assert info.value.reason == "rate_limit_unavailable"
    assert info.value.status == 503


class _NoListing:
    """A user's own store with only the hot-path methods of the rate limiter."""

    def reserve(self, client: str, *, now: float, window: float, limit: int) -> Any: ...
    def release(self, client: str, *, at: float) -> None: ...
    def add_failure(self, client: str, *, now: float, window: float, keep: int) -> None: ...
    def recent_failures(self, client: str, *, now: float, window: float) -> Any:
        return ()


def test_a_store_that_cannot_list_is_a_clear_error() -> None:
    store = _NoListing()
    with pytest.raises(ConfigurationError) as info:
        FailureRateLimiter(store).clear("203.0.113.7")
    assert "cannot clear failed attempts" in str(info.value)
    with pytest.raises(admin.UsageError, match="cannot list sessions"):
        admin.list_sessions(store, now=NOW)


def test_the_listing_lines_are_tables_without_secrets() -> None:
    store = MemorySessionStore()
    check_families(store)
    lines = [line.text for line in admin.list_sessions(store, now=NOW)]
    assert lines[0].split() == ["SESSION", "SUBJECT", "STARTED", "STATE"]
    assert lines[1].split()[:2] == ["f-new", "ann"]
    assert lines[2].split() == ["f-bob", "bob", admin.iso(NOW - 100), "revoked", admin.iso(NOW - 5)]
    assert [line.text for line in admin.list_sessions(store, now=NOW, subject="zed")] == [
        "no sessions of zed"
    ]
    check_revocations(store)
    assert [line.text for line in admin.list_revocations(store, now=NOW)][-1].endswith(
        "(emergency epoch)"
    )
    limiter = FailureRateLimiter(store, limit=2, window=60, clock=FakeClock(NOW))
    check_failures(store)
    store.add_failure("198.51.100.1", now=NOW - 5, window=60, keep=10)
    rows = [line.text.split() for line in admin.list_failures(store, limiter, now=NOW)]
    assert rows == [
        ["CLIENT", "FAILURES", "LAST", "STATE"],
        ["198.51.100.1", "2", admin.iso(NOW - 5), "refused"],
    ]
    assert admin.list_failures(store, None, now=NOW)[0].text.startswith("rate limiting is off")


def test_each_sessions_verb_runs_its_operation_on_the_session_side(
    make_sessions: Any, clock: FakeClock
) -> None:
    from types import SimpleNamespace

    store = MemorySessionStore()
    refresh_tokens = make_sessions(store)
    limiter = FailureRateLimiter(store, limit=2, window=60, clock=clock)
    side: Any = SimpleNamespace(
        store=store, clock=clock, limiter=limiter, refresh_tokens=refresh_tokens
    )
    laptop, phone = refresh_tokens.issue("ann"), refresh_tokens.issue("ann")
    limiter.record_failure("203.0.113.7")

    def texts(verb: str, **arguments: Any) -> list[str]:
        return [line.text for line in admin.sessions_verb(side, verb, **arguments)]

    assert texts("list", subject="ann")[0].split() == ["SESSION", "SUBJECT", "STARTED", "STATE"]
    assert len(texts("list", subject="ann", limit=1)) == 2
    assert texts("failed-attempts")[1].split()[:2] == ["203.0.113.7", "1"]
    assert texts("revoke-family", session=laptop.family_id) == [
        f"revoked session {laptop.family_id}"
    ]
    assert texts("logout-subject", subject="ann") == [
        "logged ann out everywhere (1 session(s) ended)"
    ]
    assert texts("clear-attempts", client="203.0.113.7") == [
        "cleared 1 failed attempt(s) of 203.0.113.7"
    ]
    # Without a revocation service the sessions end, but no rule is recorded.
    assert texts("revocations") == ["no revocations in force"]
    with pytest.raises(admin.UsageError, match="give a session id"):
        admin.sessions_verb(side, "revoke-family")
    with pytest.raises(admin.UsageError, match="'purge' is not a sessions command"):
        admin.sessions_verb(side, "purge")
    assert phone.family_id != laptop.family_id
