"""SQLiteSessionStore: the embedded default survives restarts and is private on disk."""

from __future__ import annotations

import sqlite3
import stat
import threading

import pytest

from jwt_guard_core import ConfigurationError, TokenRevoked
from jwt_guard_core.sessions import RevocationService, SQLiteSessionStore
from tests.factories import NOW


def test_sessions_and_revocations_survive_a_restart(
    tmp_path, make_sessions, guarded_verifier, clock
):
    before = SQLiteSessionStore(tmp_path / "s.db")
    tokens = make_sessions(before).issue("user-1")
    revocation = RevocationService(before, clock=clock)
    verifier = guarded_verifier(revocation)
    revocation.revoke_token(verifier.verify(tokens.access_token).claims)
    before.close()

    after = SQLiteSessionStore(tmp_path / "s.db")
    assert make_sessions(after).refresh(tokens.refresh_token).subject == "user-1"
    with pytest.raises(TokenRevoked):
        guarded_verifier(RevocationService(after, clock=clock)).verify(tokens.access_token)
    after.close()


def test_database_file_is_private_and_in_wal_mode(tmp_path):
    store = SQLiteSessionStore(tmp_path / "s.db")
    store.deny_jti("j", expires_at=NOW + 60, now=NOW)
    assert stat.S_IMODE((tmp_path / "s.db").stat().st_mode) == 0o600
    conn = sqlite3.connect(tmp_path / "s.db")
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()
    store.close()


def test_purge_drops_expired_rows_only(tmp_path, make_sessions, clock):
    store = SQLiteSessionStore(tmp_path / "s.db")
    sessions = make_sessions(store)
    sessions.issue("old")
    store.deny_jti("old-jti", expires_at=NOW + 10, now=NOW)
    clock.advance(15 * 86400)
    live = sessions.issue("new")
    store.deny_jti("new-jti", expires_at=clock() + 600, now=clock())
    store.purge(now=clock())
    conn = sqlite3.connect(store.path)
    try:
        subjects = [r[0] for r in conn.execute("SELECT subject FROM jwt_guard_refresh_tokens")]
        jtis = [r[0] for r in conn.execute("SELECT jti FROM jwt_guard_denied_jti")]
    finally:
        conn.close()
    assert subjects == ["new"]
    assert jtis == ["new-jti"]
    assert sessions.refresh(live.refresh_token).subject == "new"
    store.close()


@pytest.mark.parametrize("path", [":memory:", "", "file:x?mode=memory"])
def test_in_memory_or_uri_paths_are_refused(path):
    with pytest.raises(ConfigurationError) as caught:
        SQLiteSessionStore(path)
    assert caught.value.setting == "path"


def test_missing_directory_is_refused_at_construction(tmp_path):
    with pytest.raises(ConfigurationError) as caught:
        SQLiteSessionStore(tmp_path / "missing" / "s.db")
    assert "does not exist" in str(caught.value)


def test_bad_timeout_is_refused(tmp_path):
    with pytest.raises(ConfigurationError) as caught:
        SQLiteSessionStore(tmp_path / "s.db", timeout=0)
    assert caught.value.setting == "timeout"


def test_a_thread_per_request_server_reuses_pooled_connections(tmp_path, clock):
    store = SQLiteSessionStore(tmp_path / "s.db")
    revocation = RevocationService(store, clock=clock)
    opened = []
    original = store._open

    def counting_open():
        conn = original()
        opened.append(conn)
        return conn

    store._open = counting_open
    for _ in range(50):
        worker = threading.Thread(target=revocation.check, args=({"jti": "j", "sub": "u"},))
        worker.start()
        worker.join()
    assert len(opened) == 1
    store.close()
