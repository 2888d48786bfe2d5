"""JWT_GUARD["ISSUING"] -> the core KeyManager and TokenIssuer: lazy, cached, validated by key."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import redis

from jwt_guard_core import ConfigurationError, GuardConfig, Verifier
from jwt_guard_core.signing import FileKeyStore, RedisKeyStore
from jwt_guard_django.checks import check_settings
from jwt_guard_django.issuing import (
    ISSUING_DEFAULTS,
    build_issuing,
    get_issuing,
    get_key_manager,
    get_token_issuer,
)
from tests.factories import NOW, FakeClock
from tests.redis_server import RedisServer, redis_client, redis_server

from .issuing_fixtures import AUDIENCE, ISSUER_URL, PASSPHRASE, issuing, key_dir

__all__ = ["issuing", "key_dir", "redis_client", "redis_server"]


def _error() -> ConfigurationError:
    with pytest.raises(ConfigurationError) as info:
        build_issuing()
    return info.value


def test_a_token_issued_from_settings_verifies_with_the_published_keys(
    issuing: Any, clock: FakeClock
) -> None:
    token = get_token_issuer().issue_access_token("user-42", scopes=["orders:read"])
    verifier = Verifier(
        GuardConfig(
            keys=get_key_manager(),
            algorithms=["ES256"],
            issuer=ISSUER_URL,
            audience=AUDIENCE,
            expected_type="at+jwt",
            clock=clock,
        )
    )
    verified = verifier.verify(token)
    assert verified.claims["sub"] == "user-42"
    assert verified.claims["iat"] == int(NOW)
    assert verified.claims["exp"] - verified.claims["iat"] == 900
    assert verified.header["kid"] == get_key_manager().active_key().kid


def test_settings_are_read_on_first_use_and_cached(issuing: Any, key_dir: Path) -> None:
    assert not key_dir.exists()
    first = get_issuing()
    assert key_dir.is_dir()
    assert get_issuing() is first


def test_changing_the_setting_builds_a_new_issuer(issuing: Any) -> None:
    first = get_token_issuer()
    issuing(ISSUER="https://other.example")
    second = get_token_issuer()
    assert second is not first
    assert second.issuer == "https://other.example"


def test_durations_accept_timedelta_and_reach_the_core(issuing: Any) -> None:
    issuing(
        ROTATION_INTERVAL=timedelta(days=7),
        MAX_TOKEN_LIFETIME=timedelta(minutes=30),
        GRACE_PERIOD=120,
        ACCESS_TOKEN_LIFETIME=timedelta(minutes=5),
        JWKS_MAX_AGE=300,
    )
    keys = get_key_manager()
    assert keys.rotation_interval == 7 * 86400
    assert keys.max_token_lifetime == 1800
    assert keys.retention == 1800 + 120
    assert keys.jwks_cache_control() == "public, max-age=300"
    assert get_token_issuer().max_lifetime == 1800


def test_the_configured_algorithm_signs(issuing: Any) -> None:
    issuing(ALGORITHM="EdDSA")
    assert get_key_manager().active_key().algorithm == "EdDSA"


def test_the_clock_setting_is_the_issuing_clock(issuing: Any, clock: FakeClock) -> None:
    clock.advance(1234)
    assert get_key_manager().active_key().created_at == NOW + 1234


def test_jwks_uri_defaults_to_the_issuer_well_known_path(issuing: Any) -> None:
    issuing(ISSUER="https://auth.example/tenant/")
    assert get_issuing().jwks_uri == "https://auth.example/tenant/.well-known/jwks.json"
    issuing(JWKS_URI="https://keys.example/jwks.json")
    assert get_issuing().jwks_uri == "https://keys.example/jwks.json"


def test_missing_issuing_dict_is_a_configuration_error(settings: Any) -> None:
    settings.JWT_GUARD = {k: v for k, v in settings.JWT_GUARD.items() if k != "ISSUING"}
    assert _error().setting == "JWT_GUARD['ISSUING']"


def test_issuing_that_is_not_a_dict_is_refused(settings: Any) -> None:
    settings.JWT_GUARD = {**settings.JWT_GUARD, "ISSUING": "yes"}
    assert _error().setting == "JWT_GUARD['ISSUING']"


@pytest.mark.parametrize(
    ("changes", "setting"),
    [
        ({"ISSUER": None}, "ISSUER"),
        ({"ISSUER": ""}, "ISSUER"),
        ({"KEY_DIR": None}, "KEY_DIR"),
        ({"KEY_DIR": 42}, "KEY_DIR"),
        ({"REDIS_URL": "redis://127.0.0.1:1/0"}, "KEY_DIR"),
        ({"ALGORITHM": "none"}, "ALGORITHM"),
        ({"ALGORITHM": "HS256"}, "ALGORITHM"),
        ({"ALLOW_HMAC": "yes"}, "ALLOW_HMAC"),
        ({"AUTO_ROTATE": 1}, "AUTO_ROTATE"),
        ({"ROTATION_INTERVAL": "30d"}, "ROTATION_INTERVAL"),
        ({"ROTATION_INTERVAL": 10}, "ROTATION_INTERVAL"),
        ({"MAX_TOKEN_LIFETIME": -1}, "MAX_TOKEN_LIFETIME"),
        ({"GRACE_PERIOD": float("nan")}, "GRACE_PERIOD"),
        ({"JWKS_MAX_AGE": 1.5}, "JWKS_MAX_AGE"),
        ({"PUBLISH_AHEAD": 1}, "PUBLISH_AHEAD"),
        ({"ACCESS_TOKEN_LIFETIME": 7200}, "ACCESS_TOKEN_LIFETIME"),
        ({"AUDIENCE": 42}, "AUDIENCE"),
        ({"JWKS_URI": "/jwks.json"}, "JWKS_URI"),
        ({"PASSPHRASE_ENV": ""}, "PASSPHRASE_ENV"),
        ({"PASSPHRASE_ENV": "JWT_GUARD_TEST_UNSET_VARIABLE"}, "PASSPHRASE_ENV"),
        ({"ROTATE_EVERY": 3600}, "ROTATE_EVERY"),
    ],
)
def test_a_bad_value_is_a_configuration_error_naming_the_key(
    issuing: Any, changes: dict[str, Any], setting: str
) -> None:
    os.environ.pop("JWT_GUARD_TEST_UNSET_VARIABLE", None)
    issuing(**changes)
    error = _error()
    assert error.setting == f"JWT_GUARD['ISSUING'][{setting!r}]"
    assert str(error).startswith(f"JWT_GUARD['ISSUING'][{setting!r}]: ")


def test_a_world_readable_key_directory_is_refused(issuing: Any, key_dir: Path) -> None:
    key_dir.mkdir(mode=0o700)
    key_dir.chmod(0o755)
    error = _error()
    assert str(key_dir) in str(error)
    assert "chmod" in str(error)


def test_the_passphrase_never_appears_in_errors_or_reprs(
    issuing: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    issued = get_issuing()
    assert PASSPHRASE not in repr(issued)
    get_key_manager().active_key()
    monkeypatch.setenv("JWT_GUARD_KEY_PASSPHRASE", "a different passphrase 0123456789")
    issuing(ISSUER="https://changed.example")
    error = _error()
    assert PASSPHRASE not in str(error)
    assert "different" not in str(error)


def test_hmac_needs_allow_hmac_and_then_publishes_nothing(issuing: Any) -> None:
    issuing(ALGORITHM="HS256", ALLOW_HMAC=True)
    assert get_key_manager().active_key().algorithm == "HS256"
    assert get_key_manager().jwks() == {"keys": []}


def test_redis_url_uses_the_shared_redis_store(
    issuing: Any, redis_server: RedisServer, redis_client: redis.Redis
) -> None:
    issuing(KEY_DIR=None, REDIS_URL=redis_server.url, REDIS_PREFIX="tenant-a")
    keys = get_key_manager()
    kid = keys.active_key().kid
    assert redis_client.exists("tenant-a:ring")
    other = RedisKeyStore(redis_server.url, prefix="tenant-a", passphrase=PASSPHRASE)
    assert [k.kid for k in other.load().keys] == [kid]


def test_the_file_store_is_the_one_in_key_dir(issuing: Any, key_dir: Path) -> None:
    kid = get_key_manager().active_key().kid
    assert [k.kid for k in FileKeyStore(key_dir, passphrase=PASSPHRASE).load().keys] == [kid]


def test_issuing_is_not_reported_as_an_unknown_setting(issuing: Any) -> None:
    assert [m.id for m in check_settings() if m.id == "jwt_guard.W007"] == []


def test_every_issuing_key_is_documented_with_its_default() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "django.md").read_text()
    for key, default in ISSUING_DEFAULTS.items():
        shown = repr(default).replace("'", '"')
        if isinstance(default, timedelta):
            shown = f"timedelta(days={default.days})"
        assert f'| `ISSUING["{key}"]` | `{shown}` |' in doc, key
