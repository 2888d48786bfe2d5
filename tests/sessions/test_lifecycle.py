"""The whole life of a session, once per backend (memory, SQLite, real Redis).

issue -> use -> refresh -> reuse detected -> family revoked; logout (jti
denylisted); logout everywhere; emergency epoch. Every access token is
checked by a real Verifier whose GuardConfig carries the RevocationService.
"""

from __future__ import annotations

import pytest

from jwt_guard_core import TokenRevoked
from jwt_guard_core.http import error_response
from jwt_guard_core.sessions import InvalidRefreshToken, RevocationService
from tests.factories import named


def test_full_session_life_cycle_on_each_backend(
    backend_store, make_sessions, guarded_verifier, clock, recorded_events
):
    sessions = make_sessions(backend_store)
    revocation = RevocationService(backend_store, clock=clock)
    verifier = guarded_verifier(revocation)

    # Login: an access token that verifies, carrying the session id.
    login = sessions.issue("user-1", scopes=["orders:read", "profile"])
    first = verifier.verify(login.access_token)
    assert first.subject == "user-1"
    assert first.scopes == frozenset({"orders:read", "profile"})
    assert first.claims["sid"] == login.family_id

    # Refresh: the old refresh token is spent, a new pair is issued.
    clock.advance(600)
    rotated = sessions.refresh(login.refresh_token)
    assert rotated.refresh_token != login.refresh_token
    assert rotated.family_id == login.family_id
    second = verifier.verify(rotated.access_token)
    assert second.claims["jti"] != first.claims["jti"]

    # Reuse: the spent token again revokes the whole family...
    clock.advance(5)
    with pytest.raises(InvalidRefreshToken) as reused:
        sessions.refresh(login.refresh_token)
    assert reused.value.reason == "refresh_token_reused"
    assert reused.value.status == 400
    assert reused.value.error == "invalid_grant"
    (event,) = named(recorded_events, "refresh_token_reuse")
    assert event.fields["family_id"] == login.family_id
    assert event.fields["subject"] == "user-1"

    # ...so the thief's (or victim's) newer token is dead too.
    with pytest.raises(InvalidRefreshToken) as revoked:
        sessions.refresh(rotated.refresh_token)
    assert revoked.value.reason == "refresh_family_revoked"

    # Logout: the access token's jti is denylisted and refused at once.
    session = sessions.issue("user-1", scopes=["orders:read"])
    token = verifier.verify(session.access_token)
    revocation.revoke_token(token.claims)
    assert sessions.revoke(session.refresh_token) is True
    with pytest.raises(TokenRevoked) as logout:
        verifier.verify(session.access_token)
    assert logout.value.reason == "revoked"
    response = error_response(logout.value)
    assert response.status == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'
    with pytest.raises(InvalidRefreshToken) as after_logout:
        sessions.refresh(session.refresh_token)
    assert after_logout.value.reason == "refresh_family_revoked"
    assert len(named(recorded_events, "refresh_token_reuse")) == 1

    # Logout everywhere: every token of the subject issued before now.
    phone = sessions.issue("user-1")
    laptop = sessions.issue("user-1")
    other = sessions.issue("user-2")
    clock.advance(1)
    revocation.revoke_subject("user-1")
    assert sessions.revoke_subject("user-1") >= 2
    for tokens in (phone, laptop):
        with pytest.raises(TokenRevoked):
            verifier.verify(tokens.access_token)
        with pytest.raises(InvalidRefreshToken) as everywhere:
            sessions.refresh(tokens.refresh_token)
        assert everywhere.value.reason == "refresh_family_revoked"
    assert verifier.verify(other.access_token).subject == "user-2"
    # Logging back in after it works: the new token is issued after the time.
    clock.advance(1)
    again = sessions.issue("user-1")
    assert verifier.verify(again.access_token).subject == "user-1"

    # Emergency epoch: every token issued before it, any subject.
    clock.advance(1)
    revocation.set_emergency_epoch()
    for tokens in (other, again):
        with pytest.raises(TokenRevoked):
            verifier.verify(tokens.access_token)
    clock.advance(1)
    fresh = sessions.issue("user-2")
    assert verifier.verify(fresh.access_token).subject == "user-2"


def test_refresh_chain_keeps_working_across_many_rotations(
    backend_store, make_sessions, guarded_verifier, clock
):
    sessions = make_sessions(backend_store)
    verifier = guarded_verifier(RevocationService(backend_store, clock=clock))
    tokens = sessions.issue("user-1", scopes=["a"])
    seen = {tokens.refresh_token}
    for _ in range(10):
        clock.advance(3600)
        tokens = sessions.refresh(tokens.refresh_token)
        assert tokens.refresh_token not in seen
        seen.add(tokens.refresh_token)
        assert verifier.verify(tokens.access_token).scopes == frozenset({"a"})


async def test_async_verification_sees_the_same_revocations(
    backend_store, make_sessions, guarded_verifier, clock
):
    sessions = make_sessions(backend_store)
    revocation = RevocationService(backend_store, clock=clock)
    verifier = guarded_verifier(revocation)
    tokens = sessions.issue("user-1")
    verified = await verifier.averify(tokens.access_token)
    revocation.revoke_token(verified.claims)
    with pytest.raises(TokenRevoked):
        await verifier.averify(tokens.access_token)
