"""Every Redis backend through Sentinel (a primary, a replica, three Sentinels), and a failover.

The store follows the primary the Sentinels name (``redis+sentinel://``
URL, redis-py's ``Sentinel.master_for``). With ``replicas=1`` a write is
acknowledged only once the replica holds it, so a ``SENTINEL FAILOVER``
in the middle of the test loses no acknowledged revocation and no "spent"
mark: a revocation either survives or was refused with 503.
"""

from __future__ import annotations

import pytest

from jwt_guard_core.breaker import CircuitBreaker
from jwt_guard_core.sessions import RedisSessionStore, RevocationService
from jwt_guard_core.shared_jwks import RedisSharedJWKS
from jwt_guard_core.signing import RedisKeyStore
from tests.factories import NOW, FakeClock
from tests.scale import scenarios
from tests.signing.conftest import PASSPHRASE

pytest_plugins = ["tests.core.remote_fixtures"]


@pytest.fixture
def store(redis_sentinel, prefix):
    store = RedisSessionStore(redis_sentinel.url, prefix=prefix)
    try:
        yield store
    finally:
        store._client.close()


def test_keys_through_sentinel_are_named_as_on_a_single_server(
    store, redis_sentinel, clock, prefix
):
    RevocationService(store, clock=clock).revoke_jti("j1", expires_at=NOW + 600)
    client = redis_sentinel.primary().client()
    try:
        assert client.exists(f"{prefix}:deny:j1")
    finally:
        client.close()


def test_refresh_tokens_rotate_and_a_reused_one_revokes_its_family(
    store, make_sessions, recorded_events
):
    scenarios.refresh_rotates_and_reuse_revokes_the_family(make_sessions(store), recorded_events)


def test_every_kind_of_revocation_is_enforced(store, guarded_verifier, keyring, clock):
    revocation = RevocationService(store, clock=clock)
    verifier = guarded_verifier(revocation)
    scenarios.every_revocation_kind_is_enforced(revocation, verifier.verify, keyring, clock)


def test_the_rate_limiter_admits_exactly_its_limit_under_concurrency(store, clock):
    scenarios.concurrent_failures_admit_exactly_the_limit(store, clock)


def test_two_instances_share_one_key_ring_and_rotate_once(
    redis_sentinel, make_manager, clock, prefix
):
    stores = [
        RedisKeyStore(redis_sentinel.url, passphrase=PASSPHRASE, prefix=prefix) for _ in range(2)
    ]
    managers = [make_manager(store=s) for s in stores]
    scenarios.two_instances_rotate_once(*managers, clock)


def test_a_failover_loses_no_revocation_and_lets_no_reused_refresh_token_through(
    redis_sentinel, make_sessions, guarded_verifier, keyring, clock, prefix, make_manager
):
    # Calls refused during the switch may open the breaker; its clock is
    # the test's, moved past the cool-down once the failover is over.
    breaker_clock = FakeClock()
    breaker = CircuitBreaker(failures=5, cool_down=5, clock=breaker_clock)
    store = RedisSessionStore(redis_sentinel.url, prefix=prefix, replicas=1, breaker=breaker)
    revocation = RevocationService(store, clock=clock)
    sessions = make_sessions(store)
    login = sessions.issue("user-1")
    rotated = sessions.refresh(login.refresh_token)
    for n in range(20):
        revocation.revoke_jti(f"before-{n}", expires_at=NOW + 600)
    revocation.revoke_subject("user-9")
    keys = RedisKeyStore(
        redis_sentinel.url, passphrase=PASSPHRASE, prefix=prefix, replicas=1, breaker=breaker
    )
    rotated_kid = make_manager(store=keys).rotate().kid
    primary_before = redis_sentinel.primary()

    acknowledged, _refused = scenarios.writes_during_a_failover(
        revocation, redis_sentinel.fail_over
    )
    breaker_clock.advance(5)

    assert redis_sentinel.primary() is not primary_before
    assert all(store.revocation_state(f"before-{n}", None, now=NOW).jti_denied for n in range(20))
    assert acknowledged
    assert all(store.revocation_state(j, None, now=NOW).jti_denied for j in acknowledged)
    assert store.revocation_state(None, "user-9", now=NOW).subject_revoked_before is not None
    # The rotation written before the failover is the ring after it.
    assert make_manager(store=keys).active_key().kid == rotated_kid
    scenarios.state_survived(guarded_verifier(revocation), sessions, keyring, login, rotated)
    store._client.close()


def test_the_shared_jwks_cache_works_through_sentinel(
    redis_sentinel, jwks_server, jwk_a, make_jwks, clock, prefix
):
    shared = RedisSharedJWKS(redis_sentinel.url, prefix=prefix, clock=clock)
    scenarios.two_processes_share_one_fetch(shared, jwks_server, jwk_a, make_jwks)
    shared._client.close()


def test_the_revocation_mirror_follows_a_failover(redis_sentinel, prefix, clock):
    # The mirror's tracking connection was opened on the old primary. After
    # the failover that server is a replica; cut off from the new primary
    # (a partition, the usual reason for a failover) it still answers, but
    # no write reaches it: the mirror must not confirm freshness there.
    from jwt_guard_core.sessions import RedisRevocationMirror, StoreUnavailable

    monotonic = FakeClock(1000.0)
    mirrored = RedisSessionStore(redis_sentinel.url, prefix=prefix)
    written = RedisSessionStore(redis_sentinel.url, prefix=prefix, replicas=1)
    mirror = RedisRevocationMirror(mirrored, background=False, monotonic=monotonic)
    writer = RevocationService(written, clock=clock)
    old = redis_sentinel.primary()
    try:
        writer.revoke_jti("before", expires_at=NOW + 600)
        mirror.sync()
        assert mirror.revocation_state("before", None, now=NOW).jti_denied
        new = redis_sentinel.fail_over()
        cut_off = old.client()
        try:
            cut_off.execute_command("REPLICAOF", "127.0.0.1", "1")
        finally:
            cut_off.close()
        client = new.client()
        try:
            client.set(f"{prefix}:deny:after", repr(NOW + 600))
        finally:
            client.close()
        monotonic.advance(0.5)
        # Its connection still reaches the old primary: dropped, not trusted.
        with pytest.raises(StoreUnavailable):
            mirror.sync()
        monotonic.advance(0.6)  # past the bound (1 s) since the last confirmed answer
        assert not mirror.fresh
        with pytest.raises(StoreUnavailable):
            mirror.revocation_state("after", None, now=NOW)
        # Once the Sentinels agree, the next refresh reconnects and reloads.
        redis_sentinel.wait_agreed(new)
        mirror.sync()
        assert mirror.revocation_state("after", None, now=NOW).jti_denied
        assert mirror.revocation_state("before", None, now=NOW).jti_denied
    finally:
        mirror.close()
        mirrored._client.close()
        written._client.close()
        restore = old.client()
        try:
            restore.execute_command(
                "REPLICAOF", redis_sentinel.primary().host, redis_sentinel.primary().port
            )
        finally:
            restore.close()
        redis_sentinel.wait_replicated(redis_sentinel.primary())
