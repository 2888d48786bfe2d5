"""Revoking a session ends its access tokens still in flight (the ``sid`` denylist)."""

from __future__ import annotations

import pytest

from jwt_guard_core import ConfigurationError, TokenRevoked
from jwt_guard_core.sessions import InvalidRefreshToken, MemorySessionStore, RevocationService
from tests.factories import claims


@pytest.fixture
def wired(backend_store, make_sessions, guarded_verifier, clock):
    revocation = RevocationService(backend_store, clock=clock)
    sessions = make_sessions(backend_store, revocation=revocation)
    return sessions, revocation, guarded_verifier(revocation)


def test_detected_reuse_ends_every_access_token_of_the_session(wired, clock):
    sessions, _, verifier = wired
    login = sessions.issue("user-1")
    rotated = sessions.refresh(login.refresh_token)
    elsewhere = sessions.issue("user-1")
    with pytest.raises(InvalidRefreshToken):
        sessions.refresh(login.refresh_token)
    for access in (login.access_token, rotated.access_token):
        with pytest.raises(TokenRevoked) as caught:
            verifier.verify(access)
        assert caught.value.reason == "revoked"
    assert verifier.verify(elsewhere.access_token).subject == "user-1"


def test_logout_with_the_refresh_token_ends_the_sessions_access_tokens(wired):
    sessions, revocation, verifier = wired
    tokens = sessions.issue("user-1")
    sid = verifier.verify(tokens.access_token).claims["sid"]
    assert sessions.revoke(tokens.refresh_token) is True
    with pytest.raises(TokenRevoked):
        verifier.verify(tokens.access_token)
    assert revocation.check(claims(sid=sid)) == "session"


def test_logout_by_sid_ends_the_sessions_access_tokens(wired):
    sessions, _, verifier = wired
    tokens = sessions.issue("user-1")
    sessions.revoke_family(verifier.verify(tokens.access_token).claims["sid"])
    with pytest.raises(TokenRevoked):
        verifier.verify(tokens.access_token)


def test_logout_everywhere_in_one_call_ends_access_and_refresh_tokens(wired, clock):
    sessions, _, verifier = wired
    first = sessions.issue("user-1")
    second = sessions.issue("user-1")
    clock.advance(1)
    assert sessions.revoke_subject("user-1") == 2
    for tokens in (first, second):
        with pytest.raises(TokenRevoked):
            verifier.verify(tokens.access_token)
        with pytest.raises(InvalidRefreshToken):
            sessions.refresh(tokens.refresh_token)


def test_session_entry_expires_after_the_retention(clock):
    revocation = RevocationService(MemorySessionStore(), session_retention=3600, clock=clock)
    revocation.revoke_session("fam-1")
    clock.advance(3599)
    assert revocation.check(claims(sid="fam-1")) == "session"
    clock.advance(2)
    assert revocation.check(claims(sid="fam-1")) is None


def test_session_rule_reads_the_configured_claim_or_none(clock):
    store = MemorySessionStore()
    RevocationService(store, clock=clock).revoke_session("fam-1")
    assert (
        RevocationService(store, session_claim=None, clock=clock).check(claims(sid="fam-1")) is None
    )
    renamed = RevocationService(store, session_claim="session", clock=clock)
    assert renamed.check(claims(session="fam-1")) == "session"


@pytest.mark.parametrize(
    ("options", "setting"),
    [({"session_claim": ""}, "session_claim"), ({"session_retention": 10}, "session_retention")],
)
def test_bad_session_settings_are_refused(options, setting):
    with pytest.raises(ConfigurationError) as caught:
        RevocationService(MemorySessionStore(), **options)
    assert caught.value.setting == setting


def test_refresh_service_refuses_a_revocation_that_is_not_a_service(make_sessions):
    with pytest.raises(ConfigurationError) as caught:
        make_sessions(MemorySessionStore(), revocation=object())
    assert caught.value.setting == "revocation"
