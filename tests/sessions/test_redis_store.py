"""RedisSessionStore: keys expire with what they describe, prefixes isolate, bad clients refused."""

from __future__ import annotations

import pytest

from jwt_guard_core import ConfigurationError
from jwt_guard_core.sessions import RedisSessionStore, RevocationService, hash_refresh_token
from tests.factories import NOW


def test_keys_expire_with_the_token_family_and_denylist_entry(
    redis_server, redis_client, make_sessions, clock
):
    store = RedisSessionStore(redis_client, prefix="ttl")
    tokens = make_sessions(store).issue("user-1")
    token_ttl = redis_client.ttl(f"ttl:rt:{hash_refresh_token(tokens.refresh_token)}")
    family_ttl = redis_client.ttl(f"ttl:fam:{tokens.family_id}")
    index_ttl = redis_client.ttl("ttl:subfam:user-1")
    assert 14 * 86400 - 5 <= token_ttl <= 14 * 86400
    assert 30 * 86400 - 5 <= family_ttl <= 30 * 86400
    assert index_ttl == pytest.approx(family_ttl, abs=5)

    RevocationService(store, clock=clock).revoke_jti("j1", expires_at=NOW + 600)
    # exp - now plus the 300 s leeway margin.
    assert 895 <= redis_client.ttl("ttl:deny:j1") <= 900


def test_prefixes_keep_applications_apart(redis_server, redis_client, clock):
    first = RevocationService(RedisSessionStore(redis_client, prefix="app1"), clock=clock)
    second = RevocationService(RedisSessionStore(redis_client, prefix="app2"), clock=clock)
    first.revoke_jti("j1", expires_at=NOW + 600)
    assert first.check({"jti": "j1"}) == "jti"
    assert second.check({"jti": "j1"}) is None


def test_a_redis_url_is_accepted(redis_server, redis_client, clock):
    store = RedisSessionStore(redis_server.url)
    revocation = RevocationService(store, clock=clock)
    revocation.revoke_subject("user-1", at=NOW)
    assert revocation.check({"sub": "user-1", "iat": NOW - 1}) == "subject"
    store._client.close()


def test_a_client_decoding_responses_is_refused(redis_server):
    client = redis_server.client(decode_responses=True)
    with pytest.raises(ConfigurationError) as caught:
        RedisSessionStore(client)
    assert "decode_responses" in str(caught.value)
    client.close()


@pytest.mark.parametrize("client", ["http://example.com", 42, None])
def test_a_bad_client_or_url_is_refused(client):
    with pytest.raises(ConfigurationError) as caught:
        RedisSessionStore(client)
    assert caught.value.setting == "redis"


def test_an_empty_prefix_is_refused(redis_server, redis_client):
    with pytest.raises(ConfigurationError) as caught:
        RedisSessionStore(redis_client, prefix="")
    assert caught.value.setting == "prefix"
