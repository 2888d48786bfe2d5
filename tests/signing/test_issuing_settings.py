"""Issuing settings as plain data: validated without I/O, checked without opening, then opened."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import redis

from jwt_guard_core import ConfigurationError
from jwt_guard_core.signing import FileKeyStore, RedisKeyStore
from jwt_guard_core.signing.settings import (
    ISSUING_DEFAULTS,
    IssuingSettings,
    issuing_from_settings,
    validate_issuing_settings,
)
from tests.factories import NOW, FakeClock
from tests.redis_server import RedisServer

from .conftest import AUDIENCE, ISSUER, PASSPHRASE, verifier_from_jwks


def prefixed(key: str) -> str:
    return f"APP_ISSUING_{key}"


@pytest.fixture
def passphrase(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("JWT_GUARD_KEY_PASSPHRASE", PASSPHRASE)
    return PASSPHRASE


def values(key_dir: Path, **changes: Any) -> dict[str, Any]:
    base = {"KEY_DIR": str(key_dir), "ISSUER": ISSUER, "AUDIENCE": AUDIENCE}
    return {k: v for k, v in {**base, **changes}.items() if v is not None}


def error(key_dir: Path, **changes: Any) -> ConfigurationError:
    with pytest.raises(ConfigurationError) as info:
        issuing_from_settings(values(key_dir, **changes), name_for=prefixed)
    return info.value


def test_settings_open_into_an_issuer_whose_tokens_verify(
    passphrase: str, key_dir: Path, clock: FakeClock
) -> None:
    issuing = issuing_from_settings(values(key_dir), name_for=prefixed, clock=clock)
    token = issuing.issuer.issue_access_token("user-42")
    claims = verifier_from_jwks(issuing.keys, clock).verify(token).claims
    assert claims["sub"] == "user-42"
    assert claims["iat"] == int(NOW)
    assert claims["exp"] - claims["iat"] == ISSUING_DEFAULTS["ACCESS_TOKEN_LIFETIME"]
    assert issuing.jwks_uri == f"{ISSUER}/.well-known/jwks.json"
    assert [k.kid for k in FileKeyStore(key_dir, passphrase=passphrase).load().keys] == [
        issuing.keys.active_key().kid
    ]


def test_missing_keys_take_the_documented_defaults(passphrase: str, key_dir: Path) -> None:
    issuing = issuing_from_settings({"KEY_DIR": str(key_dir), "ISSUER": ISSUER})
    assert issuing.keys.algorithm == "ES256"
    assert issuing.keys.rotation_interval == timedelta(days=30).total_seconds()
    assert issuing.keys.jwks_cache_control() == "public, max-age=600"
    assert issuing.issuer.max_lifetime == 3600


def test_jwks_uri_is_derived_from_the_issuer_unless_given(key_dir: Path) -> None:
    settings = IssuingSettings(issuer="https://auth.example/tenant/", key_dir=key_dir)
    assert settings.resolved_jwks_uri == "https://auth.example/tenant/.well-known/jwks.json"
    given = IssuingSettings(issuer=ISSUER, key_dir=key_dir, jwks_uri="https://k.example/j.json")
    assert given.resolved_jwks_uri == "https://k.example/j.json"


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"ISSUER": None}, "ISSUER"),
        ({"KEY_DIR": None}, "KEY_DIR"),
        ({"KEY_DIR": 42}, "KEY_DIR"),
        ({"REDIS_URL": "redis://127.0.0.1:1/0"}, "KEY_DIR"),
        ({"KEY_DIR": None, "REDIS_URL": 42}, "REDIS_URL"),
        ({"KEY_DIR": None, "REDIS_URL": "ftp://x"}, "REDIS_URL"),
        (
            {"KEY_DIR": None, "REDIS_URL": "redis://127.0.0.1:1/0", "REDIS_PREFIX": ""},
            "REDIS_PREFIX",
        ),
        ({"ALGORITHM": "HS256"}, "ALGORITHM"),
        ({"ALLOW_HMAC": "False"}, "ALLOW_HMAC"),
        ({"AUTO_ROTATE": 1}, "AUTO_ROTATE"),
        ({"ROTATION_INTERVAL": 10}, "ROTATION_INTERVAL"),
        ({"MAX_TOKEN_LIFETIME": 0}, "MAX_TOKEN_LIFETIME"),
        ({"GRACE_PERIOD": float("nan")}, "GRACE_PERIOD"),
        ({"JWKS_MAX_AGE": 1.5}, "JWKS_MAX_AGE"),
        ({"PUBLISH_AHEAD": 1}, "PUBLISH_AHEAD"),
        ({"ACCESS_TOKEN_LIFETIME": 7200}, "ACCESS_TOKEN_LIFETIME"),
        ({"AUDIENCE": ["a", 2]}, "AUDIENCE"),
        ({"JWKS_URI": "/jwks.json"}, "JWKS_URI"),
        ({"PASSPHRASE_ENV": ""}, "PASSPHRASE_ENV"),
        ({"PASSPHRASE_ENV": "JWT_GUARD_TEST_UNSET_VARIABLE"}, "PASSPHRASE_ENV"),
        ({"ROTATE_EVERY": 60}, "ROTATE_EVERY"),
    ],
)
def test_a_bad_value_is_refused_under_the_adapter_name_before_any_key_is_written(
    passphrase: str,
    key_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    changes: dict[str, Any],
    key: str,
) -> None:
    monkeypatch.delenv("JWT_GUARD_TEST_UNSET_VARIABLE", raising=False)
    with pytest.raises(ConfigurationError) as info:
        validate_issuing_settings(values(key_dir, **changes), name_for=prefixed)
    assert info.value.setting == f"APP_ISSUING_{key}"
    assert str(info.value).startswith(f"APP_ISSUING_{key}: ")
    assert error(key_dir, **changes).setting == f"APP_ISSUING_{key}"
    assert not key_dir.exists()


def test_an_unknown_key_error_lists_the_known_keys_by_their_adapter_names(key_dir: Path) -> None:
    message = str(error(key_dir, ROTATE_EVERY=60))
    assert all(prefixed(key) in message for key in ISSUING_DEFAULTS)


def test_constructed_directly_errors_name_the_field(key_dir: Path) -> None:
    with pytest.raises(ConfigurationError) as info:
        IssuingSettings(issuer=ISSUER, key_dir=key_dir, access_token_lifetime=7200)
    assert info.value.setting == "access_token_lifetime"


def test_check_store_reads_no_key_and_creates_nothing(passphrase: str, key_dir: Path) -> None:
    settings = validate_issuing_settings(values(key_dir))
    assert not key_dir.exists()
    settings.open()
    assert key_dir.is_dir()


def test_check_store_refuses_a_key_directory_others_can_read(
    passphrase: str, key_dir: Path
) -> None:
    key_dir.mkdir(mode=0o700)
    key_dir.chmod(0o750)
    with pytest.raises(ConfigurationError) as info:
        validate_issuing_settings(values(key_dir), name_for=prefixed)
    assert info.value.setting == "APP_ISSUING_KEY_DIR"
    assert "chmod 700" in str(info.value)


def test_check_store_refuses_a_key_dir_that_is_a_file(passphrase: str, key_dir: Path) -> None:
    key_dir.write_text("not a directory")
    with pytest.raises(ConfigurationError, match="is not a directory") as info:
        validate_issuing_settings(values(key_dir), name_for=prefixed)
    assert info.value.setting == "APP_ISSUING_KEY_DIR"


def test_check_store_refuses_a_short_passphrase_without_showing_it(
    key_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JWT_GUARD_KEY_PASSPHRASE", "short-secret")
    with pytest.raises(ConfigurationError) as info:
        validate_issuing_settings(values(key_dir), name_for=prefixed)
    assert info.value.setting == "APP_ISSUING_PASSPHRASE_ENV"
    assert "short-secret" not in str(info.value)


def test_a_store_sealed_with_another_passphrase_fails_only_when_opened(
    passphrase: str, key_dir: Path
) -> None:
    FileKeyStore(key_dir, passphrase="another passphrase 0123456789abcdef")
    settings = validate_issuing_settings(values(key_dir), name_for=prefixed)
    with pytest.raises(ConfigurationError) as info:
        settings.open()
    assert info.value.setting == "APP_ISSUING_PASSPHRASE_ENV"
    assert PASSPHRASE not in str(info.value)


def test_the_redis_store_is_checked_without_connecting_and_opened_with_the_prefix(
    passphrase: str, redis_server: RedisServer, redis_client: redis.Redis
) -> None:
    given = {"REDIS_URL": redis_server.url, "REDIS_PREFIX": "tenant-a", "ISSUER": ISSUER}
    settings = validate_issuing_settings(given)
    assert redis_client.keys("tenant-a:*") == []
    kid = settings.open().keys.active_key().kid
    store = RedisKeyStore(redis_server.url, prefix="tenant-a", passphrase=passphrase)
    assert [k.kid for k in store.load().keys] == [kid]


def test_the_clock_is_the_manager_and_issuer_clock(
    passphrase: str, key_dir: Path, clock: FakeClock
) -> None:
    clock.advance(1234)
    issuing = issuing_from_settings(values(key_dir), clock=clock)
    assert issuing.keys.active_key().created_at == NOW + 1234
    token = issuing.issuer.issue_access_token("user-42")
    assert verifier_from_jwks(issuing.keys, clock).verify(token).claims["iat"] == int(NOW + 1234)
