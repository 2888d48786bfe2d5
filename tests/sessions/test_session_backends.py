"""Which store a ``BACKEND`` setting opens, and errors naming the adapter's setting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from jwt_guard_core import ConfigurationError
from jwt_guard_core.sessions import MemorySessionStore, RedisSessionStore, SQLiteSessionStore
from jwt_guard_core.sessions.backends import open_session_store


def open_store(backend: Any, **options: Any) -> Any:
    settings: dict[str, Any] = {"sqlite_path": None, "redis_url": None, "redis_prefix": "p"}
    settings.update(options)
    return open_session_store(backend, setting=lambda key: f"APP_{key}", **settings)


def test_memory_and_sqlite_backends_open_their_stores(tmp_path: Path) -> None:
    assert isinstance(open_store("memory"), MemorySessionStore)
    store = open_store("sqlite", sqlite_path=tmp_path / "sessions.db")
    try:
        assert isinstance(store, SQLiteSessionStore)
    finally:
        store.close()


def test_redis_backend_opens_a_redis_store_with_the_prefix() -> None:
    store = open_store("redis", redis_url="redis://127.0.0.1:1/0", redis_prefix="app")
    assert isinstance(store, RedisSessionStore)
    store._client.close()


def test_an_adapter_backend_is_opened_by_its_factory() -> None:
    made = MemorySessionStore()
    store = open_session_store(
        "django",
        sqlite_path=None,
        redis_url=None,
        redis_prefix="p",
        setting=str,
        more={"django": lambda: made},
    )
    assert store is made


@pytest.mark.parametrize(
    ("backend", "options", "setting", "message"),
    [
        ("postgres", {}, "APP_BACKEND", "'postgres' is not one of sqlite, memory, redis"),
        ("redis", {}, "APP_REDIS_URL", "required: a redis:// URL"),
        ("redis", {"redis_url": ""}, "APP_REDIS_URL", "required: a redis:// URL"),
        ("sqlite", {}, "APP_SQLITE_PATH", "required with the sqlite backend"),
        ("sqlite", {"sqlite_path": 42}, "APP_SQLITE_PATH", "42 is not a path"),
    ],
)
def test_a_bad_backend_setting_names_the_adapters_key(
    backend: str, options: dict[str, Any], setting: str, message: str
) -> None:
    with pytest.raises(ConfigurationError) as raised:
        open_store(backend, **options)
    assert raised.value.setting == setting
    assert message in str(raised.value)
