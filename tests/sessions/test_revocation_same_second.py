""" "Log out everywhere" refuses every access token issued before it, even in the same second.

The finding: a thief refreshes at N.3 s and gets an access token with
``iat = N``; the victim logs out everywhere at N.9 s. Compared with the
logout rounded down (``iat < N``) the thief's token stayed valid for its
whole lifetime. The logout time is now exact, so ``N < N.9`` refuses it. The
price, documented: a token issued later in that same second (N.95) carries
``iat = N`` too and is refused; from N+1 on, new tokens pass.
"""

from __future__ import annotations

import pytest

from jwt_guard_core import TokenRevoked
from jwt_guard_core.sessions import RevocationService
from tests.factories import NOW, claims, sign

HEADER = {"alg": "RS256", "kid": "rsa-1"}


@pytest.fixture
def wired(backend_store, make_sessions, guarded_verifier, clock):
    revocation = RevocationService(backend_store, clock=clock)
    sessions = make_sessions(backend_store, revocation=revocation)
    return sessions, revocation, guarded_verifier(revocation)


def test_thief_token_refreshed_earlier_in_the_logout_second_is_refused(wired, clock):
    sessions, _, verifier = wired
    login = sessions.issue("user-1")
    clock.advance(0.3)  # N.3: the thief spends the stolen refresh token
    thief = sessions.refresh(login.refresh_token)
    assert verifier.verify(thief.access_token).subject == "user-1"
    clock.advance(0.6)  # N.9: the victim logs out everywhere
    assert sessions.revoke_subject("user-1") == 1
    for later in (0, 30):
        clock.advance(later)
        with pytest.raises(TokenRevoked) as caught:
            verifier.verify(thief.access_token)
        assert caught.value.reason == "revoked"
        assert caught.value.status == 401


def test_token_issued_in_the_logout_second_before_it_is_refused_by_the_subject_rule(
    backend_store, guarded_verifier, keyring, clock
):
    # No session claim: the subject rule alone must catch it.
    revocation = RevocationService(backend_store, clock=clock)
    verifier = guarded_verifier(revocation)
    clock.advance(0.3)
    thief = sign(HEADER, claims(sub="user-1", iat=int(clock()), jti="thief"), keyring.rsa)
    clock.advance(0.6)
    revocation.revoke_subject("user-1")
    clock.advance(30)
    with pytest.raises(TokenRevoked) as caught:
        verifier.verify(thief)
    assert caught.value.reason == "revoked"
    assert revocation.check({"sub": "user-1", "iat": int(NOW)}) == "subject"


def test_same_second_relogin_is_refused_and_the_next_second_passes(
    backend_store, guarded_verifier, keyring, clock
):
    revocation = RevocationService(backend_store, clock=clock)
    verifier = guarded_verifier(revocation)
    clock.advance(0.9)
    revocation.revoke_subject("user-1")
    clock.advance(0.05)  # N.95: iat is still N, indistinguishable from a thief's
    relogin = sign(HEADER, claims(sub="user-1", iat=int(clock()), jti="again"), keyring.rsa)
    with pytest.raises(TokenRevoked):
        verifier.verify(relogin)
    clock.advance(0.05)  # N+1
    fresh = sign(HEADER, claims(sub="user-1", iat=int(clock()), jti="fresh"), keyring.rsa)
    assert verifier.verify(fresh).subject == "user-1"
    # A sub-second iat from another issuer is compared exactly.
    assert revocation.check({"sub": "user-1", "iat": NOW + 0.95}) is None
    assert revocation.check({"sub": "user-1", "iat": NOW + 0.85}) == "subject"


def test_session_ids_are_denied_so_an_issuer_clock_running_ahead_changes_nothing(
    backend_store, make_sessions, guarded_verifier, keyring, clock
):
    # The token service's clock runs 2 s ahead of the one recording the
    # logout: the thief's iat is after the logout time, but its session id
    # was denied with every session of the subject.
    from tests.sessions.conftest import FactoryIssuer

    ahead = FactoryIssuer(keyring, lambda: clock() + 2)  # type: ignore[arg-type]
    revocation = RevocationService(backend_store, clock=clock)
    sessions = make_sessions(backend_store, access_tokens=ahead, revocation=revocation)
    verifier = guarded_verifier(revocation)
    login = sessions.issue("user-1")
    other = sessions.issue("user-2")
    clock.advance(0.3)
    thief = sessions.refresh(login.refresh_token)
    clock.advance(0.6)
    assert sessions.revoke_subject("user-1") == 1
    assert revocation.check({"sub": "user-1", "iat": NOW + 2, "sid": login.family_id}) == (
        "session"
    )
    with pytest.raises(TokenRevoked):
        verifier.verify(thief.access_token)
    assert verifier.verify(other.access_token).subject == "user-2"
    # A login after the logout is a new session: its tokens pass.
    clock.advance(1)
    again = sessions.issue("user-1")
    assert verifier.verify(again.access_token).claims["sid"] == again.family_id


def test_subject_sessions_lists_the_unexpired_families_revoked_or_not(backend_store):
    from jwt_guard_core.sessions import FamilyRecord

    for family_id, subject, life in (("f1", "u1", 100), ("f2", "u1", 10), ("f3", "u2", 100)):
        backend_store.create_family(
            FamilyRecord(
                family_id=family_id, subject=subject, created_at=NOW, expires_at=NOW + life
            )
        )
    backend_store.revoke_family("f1", now=NOW)
    assert sorted(backend_store.subject_sessions("u1", now=NOW)) == ["f1", "f2"]
    assert list(backend_store.subject_sessions("u1", now=NOW + 10)) == ["f1"]
    assert list(backend_store.subject_sessions("nobody", now=NOW)) == []
