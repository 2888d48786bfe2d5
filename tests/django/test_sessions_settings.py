"""JWT_GUARD["SESSIONS"]: read lazily, built once, validated with the key to fix named."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from jwt_guard_core import ConfigurationError
from jwt_guard_core.sessions import MemorySessionStore, SQLiteSessionStore
from jwt_guard_django.checks import check_settings
from jwt_guard_django.sessions import SESSIONS_DEFAULTS, build_sessions, get_sessions
from jwt_guard_django.store import DjangoSessionStore
from tests.django.session_fixtures import guard_sessions, key_dir

__all__ = ["guard_sessions", "key_dir"]


def named(setting: str) -> str:
    return rf"JWT_GUARD\['SESSIONS'\]\['{setting}'\]"


@pytest.mark.parametrize(
    ("options", "setting", "message"),
    [
        ({"BACKNED": "memory"}, "BACKNED", "unknown key"),
        ({"BACKEND": "mongo"}, "BACKEND", "is not one of"),
        ({"BACKEND": "sqlite"}, "SQLITE_PATH", "required with the sqlite backend"),
        ({"BACKEND": "sqlite", "SQLITE_PATH": 5}, "SQLITE_PATH", "is not a path"),
        ({"BACKEND": "redis"}, "REDIS_URL", "required"),
        ({"MODE": "header"}, "MODE", "is not 'json', 'cookie' or 'both'"),
        ({"REFRESH_TOKEN_LIFETIME": -1}, "REFRESH_TOKEN_LIFETIME", "positive"),
        ({"IDLE_TIMEOUT": 10**9}, "IDLE_TIMEOUT", "longer than lifetime"),
        ({"REUSE_INTERVAL": 600}, "REUSE_INTERVAL", "from 0 to 60"),
        ({"RATE_LIMIT": 0}, "RATE_LIMIT", "from 1 to 10000"),
        ({"RATE_LIMIT_WINDOW": 0}, "RATE_LIMIT_WINDOW", "from 1 to 86400"),
        ({"RATE_LIMIT_KEY": "no.such.function"}, "RATE_LIMIT_KEY", "cannot import"),
        ({"RATE_LIMIT_KEY": 5}, "RATE_LIMIT_KEY", "function"),
        ({"SCOPES": "orders:read"}, "SCOPES", "list of scope names"),
        ({"COOKIE_SAMESITE": "None", "COOKIE_SECURE": False}, "COOKIE_SAMESITE", "requires"),
        ({"COOKIE_SAMESITE": "sometimes"}, "COOKIE_SAMESITE", "is not accepted"),
        ({"REFRESH_COOKIE": "bad name"}, "REFRESH_COOKIE", "not a valid cookie name"),
        (
            {"REFRESH_COOKIE": "__Secure-rt", "COOKIE_SECURE": False},
            "REFRESH_COOKIE",
            "needs secure=True",
        ),
        ({"REVOCATION_FAIL_OPEN": "yes"}, "REVOCATION_FAIL_OPEN", "True or False"),
    ],
)
def test_bad_setting_is_refused_naming_the_key(
    settings: Any, options: dict[str, Any], setting: str, message: str
) -> None:
    settings.JWT_GUARD = {**settings.JWT_GUARD, "SESSIONS": {"BACKEND": "memory", **options}}
    with pytest.raises(ConfigurationError, match=named(setting) + ".*" + message):
        build_sessions()


def test_sessions_must_be_a_dict(settings: Any) -> None:
    settings.JWT_GUARD = {**settings.JWT_GUARD, "SESSIONS": ["memory"]}
    with pytest.raises(ConfigurationError, match=r"JWT_GUARD\['SESSIONS'\].*give a dict"):
        build_sessions()


@pytest.mark.parametrize(
    ("backend", "kind"),
    [
        ("memory", MemorySessionStore),
        ("sqlite", SQLiteSessionStore),
        ("django", DjangoSessionStore),
    ],
)
def test_backend_picks_the_store(settings: Any, tmp_path: Path, backend: str, kind: type) -> None:
    settings.JWT_GUARD = {
        **settings.JWT_GUARD,
        "SESSIONS": {"BACKEND": backend, "SQLITE_PATH": str(tmp_path / "s.db")},
    }
    store = build_sessions().store
    assert isinstance(store, kind)
    if isinstance(store, SQLiteSessionStore):
        store.close()


def test_defaults_are_the_documented_ones() -> None:
    assert SESSIONS_DEFAULTS["BACKEND"] == "sqlite"
    assert SESSIONS_DEFAULTS["MODE"] == "json"
    assert SESSIONS_DEFAULTS["COOKIE_SECURE"] is True
    assert SESSIONS_DEFAULTS["COOKIE_SAMESITE"] == "Strict"
    assert SESSIONS_DEFAULTS["RATE_LIMIT"] == 20
    assert SESSIONS_DEFAULTS["REVOCATION_FAIL_OPEN"] is False


def test_built_once_and_rebuilt_when_the_setting_changes(settings: Any) -> None:
    settings.JWT_GUARD = {**settings.JWT_GUARD, "SESSIONS": {"BACKEND": "memory"}}
    first = get_sessions()
    assert get_sessions() is first
    settings.JWT_GUARD = {**settings.JWT_GUARD, "SESSIONS": {"BACKEND": "memory", "MODE": "both"}}
    second = get_sessions()
    assert second is not first
    assert second.mode == "both"


def test_sessions_is_a_known_key_for_the_system_checks(settings: Any) -> None:
    settings.JWT_GUARD = {**settings.JWT_GUARD, "SESSIONS": {"BACKEND": "memory"}}
    assert not [m for m in check_settings() if m.id == "jwt_guard.W007"]


def test_refresh_cookie_path_defaults_to_the_refresh_route(
    guard_sessions: Callable[..., Any],
) -> None:
    guard_sessions()
    assert get_sessions().cookie_policy.refresh_path == "/auth/refresh/"


def test_without_the_session_urls_the_refresh_path_must_be_set(settings: Any) -> None:
    settings.JWT_GUARD = {**settings.JWT_GUARD, "SESSIONS": {"BACKEND": "memory"}}
    with pytest.raises(ConfigurationError, match=named("REFRESH_COOKIE_PATH")):
        get_sessions().cookie_policy  # noqa: B018


def test_without_sessions_the_verifier_has_no_session_revocation(db: Any) -> None:
    from jwt_guard_django.verifier import get_verifier

    assert get_verifier().config.revocation is None
