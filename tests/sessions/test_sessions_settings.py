"""Session settings: validated without I/O, errors name the adapter's key, opened into services."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from jwt_guard_core import ConfigurationError, RateLimited
from jwt_guard_core.sessions import (
    SESSIONS_DEFAULTS,
    InvalidRefreshToken,
    MemorySessionStore,
    RedisSessionStore,
    SessionsSettings,
    SQLiteSessionStore,
    sessions_from_settings,
)
from tests.factories import FakeClock
from tests.redis_server import RedisServer
from tests.sessions.conftest import FactoryIssuer


def named(key: str) -> str:
    return f"MYAPP_SESSIONS_{key}"


def settings(**values: Any) -> SessionsSettings:
    return SessionsSettings.from_mapping({"BACKEND": "memory", **values}, name_for=named)


@pytest.mark.parametrize(
    ("values", "key", "message"),
    [
        ({"MODE": "header"}, "MODE", "is not 'json', 'cookie' or 'both'"),
        ({"REFRESH_TOKEN_LIFETIME": 0}, "REFRESH_TOKEN_LIFETIME", "positive"),
        ({"IDLE_TIMEOUT": 10**9}, "IDLE_TIMEOUT", "longer than lifetime"),
        ({"SESSION_LIFETIME": -5}, "SESSION_LIFETIME", "positive"),
        ({"REUSE_INTERVAL": 61}, "REUSE_INTERVAL", "from 0 to 60"),
        ({"RATE_LIMIT": 0}, "RATE_LIMIT", "from 1 to 10000"),
        ({"RATE_LIMIT": True}, "RATE_LIMIT", "from 1 to 10000"),
        ({"RATE_LIMIT_WINDOW": 0}, "RATE_LIMIT_WINDOW", "from 1 to 86400"),
        ({"RATE_LIMIT_KEY": "remote_addr"}, "RATE_LIMIT_KEY", "function"),
        ({"REVOCATION_FAIL_OPEN": "False"}, "REVOCATION_FAIL_OPEN", "True or False"),
        ({"COOKIE_SECURE": "yes"}, "COOKIE_SECURE", "True or False"),
        ({"COOKIE_SAMESITE": "None", "COOKIE_SECURE": False}, "COOKIE_SAMESITE", "requires"),
        ({"COOKIE_SAMESITE": "sometimes"}, "COOKIE_SAMESITE", "is not accepted"),
        ({"COOKIE_DOMAIN": "a;b"}, "COOKIE_DOMAIN", "not a domain name"),
        ({"REFRESH_COOKIE": "a b"}, "REFRESH_COOKIE", "not a valid cookie name"),
        (
            {"REFRESH_COOKIE": "__Secure-rt", "COOKIE_SECURE": False},
            "REFRESH_COOKIE",
            "needs secure=True",
        ),
    ],
)
def test_a_bad_setting_is_refused_naming_the_adapters_key(
    values: dict[str, Any], key: str, message: str
) -> None:
    with pytest.raises(ConfigurationError, match=f"^MYAPP_SESSIONS_{key}: .*{message}"):
        settings(**values)


def test_without_name_for_errors_name_the_field() -> None:
    with pytest.raises(ConfigurationError, match=r"^rate_limit_window: "):
        SessionsSettings(backend="memory", rate_limit_window=0)


def test_an_unknown_key_is_refused_listing_the_known_ones() -> None:
    with pytest.raises(ConfigurationError, match=r"^MYAPP_SESSIONS_MDOE: unknown key") as info:
        SessionsSettings.from_mapping({"MDOE": "cookie"}, name_for=named)
    assert "MYAPP_SESSIONS_MODE," in str(info.value)


def test_adapter_keys_are_accepted_and_listed_as_known() -> None:
    settings = SessionsSettings.from_mapping(
        {"BACKEND": "memory", "DATABASE": "default"}, adapter_keys=("DATABASE",)
    )
    assert settings.backend == "memory"
    with pytest.raises(ConfigurationError, match=r"known: .*DATABASE"):
        SessionsSettings.from_mapping({"DATABSE": "x"}, adapter_keys=("DATABASE",))


def test_missing_keys_take_the_documented_defaults() -> None:
    assert SessionsSettings.from_mapping({}) == SessionsSettings()
    # The field defaults and the documented table cannot drift apart.
    field_defaults = {
        f.name.upper(): f.default
        for f in dataclasses.fields(SessionsSettings)
        if f.name != "name_for"
    }
    assert field_defaults == dict(SESSIONS_DEFAULTS)
    assert (SESSIONS_DEFAULTS["BACKEND"], SESSIONS_DEFAULTS["MODE"]) == ("sqlite", "json")


def test_settings_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings().mode = "cookie"  # type: ignore[misc]


def test_validation_opens_no_store(tmp_path: Path) -> None:
    path = tmp_path / "sessions.db"
    SessionsSettings.from_mapping({"BACKEND": "sqlite", "SQLITE_PATH": str(path)})
    assert not path.exists()


@pytest.mark.parametrize(
    ("values", "key", "message"),
    [
        ({"BACKEND": "mongo"}, "BACKEND", "is not one of sqlite, memory, redis"),
        ({"BACKEND": "sqlite"}, "SQLITE_PATH", "required with the sqlite backend"),
        ({"BACKEND": "redis"}, "REDIS_URL", "required"),
    ],
)
def test_a_bad_store_setting_is_refused_when_opened_naming_the_key(
    access_issuer: FactoryIssuer, values: dict[str, Any], key: str, message: str
) -> None:
    configured = SessionsSettings.from_mapping(values, name_for=named)
    with pytest.raises(ConfigurationError, match=f"^MYAPP_SESSIONS_{key}: .*{message}"):
        configured.open(access_tokens=access_issuer)


def test_sqlite_backend_opens_one_store_shared_by_every_service(
    access_issuer: FactoryIssuer, clock: FakeClock, tmp_path: Path
) -> None:
    services = sessions_from_settings(
        {"BACKEND": "sqlite", "SQLITE_PATH": str(tmp_path / "s.db")},
        access_tokens=access_issuer,
        clock=clock,
    )
    try:
        assert isinstance(services.store, SQLiteSessionStore)
        tokens = services.refresh_tokens.issue("user-1")
        claims = access_issuer.issued[-1]
        assert services.revocation.check(claims) is None
        clock.advance(1)
        services.revocation.revoke_subject("user-1")
        services.refresh_tokens.revoke_subject("user-1")
        # Its session id is denied with the subject's sessions; without it,
        # the time rule still applies.
        assert services.revocation.check(claims) == "session"
        assert services.revocation.check({**claims, "sid": None}) == "subject"
        with pytest.raises(InvalidRefreshToken) as info:
            services.refresh_tokens.refresh(tokens.refresh_token)
        assert info.value.reason == "refresh_family_revoked"
    finally:
        services.store.close()


def test_redis_backend_opens_a_redis_store_with_the_prefix(
    access_issuer: FactoryIssuer, redis_server: RedisServer
) -> None:
    services = sessions_from_settings(
        {"BACKEND": "redis", "REDIS_URL": redis_server.url, "REDIS_PREFIX": "myapp:s"},
        access_tokens=access_issuer,
    )
    assert isinstance(services.store, RedisSessionStore)
    assert services.store._key("family", "x").startswith("myapp:s:")
    services.refresh_tokens.issue("user-2")


def test_an_adapter_backend_is_opened_by_its_factory(access_issuer: FactoryIssuer) -> None:
    store = MemorySessionStore()
    services = SessionsSettings(backend="framework").open(
        access_tokens=access_issuer, more={"framework": lambda: store}
    )
    assert services.store is store


def test_durations_may_be_timedeltas_and_follow_the_clock(
    access_issuer: FactoryIssuer, clock: FakeClock
) -> None:
    services = settings(REFRESH_TOKEN_LIFETIME=timedelta(minutes=1)).open(
        access_tokens=access_issuer, clock=clock
    )
    tokens = services.refresh_tokens.issue("user-3")
    clock.advance(61)
    with pytest.raises(InvalidRefreshToken) as info:
        services.refresh_tokens.refresh(tokens.refresh_token)
    assert info.value.reason == "refresh_token_expired"


def test_the_rate_limit_settings_reach_the_limiter(
    access_issuer: FactoryIssuer, clock: FakeClock
) -> None:
    limiter = (
        settings(RATE_LIMIT=2, RATE_LIMIT_WINDOW=timedelta(seconds=30))
        .open(access_tokens=access_issuer, clock=clock)
        .limiter
    )
    assert limiter is not None
    limiter.record_failure("10.0.0.1")
    limiter.check("10.0.0.1")
    limiter.record_failure("10.0.0.1")
    with pytest.raises(RateLimited) as info:
        limiter.check("10.0.0.1")
    assert info.value.status == 429
    assert info.value.retry_after == 30
    clock.advance(31)
    limiter.check("10.0.0.1")


def test_no_rate_limit_means_no_limiter(access_issuer: FactoryIssuer) -> None:
    assert settings(RATE_LIMIT=None).open(access_tokens=access_issuer).limiter is None


def test_the_emergency_epoch_source_revokes_older_tokens(
    access_issuer: FactoryIssuer, clock: FakeClock
) -> None:
    epoch: list[float | None] = [None]
    services = settings().open(
        access_tokens=access_issuer, emergency_epoch_source=lambda: epoch[0], clock=clock
    )
    services.refresh_tokens.issue("user-4")
    claims = access_issuer.issued[-1]
    assert services.revocation.check(claims) is None
    epoch[0] = clock() + 1
    assert services.revocation.check(claims) == "emergency_epoch"


def test_cookie_policy_joins_the_settings_to_the_adapters_names() -> None:
    configured = settings(REFRESH_COOKIE="__Host-rt", COOKIE_SAMESITE="Lax", COOKIE_DOMAIN=None)
    policy = configured.cookie_policy(
        refresh_path="/", access_cookie="at", csrf_cookie="csrf", csrf_header="X-CSRF"
    )
    assert (policy.refresh_cookie, policy.same_site, policy.secure) == ("__Host-rt", "Lax", True)
    assert (policy.access_cookie, policy.csrf_cookie, policy.csrf_header) == (
        "at",
        "csrf",
        "X-CSRF",
    )
    # __Host- needs path "/": the refresh cookie's name is the setting to change.
    with pytest.raises(ConfigurationError, match=r"^MYAPP_SESSIONS_REFRESH_COOKIE: .*__Host-"):
        configured.cookie_policy(refresh_path="/auth/refresh")


def test_an_error_in_the_adapters_cookie_names_keeps_the_core_name() -> None:
    # The adapter knows which of its settings gave the name or the path.
    with pytest.raises(ConfigurationError) as info:
        settings().cookie_policy(access_cookie="refresh_token")
    assert info.value.setting == "csrf_cookie"
    with pytest.raises(ConfigurationError) as info:
        settings().cookie_policy(refresh_path="no-slash")
    assert info.value.setting == "refresh_path"
