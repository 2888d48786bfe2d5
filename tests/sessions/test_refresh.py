"""RefreshTokenService: opaque hashed tokens, rotation, lifetimes, scopes, reuse."""

from __future__ import annotations

import re
import sqlite3

import pytest

from jwt_guard_core import ConfigurationError
from jwt_guard_core.errors import StateUnavailable
from jwt_guard_core.sessions import (
    InvalidRefreshToken,
    MemorySessionStore,
    RedisSessionStore,
    RefreshTokenService,
    SQLiteSessionStore,
    hash_refresh_token,
    refresh_error_response,
)
from jwt_guard_core.signing import KeyStoreError
from tests.factories import named

DAY = 86400


def _reason(sessions, token, **kwargs):
    with pytest.raises(InvalidRefreshToken) as caught:
        sessions.refresh(token, **kwargs)
    assert caught.value.status == 400
    assert caught.value.error == "invalid_grant"
    return caught.value.reason


def test_refresh_token_is_256_random_bits_in_base64url(make_sessions):
    sessions = make_sessions(MemorySessionStore())
    tokens = {sessions.issue("user-1").refresh_token for _ in range(50)}
    assert len(tokens) == 50
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{43}", t) for t in tokens)


def test_store_keeps_only_the_sha256_of_the_token(backend_store, make_sessions, tmp_path):
    sessions = make_sessions(backend_store)
    tokens = sessions.issue("user-1", scopes=["orders:read"])
    digest = hash_refresh_token(tokens.refresh_token)
    if isinstance(backend_store, MemorySessionStore):
        assert list(backend_store._tokens) == [digest]
    elif isinstance(backend_store, SQLiteSessionStore):
        conn = sqlite3.connect(backend_store.path)
        try:
            rows = conn.execute("SELECT * FROM jwt_guard_refresh_tokens").fetchall()
        finally:
            conn.close()
        assert [r[0] for r in rows] == [digest]
        assert tokens.refresh_token not in repr(rows)
    else:
        assert isinstance(backend_store, RedisSessionStore)
        client = backend_store._client
        dump = b" ".join(
            k + b"=" + repr(client.hgetall(k)).encode()
            for k in client.scan_iter()
            if client.type(k) == b"hash"
        )
        assert digest.encode() in dump
        assert tokens.refresh_token.encode() not in dump
    assert tokens.refresh_token not in repr(tokens)


def test_refresh_token_expires_after_fourteen_days_by_default(backend_store, make_sessions, clock):
    sessions = make_sessions(backend_store)
    first = sessions.issue("user-1")
    assert first.refresh_expires_at == clock() + 14 * DAY
    second = sessions.issue("user-1")
    clock.advance(14 * DAY - 1)
    assert sessions.refresh(first.refresh_token).subject == "user-1"
    clock.advance(1)
    assert _reason(sessions, second.refresh_token) == "refresh_token_expired"


def test_idle_session_ends_after_idle_timeout_while_an_active_one_continues(
    backend_store, make_sessions, clock
):
    sessions = make_sessions(backend_store, idle_timeout=DAY)
    idle = sessions.issue("user-1")
    active = sessions.issue("user-1")
    for _ in range(3):
        clock.advance(DAY - 60)
        active = sessions.refresh(active.refresh_token)
    assert _reason(sessions, idle.refresh_token) == "refresh_token_idle"


def test_family_ends_at_its_absolute_lifetime_however_often_it_is_refreshed(
    backend_store, make_sessions, clock
):
    start = clock()
    sessions = make_sessions(backend_store, family_lifetime=20 * DAY)
    tokens = sessions.issue("user-1")
    clock.advance(10 * DAY)
    tokens = sessions.refresh(tokens.refresh_token)
    # The new token's expiry is capped at the family's end, not now + 14 days.
    assert tokens.refresh_expires_at == start + 20 * DAY
    clock.advance(10 * DAY)
    reason = _reason(sessions, tokens.refresh_token)
    assert reason == "refresh_family_expired"


def test_refresh_may_narrow_scopes_but_never_widen_them(
    backend_store, make_sessions, access_issuer
):
    sessions = make_sessions(backend_store)
    tokens = sessions.issue("user-1", scopes=["orders:read", "orders:write"])
    narrowed = sessions.refresh(tokens.refresh_token, scopes=["orders:read"])
    assert narrowed.scopes == ("orders:read",)
    assert access_issuer.issued[-1]["scope"] == "orders:read"
    # The session keeps its grant: the next refresh may ask for both again.
    full = sessions.refresh(narrowed.refresh_token)
    assert full.scopes == ("orders:read", "orders:write")
    assert _reason(sessions, full.refresh_token, scopes=["admin"]) == "invalid_scope"


def test_unknown_refresh_token_is_rejected_as_unknown(backend_store, make_sessions):
    sessions = make_sessions(backend_store)
    assert _reason(sessions, "A" * 43) == "refresh_token_unknown"


@pytest.mark.parametrize(
    "garbage",
    ["", "short", "A" * 44, "A" * 42 + "=", "é" * 43, None, 42, b"A" * 43, ["A" * 43], "A" * 10000],
)
def test_malformed_refresh_token_is_rejected_without_store_access(garbage, make_sessions):
    class Exploding(MemorySessionStore):
        def spend(self, token_hash, *, now):
            raise AssertionError("the store must not be asked")

    sessions = make_sessions(Exploding())
    assert _reason(sessions, garbage) == "malformed"


def test_rejections_emit_refresh_token_rejected_with_the_reason(
    make_sessions, recorded_events, clock
):
    sessions = make_sessions(MemorySessionStore())
    tokens = sessions.issue("user-9")
    clock.advance(15 * DAY)
    _reason(sessions, tokens.refresh_token)
    (event,) = named(recorded_events, "refresh_token_rejected")
    assert event.reason == "refresh_token_expired"
    assert event.fields["subject"] == "user-9"
    assert tokens.refresh_token not in repr(recorded_events)


def test_reuse_within_reuse_interval_is_refused_without_revoking_the_family(
    backend_store, make_sessions, clock, recorded_events
):
    sessions = make_sessions(backend_store, reuse_interval=10)
    tokens = sessions.issue("user-1")
    winner = sessions.refresh(tokens.refresh_token)
    clock.advance(5)
    assert _reason(sessions, tokens.refresh_token) == "refresh_token_spent"
    assert not named(recorded_events, "refresh_token_reuse")
    assert sessions.refresh(winner.refresh_token).family_id == tokens.family_id
    clock.advance(10)
    assert _reason(sessions, tokens.refresh_token) == "refresh_token_reused"
    assert named(recorded_events, "refresh_token_reuse")


def test_logout_by_session_id_revokes_the_family(backend_store, make_sessions, access_issuer):
    sessions = make_sessions(backend_store)
    tokens = sessions.issue("user-1")
    sid = access_issuer.issued[-1]["sid"]
    assert sessions.revoke_family(sid) is True
    assert sessions.revoke_family(sid) is False
    assert _reason(sessions, tokens.refresh_token) == "refresh_family_revoked"


def test_logout_of_an_unknown_or_malformed_token_is_not_an_error(backend_store, make_sessions):
    sessions = make_sessions(backend_store)
    assert sessions.revoke("A" * 43) is False
    assert sessions.revoke("not a token") is False
    assert sessions.revoke_family("") is False


def test_session_claim_can_be_renamed_or_left_out(make_sessions, access_issuer):
    make_sessions(MemorySessionStore(), session_claim="session").issue("u")
    assert access_issuer.issued[-1]["session"]
    make_sessions(MemorySessionStore(), session_claim=None).issue("u")
    assert "sid" not in access_issuer.issued[-1]


def test_a_plain_callable_can_issue_the_access_tokens(clock):
    calls = []

    def issue(subject, *, scopes, claims):
        calls.append((subject, tuple(scopes), dict(claims)))
        return f"access-for-{subject}"

    sessions = RefreshTokenService(MemorySessionStore(), access_tokens=issue, clock=clock)
    tokens = sessions.issue("user-1", scopes=["a"])
    assert tokens.access_token == "access-for-user-1"
    assert calls == [("user-1", ("a",), {"sid": tokens.family_id})]


def test_no_refresh_token_is_stored_when_the_access_token_cannot_be_issued(clock):
    store = MemorySessionStore()

    def failing(subject, *, scopes, claims):
        raise RuntimeError("key store down")

    sessions = RefreshTokenService(store, access_tokens=failing, clock=clock)
    with pytest.raises(RuntimeError):
        sessions.issue("user-1")
    assert store._tokens == {}


@pytest.mark.parametrize(
    ("options", "setting"),
    [
        ({"lifetime": 0}, "lifetime"),
        ({"lifetime": float("inf")}, "lifetime"),
        ({"lifetime": "14d"}, "lifetime"),
        ({"idle_timeout": 20 * DAY}, "idle_timeout"),
        ({"family_lifetime": -1}, "family_lifetime"),
        ({"reuse_interval": 61}, "reuse_interval"),
        ({"reuse_interval": True}, "reuse_interval"),
        ({"session_claim": ""}, "session_claim"),
        ({"access_tokens": "issuer"}, "access_tokens"),
        ({"clock": 5}, "clock"),
    ],
)
def test_bad_settings_are_refused_naming_the_setting(options, setting, access_issuer):
    options.setdefault("access_tokens", access_issuer)
    with pytest.raises(ConfigurationError) as caught:
        RefreshTokenService(MemorySessionStore(), **options)
    assert caught.value.setting == setting


def test_a_store_that_is_not_a_refresh_store_is_refused(access_issuer):
    with pytest.raises(ConfigurationError) as caught:
        RefreshTokenService(object(), access_tokens=access_issuer)
    assert caught.value.setting == "store"


@pytest.mark.parametrize("subject", ["", None, 5])
def test_issue_refuses_an_empty_or_non_string_subject(subject, make_sessions):
    with pytest.raises(ConfigurationError):
        make_sessions(MemorySessionStore()).issue(subject)


def test_issue_refuses_scopes_given_as_one_string(make_sessions):
    with pytest.raises(ConfigurationError) as caught:
        make_sessions(MemorySessionStore()).issue("u", scopes="orders:read profile")
    assert caught.value.setting == "scopes"


def test_refresh_error_response_is_invalid_grant_400_without_www_authenticate():
    response = refresh_error_response(InvalidRefreshToken(reason="refresh_token_reused"))
    assert response.status == 400
    assert response.body["error"] == "invalid_grant"
    assert "refresh_token_reused" not in repr(response.body)
    assert "WWW-Authenticate" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"


def test_refresh_error_response_for_a_store_outage_is_503_with_retry_after():
    response = refresh_error_response(
        StateUnavailable(reason="session_store_unavailable", retry_after=7)
    )
    assert response.status == 503
    assert response.headers["Retry-After"] == "7"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.body["error"] == "temporarily_unavailable"


def test_unreadable_sqlite_store_makes_refresh_a_503(tmp_path, make_sessions, recorded_events):
    store = SQLiteSessionStore(tmp_path / "sessions.db")
    sessions = make_sessions(store)
    tokens = sessions.issue("user-1")
    store.close()
    (tmp_path / "sessions.db").write_bytes(b"this is not a database" * 100)
    for suffix in ("-wal", "-shm"):
        (tmp_path / f"sessions.db{suffix}").unlink(missing_ok=True)
    with pytest.raises(StateUnavailable) as caught:
        sessions.refresh(tokens.refresh_token)
    assert caught.value.status == 503
    assert caught.value.reason == "session_store_unavailable"
    assert named(recorded_events, "session_store_unavailable")
    store.close()


def test_a_refresh_that_cannot_issue_gives_the_token_back_for_a_retry(
    backend_store, access_issuer, clock, recorded_events
):
    outage = {"on": False}

    def flaky(subject, *, scopes, claims):
        if outage["on"]:
            raise KeyStoreError("the key store is unavailable")
        return access_issuer.issue_access_token(subject, scopes=scopes, claims=claims)

    sessions = RefreshTokenService(backend_store, access_tokens=flaky, clock=clock)
    tokens = sessions.issue("user-1")
    outage["on"] = True
    with pytest.raises(KeyStoreError):
        sessions.refresh(tokens.refresh_token)
    outage["on"] = False
    clock.advance(1)
    # The retry is not mistaken for theft: the session goes on.
    assert sessions.refresh(tokens.refresh_token).family_id == tokens.family_id
    assert not named(recorded_events, "refresh_token_reuse")


def test_a_refused_refresh_leaves_the_token_unspent_so_retries_are_no_theft_alarm(
    backend_store, make_sessions, clock, recorded_events
):
    sessions = make_sessions(backend_store)
    tokens = sessions.issue("user-1", scopes=["a"])
    assert _reason(sessions, tokens.refresh_token, scopes=["admin"]) == "invalid_scope"
    assert sessions.refresh(tokens.refresh_token, scopes=["a"]).subject == "user-1"
    stale = sessions.issue("user-2")
    clock.advance(15 * DAY)
    for _ in range(2):
        assert _reason(sessions, stale.refresh_token) == "refresh_token_expired"
    assert not named(recorded_events, "refresh_token_reuse")
