"""DjangoSessionStore: the core's three storage interfaces over the jwt_guard tables."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from jwt_guard_core.sessions import (
    FamilyRecord,
    RateLimitStore,
    RefreshRecord,
    RefreshTokenService,
    RefreshTokenStore,
    RevocationService,
    RevocationStore,
    StoreUnavailable,
    hash_refresh_token,
)
from jwt_guard_django.models import FailedAttempt, RefreshToken, RevocationEntry
from jwt_guard_django.store import DjangoSessionStore
from tests.django.db_threads import close_thread_connection
from tests.factories import NOW

pytestmark = pytest.mark.django_db


def family(family_id: str = "fam-1", subject: str = "user-1") -> FamilyRecord:
    return FamilyRecord(family_id=family_id, subject=subject, created_at=NOW, expires_at=NOW + 999)


def token(token_hash: str = "h" * 64, family_id: str = "fam-1") -> RefreshRecord:
    return RefreshRecord(
        token_hash=token_hash,
        family_id=family_id,
        subject="user-1",
        scopes=("a", "b"),
        issued_at=NOW,
        expires_at=NOW + 100,
    )


def test_store_implements_the_three_core_interfaces() -> None:
    store = DjangoSessionStore()
    assert isinstance(store, RefreshTokenStore)
    assert isinstance(store, RevocationStore)
    assert isinstance(store, RateLimitStore)


def test_spend_wins_once_then_reports_the_earlier_spend() -> None:
    store = DjangoSessionStore()
    store.create_family(family())
    store.add_token(token(), now=NOW)
    first = store.spend("h" * 64, now=NOW + 1)
    assert first is not None
    assert first.won is True
    assert first.record.spent_at is None
    assert first.record.scopes == ("a", "b")
    assert first.family == family()
    second = store.spend("h" * 64, now=NOW + 2)
    assert second is not None
    assert second.won is False
    assert second.record.spent_at == NOW + 1


def test_spend_of_an_unknown_hash_is_none() -> None:
    assert DjangoSessionStore().spend("x" * 64, now=NOW) is None


def test_unspend_undoes_only_that_spend() -> None:
    store = DjangoSessionStore()
    store.create_family(family())
    store.add_token(token(), now=NOW)
    store.spend("h" * 64, now=NOW + 1)
    store.unspend("h" * 64, spent_at=NOW + 5)  # not that spend: no effect
    assert RefreshToken.objects.get().spent_at == NOW + 1
    store.unspend("h" * 64, spent_at=NOW + 1)
    assert RefreshToken.objects.get().spent_at is None


def test_revoke_family_and_subject_report_what_changed() -> None:
    store = DjangoSessionStore()
    store.create_family(family("f1"))
    store.create_family(family("f2"))
    store.create_family(family("f3", subject="user-2"))
    assert store.revoke_family("f1", now=NOW) is True
    assert store.revoke_family("f1", now=NOW) is False
    assert store.revoke_family("nope", now=NOW) is False
    assert store.revoke_subject("user-1", now=NOW) == 1
    assert store.revoke_subject("user-2", now=NOW) == 1


def test_revocation_state_reads_every_rule_and_times_only_move_forward() -> None:
    store = DjangoSessionStore()
    store.deny_jti("j1", expires_at=NOW + 10, now=NOW)
    store.deny_session("s1", expires_at=NOW + 10, now=NOW)
    store.revoke_subject_before("user-1", NOW + 5)
    store.revoke_subject_before("user-1", NOW + 1)  # lower: ignored
    store.set_emergency_epoch(NOW + 3)
    store.set_emergency_epoch(NOW + 2)  # lower: ignored
    state = store.revocation_state("j1", "user-1", now=NOW, session="s1")
    assert state.jti_denied
    assert state.session_denied
    assert state.subject_revoked_before == NOW + 5
    assert state.emergency_epoch == NOW + 3
    later = store.revocation_state("j1", "user-2", now=NOW + 11, session="s1")
    assert not later.jti_denied
    assert not later.session_denied
    assert later.subject_revoked_before is None
    assert store.revocation_state(None, None, now=NOW).emergency_epoch == NOW + 3


def test_failures_are_kept_per_client_within_the_window_and_bounded() -> None:
    store = DjangoSessionStore()
    for i in range(10):
        store.add_failure("c1", now=NOW + i, window=60, keep=3)
    store.add_failure("c2", now=NOW, window=60, keep=3)
    assert store.recent_failures("c1", now=NOW + 9, window=60) == (NOW + 7, NOW + 8, NOW + 9)
    assert FailedAttempt.objects.filter(client="c1").count() == 3
    assert store.recent_failures("c1", now=NOW + 68, window=60) == (NOW + 9,)


def test_purge_drops_expired_rows() -> None:
    store = DjangoSessionStore()
    store.create_family(family())
    store.add_token(token(), now=NOW)
    store.deny_jti("j1", expires_at=NOW + 10, now=NOW)
    store.revoke_subject_before("user-1", NOW)
    store.purge(now=NOW + 1000)
    assert not RefreshToken.objects.exists()
    assert list(RevocationEntry.objects.values_list("kind", flat=True)) == ["subject"]


def test_database_errors_become_store_unavailable() -> None:
    store = DjangoSessionStore()
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE jwt_guard_revocation")
    with pytest.raises(StoreUnavailable, match="database error"):
        store.revocation_state("j1", "user-1", now=NOW)
    revocation = RevocationService(store, clock=lambda: NOW)
    from jwt_guard_core import StateUnavailable

    with pytest.raises(StateUnavailable) as caught:
        revocation.is_revoked({"jti": "j1", "sub": "user-1", "iat": NOW}, None)
    assert caught.value.status == 503


def test_the_service_runs_over_the_model_store() -> None:
    store = DjangoSessionStore()
    service = RefreshTokenService(
        store, access_tokens=lambda subject, **kw: f"access-{subject}", clock=lambda: NOW
    )
    tokens = service.issue("user-1", scopes=["a"])
    stored = RefreshToken.objects.get()
    assert stored.token_hash == hash_refresh_token(tokens.refresh_token)
    assert tokens.refresh_token not in str(list(RefreshToken.objects.values()))
    assert service.refresh(tokens.refresh_token).subject == "user-1"


@pytest.mark.django_db(transaction=True)
def test_of_two_concurrent_spends_exactly_one_wins() -> None:
    store = DjangoSessionStore()
    store.create_family(family())
    store.add_token(token(), now=NOW)
    barrier = threading.Barrier(2)
    results: list[Any] = []

    def spend() -> None:
        barrier.wait()
        try:
            results.append(store.spend("h" * 64, now=NOW + 1))
        except StoreUnavailable as exc:  # a locked database is an outage, never a win
            results.append(exc)
        finally:
            close_thread_connection()

    threads = [threading.Thread(target=spend) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [r for r in results if not isinstance(r, Exception) and r is not None and r.won]
    assert len(results) == 2
    assert len(winners) == 1
