"""RevocationService: jti denylist, per-subject "revoked before", emergency epoch, outages."""

from __future__ import annotations

import logging

import pytest

from jwt_guard_core import ConfigurationError, RevocationCheck, TokenRevoked
from jwt_guard_core.errors import StateUnavailable
from jwt_guard_core.http import error_response
from jwt_guard_core.sessions import MemorySessionStore, RevocationService, SQLiteSessionStore
from tests.factories import NOW, claims, named, sign

HEADER = {"alg": "RS256", "kid": "rsa-1"}


@pytest.fixture
def token_for(keyring):
    def _token(**overrides):
        return sign(HEADER, claims(**overrides), keyring.rsa)

    return _token


def test_revocation_service_is_a_revocation_check():
    assert isinstance(RevocationService(MemorySessionStore()), RevocationCheck)


def test_denylisted_jti_is_rejected_with_revoked(
    backend_store, guarded_verifier, token_for, clock, recorded_events
):
    revocation = RevocationService(backend_store, clock=clock)
    verifier = guarded_verifier(revocation)
    token = token_for(jti="jti-logout")
    other = token_for(jti="jti-other")
    verifier.verify(token)
    revocation.revoke_jti("jti-logout", expires_at=NOW + 600)
    with pytest.raises(TokenRevoked) as caught:
        verifier.verify(token)
    assert caught.value.reason == "revoked"
    assert caught.value.status == 401
    response = error_response(caught.value)
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'
    assert verifier.verify(other).claims["jti"] == "jti-other"
    (event,) = [e for e in named(recorded_events, "token_rejected") if e.reason == "revoked"]
    assert event.fields["jti"] == "jti-logout"


def test_denylist_entry_expires_with_the_token(backend_store, clock):
    revocation = RevocationService(backend_store, clock=clock)
    revocation.revoke_token({"jti": "j1", "exp": NOW + 600})
    assert revocation.check({"jti": "j1", "iat": NOW}) == "jti"
    # Kept past exp for the largest leeway a verifier may allow (300 s).
    clock.advance(600 + 299)
    assert revocation.check({"jti": "j1", "iat": NOW}) == "jti"
    clock.advance(2)
    assert revocation.check({"jti": "j1", "iat": NOW}) is None


def test_logout_everywhere_revokes_tokens_issued_before_it_only(
    backend_store, guarded_verifier, token_for, clock
):
    revocation = RevocationService(backend_store, clock=clock)
    verifier = guarded_verifier(revocation)
    old = token_for(sub="user-1", iat=int(NOW) - 60)
    same_second = token_for(sub="user-1", iat=int(NOW), jti="j2")
    other_user = token_for(sub="user-2", iat=int(NOW) - 60, jti="j3")
    clock.advance(0.5)
    # The exact time is recorded, never rounded down to the second.
    assert revocation.revoke_subject("user-1") == NOW + 0.5
    for token in (old, same_second):
        with pytest.raises(TokenRevoked):
            verifier.verify(token)
    assert verifier.verify(other_user).subject == "user-2"
    clock.advance(0.5)
    # Issued in the next second: after the logout whatever its fraction.
    assert verifier.verify(token_for(sub="user-1", iat=int(NOW) + 1)).subject == "user-1"
    assert revocation.check({"sub": "user-1", "iat": NOW - 60}) == "subject"


def test_a_later_revocation_time_is_never_lowered_by_an_earlier_one(backend_store, clock):
    revocation = RevocationService(backend_store, clock=clock)
    revocation.revoke_subject("user-1", at=NOW + 100)
    revocation.revoke_subject("user-1", at=NOW)
    assert revocation.check({"sub": "user-1", "iat": NOW + 50}) == "subject"
    revocation.set_emergency_epoch(NOW + 100)
    revocation.set_emergency_epoch(NOW)
    assert revocation.check({"sub": "user-9", "iat": NOW + 50}) == "emergency_epoch"


def test_token_without_iat_is_revoked_once_a_time_rule_applies(
    backend_store, make_verifier, token_for, clock
):
    revocation = RevocationService(backend_store, clock=clock)
    verifier = make_verifier(revocation=revocation, optional_claims=["iat"])
    token = token_for(iat=None)
    assert verifier.verify(token).subject == "user-1"
    revocation.revoke_subject("user-1")
    with pytest.raises(TokenRevoked):
        verifier.verify(token)


def test_emergency_epoch_from_a_source_callable_is_applied(guarded_verifier, token_for, clock):
    epoch = {"value": None}
    revocation = RevocationService(
        MemorySessionStore(), emergency_epoch_source=lambda: epoch["value"], clock=clock
    )
    verifier = guarded_verifier(revocation)
    token = token_for()
    verifier.verify(token)
    epoch["value"] = NOW
    with pytest.raises(TokenRevoked):
        verifier.verify(token)
    assert revocation.check(claims()) == "emergency_epoch"


def test_revoke_token_without_jti_is_refused():
    with pytest.raises(ConfigurationError) as caught:
        RevocationService(MemorySessionStore()).revoke_token({"sub": "u", "exp": NOW})
    assert caught.value.setting == "claims"


def test_revoke_token_without_exp_is_kept_for_a_year(clock):
    store = MemorySessionStore()
    revocation = RevocationService(store, clock=clock)
    revocation.revoke_token({"jti": "forever"})
    clock.advance(364 * 86400)
    assert revocation.check({"jti": "forever"}) == "jti"


@pytest.mark.parametrize(
    ("options", "setting"),
    [
        ({"fail_open": "yes"}, "fail_open"),
        ({"retry_after": 0}, "retry_after"),
        ({"emergency_epoch_source": 42}, "emergency_epoch_source"),
        ({"clock": None}, "clock"),
    ],
)
def test_bad_settings_are_refused_naming_the_setting(options, setting):
    with pytest.raises(ConfigurationError) as caught:
        RevocationService(MemorySessionStore(), **options)
    assert caught.value.setting == setting


def test_a_store_that_is_not_a_revocation_store_is_refused():
    with pytest.raises(ConfigurationError) as caught:
        RevocationService({"jti": True})
    assert caught.value.setting == "store"


def _broken_sqlite(tmp_path):
    store = SQLiteSessionStore(tmp_path / "state.db")
    store.revocation_state(None, None, now=NOW)
    store.close()
    (tmp_path / "state.db").write_bytes(b"garbage!" * 1000)
    for suffix in ("-wal", "-shm"):
        (tmp_path / f"state.db{suffix}").unlink(missing_ok=True)
    return store


def test_unreadable_state_fails_closed_with_503(
    tmp_path, guarded_verifier, token_for, clock, recorded_events
):
    store = _broken_sqlite(tmp_path)
    verifier = guarded_verifier(RevocationService(store, retry_after=9, clock=clock))
    with pytest.raises(StateUnavailable) as caught:
        verifier.verify(token_for())
    assert caught.value.reason == "revocation_unavailable"
    assert caught.value.status == 503
    response = error_response(caught.value)
    assert response.status == 503
    assert response.headers == {"Retry-After": "9"}
    assert response.body["error"] == "temporarily_unavailable"
    (event,) = named(recorded_events, "token_rejected")
    assert event.reason == "revocation_unavailable"
    store.close()


def test_unreadable_state_fails_open_with_an_error_event_when_configured(
    tmp_path, guarded_verifier, token_for, clock, recorded_events
):
    store = _broken_sqlite(tmp_path)
    verifier = guarded_verifier(RevocationService(store, fail_open=True, clock=clock))
    assert verifier.verify(token_for(jti="j-open")).subject == "user-1"
    (event,) = named(recorded_events, "revocation_unavailable")
    assert event.level == logging.ERROR
    assert event.fields["jti"] == "j-open"
    assert event.fields["fail_open"] is True
    store.close()


def test_failing_epoch_source_fails_closed(guarded_verifier, token_for, clock):
    def source():
        raise OSError("key store unreachable")

    verifier = guarded_verifier(
        RevocationService(MemorySessionStore(), emergency_epoch_source=source, clock=clock)
    )
    with pytest.raises(StateUnavailable):
        verifier.verify(token_for())


def test_revoking_while_the_store_is_down_raises_even_when_failing_open(tmp_path, clock):
    store = _broken_sqlite(tmp_path)
    revocation = RevocationService(store, fail_open=True, clock=clock)
    with pytest.raises(StateUnavailable):
        revocation.revoke_jti("j1", expires_at=NOW + 60)
    with pytest.raises(StateUnavailable):
        revocation.revoke_subject("user-1")
    with pytest.raises(StateUnavailable):
        revocation.set_emergency_epoch()
    store.close()


async def test_async_check_fails_closed_too(tmp_path, guarded_verifier, token_for, clock):
    store = _broken_sqlite(tmp_path)
    verifier = guarded_verifier(RevocationService(store, clock=clock))
    with pytest.raises(StateUnavailable):
        await verifier.averify(token_for())
    store.close()


@pytest.mark.parametrize(
    "odd",
    [
        {},
        {"jti": 5, "sub": ["u"], "iat": "yesterday", "sid": {}},
        {"jti": "", "sub": "", "iat": True, "sid": None},
        {"jti": None, "sub": None, "iat": float("nan")},
        {"jti": "x" * 100_000, "sub": "\x00", "iat": -1},
    ],
)
def test_odd_claim_shapes_give_an_answer_never_an_exception(backend_store, odd, clock):
    revocation = RevocationService(backend_store, clock=clock)
    assert revocation.check(odd) is None
    revocation.revoke_subject("u")
    revocation.revoke_subject("\x00")
    revocation.set_emergency_epoch()
    assert revocation.check(odd) in ("subject", "emergency_epoch")
