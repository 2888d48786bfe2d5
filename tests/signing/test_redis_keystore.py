"""RedisKeyStore against a real redis-server: shared ring, one rotation, encryption at rest."""

from __future__ import annotations

import logging
import threading

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from jwt_guard_core import (
    ConfigurationError,
    GuardConfig,
    KeySourceUnavailable,
    UnknownKid,
    Verifier,
)
from jwt_guard_core.signing import KeyManager, KeyStore, KeyStoreError, RedisKeyStore, TokenIssuer
from tests.factories import named
from tests.signing.conftest import (
    AUDIENCE,
    ISSUER,
    PASSPHRASE,
    assert_no_secret,
    verifier_from_jwks,
)


@pytest.fixture
def make_redis_store(redis_client):
    def _make(**options):
        options.setdefault("passphrase", PASSPHRASE)
        return RedisKeyStore(redis_client, **options)

    return _make


@pytest.fixture
def pair(make_redis_store, make_manager):
    """Two instances (separate stores and managers) sharing one Redis."""
    return make_manager(store=make_redis_store()), make_manager(store=make_redis_store())


def _run_together(managers, action):
    barrier = threading.Barrier(len(managers))
    results = [None] * len(managers)
    errors = []

    def run(index, manager):
        try:
            barrier.wait()
            results[index] = action(manager)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, m)) for i, m in enumerate(managers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    return results


def test_redis_store_is_a_key_store(make_redis_store):
    assert isinstance(make_redis_store(), KeyStore)


def test_two_instances_see_the_same_jwks(pair):
    first, second = pair
    assert first.active_key().kid == second.active_key().kid
    assert first.jwks() == second.jwks()
    assert len(first.jwks()["keys"]) == 1


def test_instances_started_together_create_a_single_first_key(pair, recorded_events):
    results = _run_together(list(pair), lambda m: m.active_key().kid)
    assert results[0] == results[1]
    assert len(named(recorded_events, "key_created")) == 1


def test_only_one_instance_rotates_when_both_call_maybe_rotate(pair, clock, recorded_events):
    first, second = pair
    old = first.active_key().kid
    clock.advance(first.rotation_interval - first.jwks_max_age * 2)
    assert first.maybe_rotate().published is not None
    assert not second.maybe_rotate()
    clock.advance(first.jwks_max_age * 2)
    outcome = second.maybe_rotate()
    assert outcome.retired == old
    assert not first.maybe_rotate()
    assert len(named(recorded_events, "key_rotated")) == 1
    assert first.active_key().kid == second.active_key().kid == outcome.activated


def test_concurrent_maybe_rotate_rotates_exactly_once(pair, clock, recorded_events):
    first, second = pair
    old = first.active_key().kid
    clock.advance(first.rotation_interval - first.jwks_max_age * 2)
    published = _run_together(list(pair), lambda m: m.maybe_rotate())
    assert sum(bool(o) for o in published) == 1
    clock.advance(first.jwks_max_age * 2)
    rotated = _run_together(list(pair), lambda m: m.maybe_rotate())
    assert sum(bool(o) for o in rotated) == 1
    assert len(named(recorded_events, "key_published")) == 1
    assert len(named(recorded_events, "key_rotated")) == 1
    new = first.active_key().kid
    assert new != old
    assert second.active_key().kid == new
    assert [k["kid"] for k in first.jwks()["keys"]] == [new, old]
    assert first.jwks() == second.jwks()


def test_a_rotation_by_one_instance_is_used_by_the_other_at_once(pair, clock):
    first, second = pair
    issuer = TokenIssuer(second, issuer=ISSUER, audience=AUDIENCE)
    issuer.issue_access_token("user-1")
    new = first.rotate().kid
    token = issuer.issue_access_token("user-1")
    assert verifier_from_jwks(first, clock).verify(token).kid == new


def test_an_emergency_rotation_by_one_instance_stops_the_other_signing_with_old_keys(pair, clock):
    first, second = pair
    issuer = TokenIssuer(second, issuer=ISSUER, audience=AUDIENCE)
    old_token = issuer.issue_access_token("user-1")
    first.emergency_rotate()
    assert second.emergency_epoch == first.emergency_epoch == int(clock())
    new_token = issuer.issue_access_token("user-1")
    verifier = verifier_from_jwks(second, clock)
    assert verifier.verify(new_token).kid == first.active_key().kid
    with pytest.raises(UnknownKid) as info:
        verifier.verify(old_token)
    assert info.value.reason == "unknown_kid"


def test_private_keys_in_redis_are_encrypted(redis_client, make_redis_store, make_manager):
    store = make_redis_store()
    manager = make_manager(store=store)
    manager.active_key()
    manager.rotate()
    materials = [k.material.reveal() for k in store.load().keys]
    assert len(materials) == 2
    for name in redis_client.keys("*"):
        value = redis_client.get(name)
        assert value is not None
        assert b"BEGIN" not in value
        assert_no_secret(value, materials)


def test_wrong_passphrase_for_the_redis_store_is_refused(make_redis_store, make_manager):
    make_manager(store=make_redis_store()).active_key()
    store = make_redis_store(passphrase="another passphrase entirely")
    with pytest.raises(ConfigurationError) as info:
        store.check()
    assert info.value.setting == "passphrase"
    assert "wrong passphrase" in str(info.value)
    assert "another passphrase" not in str(info.value)


def test_stores_with_different_prefixes_are_independent(make_redis_store, make_manager):
    a = make_manager(store=make_redis_store(prefix="app-a"))
    b = make_manager(store=make_redis_store(prefix="app-b"))
    assert a.active_key().kid != b.active_key().kid


def test_non_blocking_maybe_rotate_skips_while_another_instance_holds_the_lock(
    pair, make_redis_store, clock
):
    first, _ = pair
    first.active_key()
    before = first.list_keys()
    clock.advance(first.rotation_interval)
    with make_redis_store().lock() as held:
        assert held is True
        assert not first.maybe_rotate(blocking=False)
    assert first.list_keys() == before
    assert first.maybe_rotate(blocking=False).published is not None


def test_blocking_lock_gives_up_after_lock_wait(make_redis_store):
    holder = make_redis_store()
    waiter = make_redis_store(lock_wait=0.05)
    with holder.lock(), pytest.raises(KeyStoreError, match="held the key store lock"):  # noqa: SIM117
        with waiter.lock():
            pass


def test_save_with_a_stale_revision_is_refused(make_redis_store, make_manager):
    store = make_redis_store()
    manager = make_manager(store=store)
    manager.active_key()
    stale = store.load()
    manager.rotate()
    with pytest.raises(KeyStoreError, match="changed while it was being updated"):
        store.save(stale, expected_revision=stale.revision)


def test_tampered_ring_in_redis_is_a_key_store_error(redis_client, make_redis_store, make_manager):
    store = make_redis_store()
    make_manager(store=store).active_key()
    raw = redis_client.get("jwt_guard:signing:ring")
    doc = raw.replace(b'"sealed": "', b'"sealed": "AAAA')
    redis_client.set("jwt_guard:signing:ring", doc)
    with pytest.raises(KeyStoreError, match="does not decrypt"):
        store.load()


def test_unreachable_redis_is_a_key_store_error_and_a_503_for_verification(issuer, clock):
    token = issuer.issue_access_token("user-1")
    client = redis.Redis(
        host="127.0.0.1", port=1, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0)
    )
    try:
        manager = KeyManager(RedisKeyStore(client, passphrase=PASSPHRASE), clock=clock)
        with pytest.raises(KeyStoreError) as info:
            manager.jwks()
        assert "unavailable" in str(info.value)
        assert "127.0.0.1" not in str(info.value)
        verifier = Verifier(
            GuardConfig(
                algorithms=["ES256"], keys=manager, issuer=ISSUER, audience=AUDIENCE, clock=clock
            )
        )
        with pytest.raises(KeySourceUnavailable) as rejected:
            verifier.verify(token)
        assert rejected.value.reason == "key_source_unavailable"
        assert rejected.value.status == 503
    finally:
        client.close()


def test_redis_url_is_accepted(redis_server, redis_client, clock):
    store = RedisKeyStore(redis_server.url, passphrase=PASSPHRASE)
    assert KeyManager(store, clock=clock).active_key().kid


def test_client_with_decoded_responses_is_refused(redis_server):
    client = redis_server.client(decode_responses=True)
    try:
        with pytest.raises(ConfigurationError, match="decode_responses"):
            RedisKeyStore(client, passphrase=PASSPHRASE)
    finally:
        client.close()


@pytest.mark.parametrize(
    ("option", "value"), [("lock_timeout", 0), ("lock_wait", -1), ("prefix", "")]
)
def test_bad_redis_store_options_are_refused(redis_client, option, value):
    with pytest.raises(ConfigurationError) as info:
        RedisKeyStore(redis_client, passphrase=PASSPHRASE, **{option: value})
    assert info.value.setting == option


def test_failed_scheduled_maintenance_does_not_stop_issuing(
    redis_server, redis_client, make_redis_store, make_manager, clock, caplog
):
    writer = make_manager(store=make_redis_store())
    kid = writer.active_key().kid
    # A real read-only Redis user: the instance can read the ring but can
    # neither take the lock nor write, as with a replica's credentials.
    redis_client.execute_command(
        "ACL", "SETUSER", "reader", "on", ">reader-password-123", "~*", "+@read", "+ping"
    )
    reader_client = redis_server.client(username="reader", password="reader-password-123")
    try:
        reader = make_manager(store=RedisKeyStore(reader_client, passphrase=PASSPHRASE))
        issuer = TokenIssuer(reader, issuer=ISSUER, audience=AUDIENCE)
        clock.advance(reader.rotation_interval)
        caplog.set_level(logging.WARNING, logger="jwt_guard.signing")
        token = issuer.issue_access_token("user-1")
        assert verifier_from_jwks(writer, clock).verify(token).kid == kid
        assert any("maintenance failed" in r.getMessage() for r in caplog.records)
        with pytest.raises(KeyStoreError, match="unavailable"):
            reader.rotate()
    finally:
        reader_client.close()
        redis_client.execute_command("ACL", "DELUSER", "reader")
