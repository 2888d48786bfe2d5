"""The Redis backends' scale options: URLs for Cluster and Sentinel, replicas, refusals named."""

from __future__ import annotations

import pytest

from jwt_guard_core import ConfigurationError
from jwt_guard_core.errors import StateUnavailable
from jwt_guard_core.sessions import RedisSessionStore, StoreUnavailable
from jwt_guard_core.signing import KeyStoreError, RedisKeyStore


@pytest.mark.parametrize(
    "url",
    [
        "redis+sentinel://",
        "redis+sentinel://127.0.0.1:26379",
        "redis+sentinel://127.0.0.1:notaport/service",
        "redis+sentinel://127.0.0.1:26379/service/notadb",
        "redis+cluster://",
    ],
)
def test_a_bad_cluster_or_sentinel_url_is_refused_naming_the_setting(url):
    with pytest.raises(ConfigurationError) as caught:
        RedisSessionStore(url)
    assert caught.value.setting == "redis"
    with pytest.raises(ConfigurationError) as caught:
        RedisKeyStore(url, passphrase="correct horse battery staple 42")
    assert caught.value.setting == "key_store"


def test_a_sentinel_url_names_its_sentinels_service_and_password():
    store = RedisSessionStore("redis+sentinel://:s3cret@127.0.0.1:26379,[::1]:26380/mymaster/2")
    pool = store._client.connection_pool
    assert pool.service_name == "mymaster"
    assert [
        (s.connection_pool.connection_kwargs["host"]) for s in pool.sentinel_manager.sentinels
    ] == [
        "127.0.0.1",
        "::1",
    ]
    assert pool.connection_kwargs["db"] == 2
    assert pool.connection_kwargs["password"] == "s3cret"
    assert pool.connection_kwargs["socket_timeout"] == 2.0
    store._client.close()


@pytest.mark.parametrize(
    ("options", "setting"),
    [
        ({"replicas": -1}, "replicas"),
        ({"replicas": 1.5}, "replicas"),
        ({"replicas": True}, "replicas"),
        ({"replica_timeout": 0}, "replica_timeout"),
        ({"replica_timeout": "1"}, "replica_timeout"),
    ],
)
def test_bad_replica_options_are_refused(redis_server, options, setting):
    with pytest.raises(ConfigurationError) as caught:
        RedisSessionStore(redis_server.url, **options)
    assert caught.value.setting == setting


def test_a_write_no_replica_confirms_is_refused_not_reported_done(redis_server, redis_client):
    # The session server has no replica: WAIT 1 is answered with 0.
    store = RedisSessionStore(redis_client, prefix="norep", replicas=1, replica_timeout=0.05)
    with pytest.raises(StoreUnavailable) as caught:
        store.deny_jti("j1", expires_at=2e9, now=1.9e9)
    assert "could not confirm a write on 1 replica(s) (only 0)" in str(caught.value)


def test_an_unreachable_cluster_url_is_a_configuration_error(tmp_path):
    # A Cluster client reads the slot map when it is built.
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ConfigurationError) as caught:
        RedisSessionStore(f"redis+cluster://127.0.0.1:{port}")
    assert caught.value.setting == "redis"
    assert "cannot be reached" in str(caught.value)


def test_a_hash_tag_in_the_prefix_is_kept():
    from jwt_guard_core._redis import KeySpace

    assert KeySpace("app", cluster=True).key("deny", "j") == "{app}:deny:j"
    assert KeySpace("{shared}:app", cluster=True).key("deny", "j") == "{shared}:app:deny:j"
    assert KeySpace("app", cluster=False).key("deny", "j") == "app:deny:j"
    assert KeySpace("app", cluster=True).alone("fail", "1.2.3.4") == "{app:fail:1.2.3.4}"
    assert KeySpace("app", cluster=False).alone("fail", "1.2.3.4") == "app:fail:1.2.3.4"


def test_a_ring_write_no_replica_confirms_is_refused(redis_server, redis_client, make_manager):
    store = RedisKeyStore(
        redis_client,
        passphrase="correct horse battery staple 42",
        prefix="norep-keys",
        replicas=1,
        replica_timeout=0.05,
    )
    with pytest.raises(KeyStoreError) as caught:
        make_manager(store=store).active_key()
    assert "could not confirm a write on 1 replica(s) (only 0)" in str(caught.value)


def test_a_spend_no_replica_confirms_is_taken_back_so_the_retry_is_no_reuse(
    redis_server, redis_client, make_sessions, recorded_events
):
    plain = RedisSessionStore(redis_client, prefix="norep-rt")
    waiting = RedisSessionStore(redis_client, prefix="norep-rt", replicas=1, replica_timeout=0.05)
    login = make_sessions(plain).issue("user-1")
    with pytest.raises(StateUnavailable) as caught:
        make_sessions(waiting).refresh(login.refresh_token)
    assert caught.value.reason == "session_store_unavailable"
    # The client's retry (here through a store that does not wait) is the
    # token's first use: no reuse alarm, no revoked session.
    assert make_sessions(plain).refresh(login.refresh_token).subject == "user-1"
    assert not [e for e in recorded_events if e.name == "refresh_token_reuse"]
