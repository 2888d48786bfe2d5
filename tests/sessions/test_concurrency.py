"""Two refreshes with the same token at the same moment: exactly one wins.

Threads against every backend (the memory lock, SQLite's write lock, the
Redis script), and two processes against one SQLite file.
"""

from __future__ import annotations

import multiprocessing
import threading

import pytest

from jwt_guard_core.sessions import (
    InvalidRefreshToken,
    RefreshTokenService,
    RevocationService,
    SQLiteSessionStore,
)
from jwt_guard_core.signing import FileKeyStore, KeyManager, TokenIssuer
from tests.factories import named
from tests.sessions import _workers

ROUNDS = 30


def _race(sessions, token, contenders):
    barrier = threading.Barrier(contenders)
    outcomes = []
    lock = threading.Lock()

    def run():
        barrier.wait(timeout=30)
        try:
            result = sessions.refresh(token)
        except InvalidRefreshToken as exc:
            result = exc
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run) for _ in range(contenders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(outcomes) == contenders
    winners = [o for o in outcomes if not isinstance(o, InvalidRefreshToken)]
    losers = [o for o in outcomes if isinstance(o, InvalidRefreshToken)]
    return winners, losers


@pytest.mark.parametrize("contenders", [2, 8])
def test_concurrent_refreshes_of_one_token_have_exactly_one_winner(
    backend_store, make_sessions, contenders
):
    sessions = make_sessions(backend_store, reuse_interval=5)
    for _ in range(ROUNDS):
        tokens = sessions.issue("user-1")
        winners, losers = _race(sessions, tokens.refresh_token, contenders)
        assert len(winners) == 1
        assert {e.reason for e in losers} == {"refresh_token_spent"}
        # The winner's session goes on.
        assert sessions.refresh(winners[0].refresh_token).family_id == tokens.family_id


def test_concurrent_refreshes_without_reuse_interval_end_the_session(
    backend_store, make_sessions, guarded_verifier, clock, recorded_events
):
    # Strict default: the loser presented a spent token, which is what a
    # thief racing the victim looks like, so the whole family goes.
    sessions = make_sessions(backend_store)
    tokens = sessions.issue("user-1")
    winners, losers = _race(sessions, tokens.refresh_token, 2)
    assert len(winners) == 1
    assert [e.reason for e in losers] == ["refresh_token_reused"]
    assert len(named(recorded_events, "refresh_token_reuse")) == 1
    with pytest.raises(InvalidRefreshToken) as caught:
        sessions.refresh(winners[0].refresh_token)
    assert caught.value.reason == "refresh_family_revoked"
    # The winner's access token itself stays valid until it expires.
    verifier = guarded_verifier(RevocationService(backend_store, clock=clock))
    assert verifier.verify(winners[0].access_token).subject == "user-1"


def test_two_processes_refreshing_one_token_in_sqlite_have_exactly_one_winner(tmp_path, clock):
    passphrase = "correct horse battery staple 42"
    keys = KeyManager(FileKeyStore(tmp_path / "keys", passphrase=passphrase), clock=clock)
    issuer = TokenIssuer(keys, issuer="https://auth.example", audience="https://api.example")
    store = SQLiteSessionStore(tmp_path / "sessions.db")
    sessions = RefreshTokenService(store, access_tokens=issuer, clock=clock)
    tokens = [sessions.issue(f"user-{i}").refresh_token for i in range(ROUNDS)]

    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    out = ctx.Queue()
    args = (str(tmp_path / "sessions.db"), str(tmp_path / "keys"), passphrase, clock(), tokens)
    procs = [
        ctx.Process(target=_workers.refresh_race, args=(*args, barrier, out)) for _ in range(2)
    ]
    for p in procs:
        p.start()
    results = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    out.close()
    out.join_thread()

    for index in range(ROUNDS):
        pair = sorted(r[index] for r in results)
        assert pair[0] == "refresh_token_spent", pair
        assert pair[1].startswith("won:"), pair
    # Every winning token is live in the shared file.
    for r in results:
        for outcome in r:
            if outcome.startswith("won:"):
                assert sessions.refresh(outcome[4:]).subject.startswith("user-")
    store.close()
