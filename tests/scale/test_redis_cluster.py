"""Every Redis backend on a real 3-primary Redis Cluster with replicas, and through a failover.

Keys are hash-tagged (``{prefix}:...``) so each atomic script touches one
slot; the rate-limit keys, used alone, are spread over the cluster.
"""

from __future__ import annotations

import pytest

from jwt_guard_core.breaker import CircuitBreaker
from jwt_guard_core.sessions import RedisSessionStore, RevocationService, hash_refresh_token
from jwt_guard_core.shared_jwks import RedisSharedJWKS
from jwt_guard_core.signing import RedisKeyStore
from tests.factories import NOW, FakeClock
from tests.scale import scenarios
from tests.sessions.listing_contract import check_failures, check_families, check_revocations
from tests.signing.conftest import PASSPHRASE

pytest_plugins = ["tests.core.remote_fixtures"]


@pytest.fixture
def cluster_client(redis_cluster):
    client = redis_cluster.client()
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def store(cluster_client, prefix):
    return RedisSessionStore(cluster_client, prefix=prefix)


def test_a_redis_cluster_url_builds_a_cluster_client(redis_cluster, prefix, clock):
    store = RedisSessionStore(redis_cluster.url, prefix=prefix)
    try:
        RevocationService(store, clock=clock).revoke_jti("j1", expires_at=NOW + 600)
        assert store.revocation_state("j1", None, now=NOW).jti_denied
    finally:
        store._client.close()


def test_the_keys_of_a_store_share_one_slot_and_rate_limit_keys_spread(
    store, cluster_client, make_sessions, clock, prefix
):
    sessions = make_sessions(store)
    tokens = sessions.issue("user-1")
    revocation = RevocationService(store, clock=clock)
    revocation.revoke_jti("j1", expires_at=NOW + 600)
    revocation.revoke_subject("user-1")
    tagged = [
        f"{{{prefix}}}:rt:{hash_refresh_token(tokens.refresh_token)}",
        f"{{{prefix}}}:fam:{tokens.family_id}",
        f"{{{prefix}}}:subfam:user-1",
        f"{{{prefix}}}:deny:j1",
        f"{{{prefix}}}:sub:user-1",
    ]
    assert all(cluster_client.exists(key) for key in tagged)
    assert {cluster_client.keyslot(key) for key in tagged} == {cluster_client.keyslot(prefix)}
    for n in range(12):
        store.add_failure(f"198.51.100.{n}", now=NOW, window=60, keep=10)
    fail_slots = {cluster_client.keyslot(f"{{{prefix}:fail:198.51.100.{n}}}") for n in range(12)}
    assert len(fail_slots) > 1
    assert store.recent_failures("198.51.100.3", now=NOW, window=60) == (NOW,)


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
    cluster_client, make_manager, clock, prefix, recorded_events
):
    def instance():
        return make_manager(
            store=RedisKeyStore(cluster_client, passphrase=PASSPHRASE, prefix=prefix)
        )

    scenarios.two_instances_rotate_once(instance(), instance(), clock)
    assert cluster_client.exists(f"{{{prefix}}}:ring")


def test_a_failover_loses_no_revocation_and_lets_no_reused_refresh_token_through(
    redis_cluster,
    cluster_client,
    make_sessions,
    guarded_verifier,
    keyring,
    clock,
    prefix,
    make_manager,
):
    # replicas=1: every write waits until the primary's replica holds it.
    # Calls refused during the switch may open the breaker; its clock is
    # the test's, moved past the cool-down once the failover is over.
    breaker_clock = FakeClock()
    breaker = CircuitBreaker(failures=5, cool_down=5, clock=breaker_clock)
    store = RedisSessionStore(cluster_client, prefix=prefix, replicas=1, breaker=breaker)
    revocation = RevocationService(store, clock=clock)
    sessions = make_sessions(store)
    login = sessions.issue("user-1")
    rotated = sessions.refresh(login.refresh_token)
    for n in range(20):
        revocation.revoke_jti(f"before-{n}", expires_at=NOW + 600)
    revocation.revoke_subject("user-9")
    keys = RedisKeyStore(
        cluster_client, passphrase=PASSPHRASE, prefix=prefix, replicas=1, breaker=breaker
    )
    rotated_kid = make_manager(store=keys).rotate().kid
    primary_before, _ = redis_cluster.owner_of(prefix)

    acknowledged, _refused = scenarios.writes_during_a_failover(
        revocation, lambda: redis_cluster.fail_over(prefix)
    )
    breaker_clock.advance(5)

    assert redis_cluster.owner_of(prefix)[0] is not primary_before
    state = [store.revocation_state(f"before-{n}", None, now=NOW) for n in range(20)]
    assert all(s.jti_denied for s in state)
    assert all(store.revocation_state(j, None, now=NOW).jti_denied for j in acknowledged)
    assert acknowledged
    assert store.revocation_state(None, "user-9", now=NOW).subject_revoked_before is not None
    verifier = guarded_verifier(revocation)
    # The rotation written before the failover is the ring after it.
    assert make_manager(store=keys).active_key().kid == rotated_kid
    scenarios.state_survived(verifier, sessions, keyring, login, rotated)


def test_the_shared_jwks_cache_works_on_a_cluster(
    cluster_client, jwks_server, jwk_a, make_jwks, clock, prefix
):
    shared = RedisSharedJWKS(cluster_client, prefix=prefix, clock=clock)
    scenarios.two_processes_share_one_fetch(shared, jwks_server, jwk_a, make_jwks)


def test_the_revocation_mirror_refuses_a_cluster_store_with_a_clear_error(store):
    from jwt_guard_core import ConfigurationError
    from jwt_guard_core.sessions import RedisRevocationMirror

    with pytest.raises(ConfigurationError) as caught:
        RedisRevocationMirror(store, background=False)
    assert caught.value.setting == "store"
    assert "Redis Cluster is not supported" in str(caught.value)


def test_operators_list_sessions_revocations_and_failures_on_a_cluster(store):
    # Sessions and revocations share the store's slot; each client's failures
    # live in a slot of their own, found by a SCAN of every primary.
    check_families(store)
    check_revocations(store)
    check_failures(store)


def test_the_mirror_setting_with_a_cluster_url_names_the_setting(redis_cluster, prefix):
    from jwt_guard_core import ConfigurationError
    from jwt_guard_core.sessions import sessions_from_settings

    values = {
        "BACKEND": "redis",
        "REDIS_URL": redis_cluster.url,
        "REDIS_PREFIX": prefix,
        "REVOCATION_MIRROR": True,
    }
    with pytest.raises(ConfigurationError) as caught:
        sessions_from_settings(
            values,
            access_tokens=lambda subject, **options: "unused",
            name_for=lambda key: f"JWT_GUARD_SESSIONS_{key}",
        )
    assert caught.value.setting == "JWT_GUARD_SESSIONS_REVOCATION_MIRROR"
    assert "Redis Cluster is not supported" in str(caught.value)
