"""Which session store a ``BACKEND`` setting names, for every adapter.

Both adapters read the same settings (``BACKEND``, ``SQLITE_PATH``,
``REDIS_URL``, ``REDIS_PREFIX``) under their own names; this module opens
the store and names the adapter's setting in every error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..errors import ConfigurationError
from .astore import AsyncSessionStore
from .memory import MemorySessionStore
from .sqlite import SQLiteSessionStore

__all__ = ["BACKENDS", "open_async_session_store", "open_session_store"]

#: The backends the core provides; an adapter may add its own (Django's ``django``).
BACKENDS = ("sqlite", "memory", "redis")


def open_session_store(
    backend: Any,
    *,
    sqlite_path: Any,
    redis_url: Any,
    redis_prefix: str,
    setting: Callable[[str], str],
    more: Mapping[str, Callable[[], Any]] | None = None,
    breaker: Any = None,
) -> Any:
    """The store ``backend`` names: ``sqlite`` (the embedded default), ``memory`` or ``redis``.

    ``setting("BACKEND")`` is the adapter's name for a key, used in every
    :class:`~jwt_guard_core.ConfigurationError`. ``more`` adds backends by
    name (a factory each). The Redis store is imported only when chosen, so
    redis-py stays optional; ``breaker`` is its
    :class:`~jwt_guard_core.breaker.CircuitBreaker` (``None``: its default).
    """
    extra = dict(more or {})
    names = (*BACKENDS, *extra)
    if backend not in names:
        raise ConfigurationError(
            setting("BACKEND"), f"{backend!r} is not one of {', '.join(names)}"
        )
    if backend in extra:
        return extra[backend]()
    if backend == "memory":
        return MemorySessionStore()
    if backend == "redis":
        if not isinstance(redis_url, str) or not redis_url:
            raise ConfigurationError(setting("REDIS_URL"), "required: a redis:// URL")
        from .redis import RedisSessionStore

        return RedisSessionStore(redis_url, prefix=str(redis_prefix), breaker=breaker)
    if sqlite_path is None:
        raise ConfigurationError(
            setting("SQLITE_PATH"), "required with the sqlite backend: a file on a local disk"
        )
    if not isinstance(sqlite_path, str) and not hasattr(sqlite_path, "__fspath__"):
        raise ConfigurationError(setting("SQLITE_PATH"), f"{sqlite_path!r} is not a path")
    return SQLiteSessionStore(sqlite_path)


def open_async_session_store(
    backend: Any,
    store: Any,
    *,
    redis_url: Any,
    redis_prefix: str,
    more: Mapping[str, Callable[[Any], Any]] | None = None,
) -> Any:
    """The async face of ``store``, the store :func:`open_session_store` opened for ``backend``.

    ``redis``: an :class:`~jwt_guard_core.sessions.AsyncRedisSessionStore`
    on the same URL, prefix and circuit breaker (nothing connects before the
    first await). Any other: :class:`~jwt_guard_core.sessions.AsyncSessionStore`
    (SQLite in a worker thread, memory inline), unless ``more`` names a
    factory ``store -> async store`` for the backend (Django's ORM store).
    """
    extra = dict(more or {})
    if backend in extra:
        return extra[backend](store)
    if backend == "redis":
        from .aredis import AsyncRedisSessionStore

        return AsyncRedisSessionStore(redis_url, prefix=str(redis_prefix), breaker=store.breaker)
    return AsyncSessionStore(store)
