"""The resource policy both adapters call: token finding, route demands, stores from settings."""

from __future__ import annotations

import pytest

from jwt_guard_core import ConfigurationError, InvalidRequest
from jwt_guard_core.dpop import MemoryReplayStore, SQLiteReplayStore
from jwt_guard_core.dpop.replay_redis import RedisReplayStore
from jwt_guard_core.sender import ResourcePolicy, find_token, route_dpop, route_step_up
from jwt_guard_core.settings import GuardSettings
from jwt_guard_core.settings.resource import resource_policy


def _find(authorization=None, cookies=None, locations=("header", "cookie")):
    return find_token(
        authorization=authorization,
        cookies=cookies or {},
        locations=locations,
        header_types=("Bearer",),
        cookie_name="access_token",
    )


def test_find_token_names_how_the_token_came():
    assert _find("DPoP abc").scheme == "DPoP"
    assert _find("Bearer abc").scheme == "Bearer"
    assert _find(None, {"access_token": "abc"}).scheme == "cookie"
    assert _find("Basic dXNlcjpwYXNz") is None


def test_a_dpop_header_is_read_only_where_headers_are():
    found = _find("DPoP abc", {"access_token": "xyz"}, locations=("cookie",))
    assert (found.token, found.scheme) == ("xyz", "cookie")


@pytest.mark.parametrize("authorization", ["DPoP a b", "DPoP\tabc", "  dpop ", "DPoP a,b"])
def test_malformed_dpop_credentials_are_invalid_request(authorization):
    with pytest.raises(InvalidRequest):
        _find(authorization)


def test_a_scheme_that_only_starts_with_dpop_is_not_dpop():
    assert _find("DPoPx abc") is None


@pytest.mark.parametrize("value", ["allowed", "off", "REQUIRED", 1])
def test_a_route_can_only_ask_for_required(value):
    with pytest.raises(ConfigurationError):
        route_dpop(value)


def test_route_step_up_is_none_without_a_demand():
    assert route_step_up() is None
    assert route_step_up("a b", None).acr_values == ("a", "b")
    with pytest.raises(ConfigurationError):
        route_step_up(max_age=-5)


def test_the_default_policy_refuses_bound_tokens_as_bearer_and_needs_no_setting():
    policy = ResourcePolicy()
    assert policy.dpop_mode == "off"
    assert policy.refusal(None).headers["WWW-Authenticate"] == 'Bearer realm="api"'


def _policy(**settings):
    return resource_policy(GuardSettings.from_mapping(settings, "django"))


def test_replay_stores_from_settings(tmp_path):
    assert isinstance(_policy().dpop.replay_store, MemoryReplayStore)
    sqlite = _policy(DPOP_REPLAY_STORE=f"sqlite:///{tmp_path}/r.sqlite3").dpop.replay_store
    assert isinstance(sqlite, SQLiteReplayStore)
    sqlite.close()
    redis = _policy(DPOP_REPLAY_STORE="redis://127.0.0.1:1/0").dpop.replay_store
    assert isinstance(redis, RedisReplayStore)
    dotted = _policy(DPOP_REPLAY_STORE="jwt_guard_core.dpop.MemoryReplayStore").dpop.replay_store
    assert isinstance(dotted, MemoryReplayStore)


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"DPOP_REPLAY_STORE": "no.such.Store"}, "DPOP_REPLAY_STORE"),
        ({"DPOP_REPLAY_STORE": object()}, "DPOP_REPLAY_STORE"),
        ({"DPOP_NONCES": "one-secret-string-of-32-bytes-long!!"}, "DPOP_NONCES"),
        ({"DPOP_NONCE_LIFETIME": 0, "DPOP_NONCES": True}, "DPOP_NONCE_LIFETIME"),
        ({"DPOP_FORWARDED_HEADERS": {"scheme": "X-Proto"}}, "DPOP_FORWARDED_HEADERS"),
        ({"DPOP_FORWARDED_HEADERS": ["X-Proto"]}, "DPOP_FORWARDED_HEADERS"),
        ({"DPOP_IAT_WINDOW": -1}, "DPOP_IAT_WINDOW"),
        ({"RESOURCE_METADATA": "https://api.example"}, "RESOURCE_METADATA"),
        ({"RESOURCE_METADATA": {"authorization_servers": []}}, "RESOURCE_METADATA"),
    ],
)
def test_every_bad_value_names_its_key(settings, named):
    with pytest.raises(ConfigurationError) as info:
        _policy(**settings)
    assert named in info.value.setting
