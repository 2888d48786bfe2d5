"""JWT_GUARD_ISSUING_* -> the core KeyManager and TokenIssuer: per app, on first use, by key."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import redis

from jwt_guard_core import ConfigurationError, GuardConfig, Verifier
from jwt_guard_core.signing import FileKeyStore, RedisKeyStore
from jwt_guard_flask.config import DEFAULTS
from jwt_guard_flask.issuing import (
    ISSUING_KEYS,
    build_issuing,
    get_issuing,
    get_key_manager,
    get_token_issuer,
)
from tests.factories import NOW, FakeClock
from tests.redis_server import RedisServer, redis_client, redis_server

from .issuing_fixtures import (
    AUDIENCE,
    BAD_SETTINGS,
    ISSUER_URL,
    PASSPHRASE,
    IssuingApp,
    issuing_app,
    key_dir,
)

__all__ = ["issuing_app", "key_dir", "redis_client", "redis_server"]


def test_a_token_issued_from_config_verifies_with_the_app_keys(
    issuing_app: IssuingApp, clock: FakeClock
) -> None:
    app = issuing_app()
    with app.app_context():
        token = get_token_issuer().issue_access_token("user-42", scopes=["orders:read"])
        keys = get_key_manager()
    config = GuardConfig(
        keys=keys, algorithms=["ES256"], issuer=ISSUER_URL, audience=AUDIENCE, clock=clock
    )
    verified = Verifier(config).verify(token)
    assert verified.claims["sub"] == "user-42"
    assert verified.claims["iat"] == int(NOW)
    assert verified.claims["exp"] - verified.claims["iat"] == 900


def test_the_issuing_side_is_built_on_first_use_once_per_app(
    issuing_app: IssuingApp, key_dir: Path
) -> None:
    app = issuing_app()
    assert not key_dir.exists()
    first = get_issuing(app)
    assert key_dir.is_dir()
    assert get_issuing(app) is first
    assert app.extensions["jwt_guard_issuing"] is first


def test_init_app_sets_every_issuing_default(issuing_app: IssuingApp) -> None:
    app = issuing_app(ISSUER="https://auth.example")
    for key in ISSUING_KEYS:
        assert key in app.config
    assert app.config["JWT_GUARD_ISSUING_ROTATION_INTERVAL"] == timedelta(days=30)


def test_durations_accept_timedelta_and_reach_the_core(issuing_app: IssuingApp) -> None:
    app = issuing_app(
        ROTATION_INTERVAL=timedelta(days=7),
        MAX_TOKEN_LIFETIME=timedelta(minutes=30),
        GRACE_PERIOD=120,
        ACCESS_TOKEN_LIFETIME=timedelta(minutes=5),
        JWKS_MAX_AGE=300,
    )
    keys = get_key_manager(app)
    assert keys.rotation_interval == 7 * 86400
    assert keys.retention == 1800 + 120
    assert keys.jwks_cache_control() == "public, max-age=300"
    assert get_token_issuer(app).max_lifetime == 1800


def test_the_configured_algorithm_and_clock_are_used(
    issuing_app: IssuingApp, clock: FakeClock
) -> None:
    clock.advance(77)
    info = get_key_manager(issuing_app(ALGORITHM="ES384")).active_key()
    assert info.algorithm == "ES384"
    assert info.created_at == NOW + 77


def test_jwks_uri_defaults_to_the_issuer_well_known_path(issuing_app: IssuingApp) -> None:
    app = issuing_app(ISSUER="https://auth.example/t/")
    assert get_issuing(app).jwks_uri == "https://auth.example/t/.well-known/jwks.json"
    app = issuing_app(JWKS_URI="https://keys.example/jwks.json")
    assert get_issuing(app).jwks_uri == "https://keys.example/jwks.json"


@pytest.mark.parametrize(("suffixes", "key"), BAD_SETTINGS)
def test_a_bad_value_is_a_configuration_error_naming_the_key(
    issuing_app: IssuingApp, suffixes: dict[str, Any], key: str
) -> None:
    os.environ.pop("JWT_GUARD_TEST_UNSET_VARIABLE", None)
    app = issuing_app(blueprint=False, **suffixes)
    with pytest.raises(ConfigurationError) as info:
        get_issuing(app)
    assert info.value.setting == f"JWT_GUARD_ISSUING_{key}"
    assert str(info.value).startswith(f"JWT_GUARD_ISSUING_{key}: ")
    assert "jwt_guard_issuing" not in app.extensions


def test_a_world_readable_key_directory_is_refused(issuing_app: IssuingApp, key_dir: Path) -> None:
    key_dir.mkdir(mode=0o700)
    key_dir.chmod(0o750)
    with pytest.raises(ConfigurationError, match="chmod"):
        get_issuing(issuing_app())


def test_passphrase_env_names_the_variable_the_passphrase_is_read_from(
    issuing_app: IssuingApp, key_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JWT_GUARD_KEY_PASSPHRASE")
    monkeypatch.setenv("MY_KEYS_PASSPHRASE", "another passphrase 0123456789abcdef")
    kid = get_key_manager(issuing_app(PASSPHRASE_ENV="MY_KEYS_PASSPHRASE")).active_key().kid
    store = FileKeyStore(key_dir, passphrase="another passphrase 0123456789abcdef")
    assert [k.kid for k in store.load().keys] == [kid]
    with pytest.raises(ConfigurationError):
        FileKeyStore(key_dir, passphrase=PASSPHRASE)


def test_an_app_without_the_guard_can_issue(key_dir: Path, clock: FakeClock) -> None:
    config = {
        "JWT_GUARD_ISSUING_KEY_DIR": str(key_dir),
        "JWT_GUARD_ISSUING_ISSUER": ISSUER_URL,
        "JWT_GUARD_CLOCK": clock,
    }
    os.environ["JWT_GUARD_KEY_PASSPHRASE"] = PASSPHRASE
    try:
        issuing = build_issuing(config)
    finally:
        del os.environ["JWT_GUARD_KEY_PASSPHRASE"]
    assert issuing.keys.active_key().created_at == NOW
    assert issuing.keys.algorithm == DEFAULTS["JWT_GUARD_ISSUING_ALGORITHM"]


def test_redis_url_uses_the_shared_redis_store(
    issuing_app: IssuingApp, redis_server: RedisServer, redis_client: redis.Redis
) -> None:
    app = issuing_app(KEY_DIR=None, REDIS_URL=redis_server.url, REDIS_PREFIX="svc")
    kid = get_key_manager(app).active_key().kid
    store = RedisKeyStore(redis_server.url, prefix="svc", passphrase=PASSPHRASE)
    assert [k.kid for k in store.load().keys] == [kid]


def test_get_issuing_outside_an_app_context_is_a_runtime_error() -> None:
    with pytest.raises(RuntimeError, match="application context"):
        get_issuing()


def test_docs_table_lists_every_issuing_key_with_its_default() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "flask.md").read_text()
    for key in ISSUING_KEYS:
        row = next((line for line in doc.splitlines() if line.startswith(f"| `{key}`")), None)
        assert row is not None, key
        assert f"`{DEFAULTS[key]!r}`" in row, (key, row)
