"""What every Redis deployment must get right, as functions over a store.

``test_redis_cluster.py`` and ``test_redis_sentinel.py`` run the same
scenarios, so "works on a Cluster" and "works through Sentinel" mean the
same thing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from jwt_guard_core import RateLimited, TokenRevoked
from jwt_guard_core.errors import StateUnavailable
from jwt_guard_core.sessions import (
    FailureRateLimiter,
    InvalidRefreshToken,
    RedisSessionStore,
    RefreshTokenService,
    RevocationService,
)
from jwt_guard_core.signing import KeyManager
from tests.factories import NOW, FakeClock, claims, named, sign


def token(keyring: Any, **overrides: Any) -> str:
    return sign({"alg": "RS256", "kid": "rsa-1"}, claims(**overrides), keyring.rsa)


def refresh_rotates_and_reuse_revokes_the_family(
    sessions: RefreshTokenService, events: list
) -> None:
    first = sessions.issue("user-1", scopes=["read"])
    second = sessions.refresh(first.refresh_token)
    third = sessions.refresh(second.refresh_token)
    with pytest.raises(InvalidRefreshToken) as reused:
        sessions.refresh(first.refresh_token)
    assert reused.value.reason == "refresh_token_reused"
    with pytest.raises(InvalidRefreshToken) as after:
        sessions.refresh(third.refresh_token)
    assert after.value.reason == "refresh_family_revoked"
    assert len(named(events, "refresh_token_reuse")) == 1


def every_revocation_kind_is_enforced(
    revocation: RevocationService, verify: Callable[[str], Any], keyring: Any, clock: FakeClock
) -> None:
    assert verify(token(keyring, jti="fine")).subject == "user-1"
    revocation.revoke_jti("gone", expires_at=NOW + 600)
    revocation.revoke_session("sess-1")
    cases = {
        "jti": token(keyring, jti="gone"),
        "session": token(keyring, jti="s", sid="sess-1"),
    }
    for kind, value in cases.items():
        with pytest.raises(TokenRevoked) as caught:
            verify(value)
        assert caught.value.reason == "revoked", kind
    clock.advance(5)
    revocation.revoke_subject("user-2")
    with pytest.raises(TokenRevoked):
        verify(token(keyring, sub="user-2", jti="u2", iat=int(clock()) - 1))
    assert verify(token(keyring, jti="other", iat=int(clock()) - 1)).subject == "user-1"
    clock.advance(5)
    revocation.set_emergency_epoch()
    with pytest.raises(TokenRevoked):
        verify(token(keyring, jti="old", iat=int(clock()) - 1))


def concurrent_failures_admit_exactly_the_limit(store: RedisSessionStore, clock: FakeClock) -> None:
    limiter = FailureRateLimiter(store, limit=5, window=60, clock=clock)
    barrier = threading.Barrier(20)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt() -> None:
        barrier.wait()
        try:
            limiter.reserve("203.0.113.9").fail()
            outcome = "admitted"
        except RateLimited as exc:
            outcome = exc.reason
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=attempt) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["admitted"] * 5 + ["rate_limited"] * 15


def two_instances_rotate_once(first: KeyManager, second: KeyManager, clock: FakeClock) -> None:
    old = first.active_key().kid
    assert second.active_key().kid == old
    clock.advance(first.rotation_interval - first.jwks_max_age * 2)
    results: list[Any] = [None, None]
    barrier = threading.Barrier(2)

    def run(index: int, manager: KeyManager) -> None:
        barrier.wait()
        results[index] = manager.maybe_rotate()

    threads = [threading.Thread(target=run, args=(i, m)) for i, m in enumerate((first, second))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(bool(r) for r in results) == 1
    assert first.jwks() == second.jwks()


def writes_during_a_failover(
    revocation: RevocationService, fail_over: Callable[[], object]
) -> tuple[list[str], list[str]]:
    """Revoke jtis in a loop while ``fail_over()`` runs: (acknowledged, refused) jtis.

    A revocation is either acknowledged (it must survive) or refused with
    503 (the caller knows it did not happen); nothing in between.
    """
    acknowledged: list[str] = []
    refused: list[str] = []
    done = threading.Event()

    def keep_revoking() -> None:
        n = 0
        while not done.is_set() or n < 5:
            jti = f"during-{n}"
            n += 1
            try:
                revocation.revoke_jti(jti, expires_at=NOW + 600)
            except StateUnavailable:
                refused.append(jti)
            else:
                acknowledged.append(jti)

    writer = threading.Thread(target=keep_revoking)
    writer.start()
    try:
        fail_over()
    finally:
        done.set()
        writer.join()
    return acknowledged, refused


def state_survived(
    verifier: Any, sessions: RefreshTokenService, keyring: Any, login: Any, rotated: Any
) -> None:
    """After a failover: a revoked jti is refused, the spent login token counts as reuse."""
    with pytest.raises(TokenRevoked) as caught:
        verifier.verify(token(keyring, jti="before-7"))
    assert caught.value.reason == "revoked"
    # The login token was spent before the failover; still spent after it.
    with pytest.raises(InvalidRefreshToken) as reused:
        sessions.refresh(login.refresh_token)
    assert reused.value.reason == "refresh_token_reused"
    with pytest.raises(InvalidRefreshToken) as revoked:
        sessions.refresh(rotated.refresh_token)
    assert revoked.value.reason == "refresh_family_revoked"


def two_processes_share_one_fetch(shared: Any, server: Any, jwk: Any, make_jwks: Any) -> None:
    """Two key sources on one shared cache: the second takes the first one's copy."""
    server.serve_keys(jwk, headers={"Cache-Control": "max-age=600"})
    first = make_jwks(server.url(), shared_cache=shared)
    second = make_jwks(server.url(), shared_cache=shared)
    assert first.get_key("a", "RS256").kid == "a"
    assert second.get_key("a", "RS256").kid == "a"
    assert server.count() == 1
