"""Revocation over the model store: same-second "log out everywhere" and revoked signing keys.

The core rules (tests/sessions/test_revocation_*.py) run here against the
``jwt_guard_revocation`` table, with the verifier on the injected clock.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from jwt_guard_core import TokenRevoked, Verifier
from jwt_guard_core.sessions import RefreshTokenService, RevocationService
from jwt_guard_django.models import RevocationEntry
from jwt_guard_django.store import DjangoSessionStore
from tests.factories import NOW, FakeClock, KeyRing, sign
from tests.factories import claims as make_claims

pytestmark = pytest.mark.django_db

HEADER = {"alg": "RS256", "kid": "rsa-1"}


def test_thief_token_from_earlier_in_the_logout_second_is_refused(
    make_verifier: Callable[..., Verifier], keyring: KeyRing, clock: FakeClock
) -> None:
    store = DjangoSessionStore()
    revocation = RevocationService(store, clock=clock)

    def issue(subject: str, *, scopes: Any = (), claims: Any = None) -> str:
        extra = dict(claims or {})
        return sign(HEADER, make_claims(sub=subject, iat=int(clock()), **extra), keyring.rsa)

    sessions = RefreshTokenService(store, access_tokens=issue, revocation=revocation, clock=clock)
    verifier = make_verifier(revocation=revocation)
    login = sessions.issue("user-1")
    clock.advance(0.3)
    thief = sessions.refresh(login.refresh_token)
    clock.advance(0.6)
    logout = clock()
    sessions.revoke_subject("user-1")
    clock.advance(30)
    with pytest.raises(TokenRevoked) as caught:
        verifier.verify(thief.access_token)
    assert caught.value.reason == "revoked"
    assert caught.value.status == 401
    # Both rules hold it: its session id was denied with the subject's sessions.
    assert RevocationEntry.objects.filter(kind="sid", key=login.family_id).exists()
    # Without the session claim, the exact logout time alone refuses it.
    bare = sign(HEADER, make_claims(sub="user-1", iat=int(NOW), jti="bare"), keyring.rsa)
    with pytest.raises(TokenRevoked):
        verifier.verify(bare)
    assert RevocationEntry.objects.get(kind="subject").value == logout
    clock.advance(1)
    later = sign(HEADER, make_claims(sub="user-1", iat=int(clock()), jti="later"), keyring.rsa)
    assert verifier.verify(later).subject == "user-1"


def test_revoked_signing_key_is_refused_whatever_its_iat(
    make_verifier: Callable[..., Verifier], keyring: KeyRing, clock: FakeClock
) -> None:
    revocation = RevocationService(DjangoSessionStore(), clock=clock)
    verifier = make_verifier(revocation=revocation)
    token = sign(HEADER, make_claims(iat=int(NOW) + 5), keyring.rsa)
    assert verifier.verify(token).kid == "rsa-1"
    revocation.revoke_keys(["rsa-1"])
    with pytest.raises(TokenRevoked) as caught:
        verifier.verify(token)
    assert caught.value.reason == "revoked"
    assert revocation.check({"iat": NOW + 5}, kid="rsa-1") == "key"
    assert revocation.check({"iat": NOW + 5}, kid="rsa-2") is None


def test_kid_entries_expire_and_long_kids_are_stored_by_digest(clock: FakeClock) -> None:
    store = DjangoSessionStore()
    long_kid = "k" * 256
    store.deny_kid(long_kid, expires_at=NOW + 10, now=NOW)
    store.deny_kid("short", expires_at=NOW + 20, now=NOW)
    assert store.revocation_state(None, None, now=NOW, kid=long_kid).key_denied
    assert not store.revocation_state(None, None, now=NOW, kid="k" * 255).key_denied
    assert all(len(k) <= 255 for k in RevocationEntry.objects.values_list("key", flat=True))
    assert not store.revocation_state(None, None, now=NOW + 10, kid=long_kid).key_denied
    store.purge(now=NOW + 15)
    assert list(RevocationEntry.objects.values_list("key", flat=True)) == ["short"]


def test_subject_sessions_lists_the_unexpired_families(clock: FakeClock) -> None:
    from jwt_guard_core.sessions import FamilyRecord

    store = DjangoSessionStore()
    for family_id, subject, life in (("f1", "u1", 100), ("f2", "u1", 10), ("f3", "u2", 100)):
        store.create_family(
            FamilyRecord(
                family_id=family_id, subject=subject, created_at=NOW, expires_at=NOW + life
            )
        )
    store.revoke_family("f1", now=NOW)
    assert sorted(store.subject_sessions("u1", now=NOW)) == ["f1", "f2"]
    assert list(store.subject_sessions("u1", now=NOW + 10)) == ["f1"]
