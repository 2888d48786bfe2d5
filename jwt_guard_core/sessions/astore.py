"""The async faces of the session stores, for async views and ASGI servers.

The async service methods (:meth:`RefreshTokenService.arefresh
<jwt_guard_core.sessions.RefreshTokenService.arefresh>` ...) await a store
with the same methods as the sync protocols, each a coroutine:

* :class:`~jwt_guard_core.sessions.AsyncRedisSessionStore`: redis.asyncio,
  the same Lua scripts and keys as :class:`~jwt_guard_core.sessions.RedisSessionStore`;
* :class:`AsyncSessionStore` over any sync store: each call runs in a worker
  thread (SQLite, the Django model store), or inline for a store that
  answers from memory (``in_process``), so the event loop never waits on a
  file lock or a database.

A service given no async store uses ``AsyncSessionStore(store)``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

from ..errors import ConfigurationError

if TYPE_CHECKING:
    from .ratelimit import Reserved
    from .refresh import FamilyRecord, RefreshRecord, SpendResult
    from .revocation import RevocationState

__all__ = [
    "AsyncRateLimitStore",
    "AsyncRefreshTokenStore",
    "AsyncRevocationStore",
    "AsyncSessionStore",
    "Offload",
    "async_face",
]

_T = TypeVar("_T")

#: Runs a blocking call off the event loop: ``asyncio.to_thread`` by default.
Offload = Callable[[Callable[[], Any]], Awaitable[Any]]


@runtime_checkable
class AsyncRefreshTokenStore(Protocol):
    """:class:`~jwt_guard_core.sessions.RefreshTokenStore` with coroutine methods."""

    is_async: bool

    async def create_family(self, family: FamilyRecord) -> None: ...
    async def add_token(self, record: RefreshRecord, *, now: float) -> None: ...
    async def spend(self, token_hash: str, *, now: float) -> SpendResult | None: ...
    async def unspend(self, token_hash: str, *, spent_at: float) -> None: ...
    async def revoke_family(self, family_id: str, *, now: float) -> bool: ...
    async def revoke_subject(self, subject: str, *, now: float) -> int: ...
    async def subject_sessions(self, subject: str, *, now: float) -> Sequence[str]: ...


@runtime_checkable
class AsyncRevocationStore(Protocol):
    """:class:`~jwt_guard_core.sessions.RevocationStore` with coroutine methods."""

    is_async: bool

    async def deny_kid(self, kid: str, *, expires_at: float, now: float) -> None: ...
    async def deny_jti(self, jti: str, *, expires_at: float, now: float) -> None: ...
    async def deny_session(self, session_id: str, *, expires_at: float, now: float) -> None: ...
    async def revoke_subject_before(self, subject: str, before: float) -> None: ...
    async def set_emergency_epoch(self, epoch: float) -> None: ...
    async def revocation_state(
        self,
        jti: str | None,
        subject: str | None,
        *,
        now: float,
        session: str | None = None,
        kid: str | None = None,
    ) -> RevocationState: ...


@runtime_checkable
class AsyncRateLimitStore(Protocol):
    """:class:`~jwt_guard_core.sessions.RateLimitStore` with coroutine methods."""

    is_async: bool

    async def reserve(self, client: str, *, now: float, window: float, limit: int) -> Reserved: ...
    async def release(self, client: str, *, at: float) -> None: ...
    async def add_failure(self, client: str, *, now: float, window: float, keep: int) -> None: ...
    async def recent_failures(
        self, client: str, *, now: float, window: float
    ) -> Sequence[float]: ...


async def _inline(action: Callable[[], _T]) -> _T:
    return action()


class AsyncSessionStore:
    """The async face of a sync session store: its calls never block the event loop.

    Args:
        store: a :class:`~jwt_guard_core.sessions.SQLiteSessionStore`,
            :class:`~jwt_guard_core.sessions.MemorySessionStore`, the Django
            model store, or any store of the sync protocols.
        offload: how a call leaves the loop: ``asyncio.to_thread`` (the
            default), or e.g. Django's ``sync_to_async(thread_sensitive=True)``
            for a store on the Django ORM. A store that answers from memory
            (``in_process = True``) is called inline, without a thread;
            one that reads from memory but writes elsewhere (the Redis
            revocation mirror: ``in_process_writes = False``) writes in a
            thread.

    Implements :class:`AsyncRefreshTokenStore`, :class:`AsyncRevocationStore`
    and :class:`AsyncRateLimitStore` for whichever of the sync protocols
    ``store`` implements.
    """

    is_async = True

    def __init__(self, store: Any, *, offload: Offload | None = None) -> None:
        if getattr(store, "is_async", False):
            raise ConfigurationError("store", f"{type(store).__name__} is already async")
        if offload is not None and not callable(offload):
            raise ConfigurationError("offload", "give a function(call) -> awaitable")
        self._store = store
        self.in_process = bool(getattr(store, "in_process", False))
        writes_in_process = bool(getattr(store, "in_process_writes", self.in_process))
        self._read: Offload = offload or (_inline if self.in_process else asyncio.to_thread)
        self._offload: Offload = offload or (_inline if writes_in_process else asyncio.to_thread)

    @property
    def store(self) -> Any:
        """The sync store this is the face of."""
        return self._store

    def __repr__(self) -> str:
        return f"AsyncSessionStore({self._store!r})"

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Awaitable[Any]:
        return self._offload(partial(getattr(self._store, method), *args, **kwargs))

    # -- AsyncRefreshTokenStore

    async def create_family(self, family: FamilyRecord) -> None:
        await self._call("create_family", family)

    async def add_token(self, record: RefreshRecord, *, now: float) -> None:
        await self._call("add_token", record, now=now)

    async def spend(self, token_hash: str, *, now: float) -> SpendResult | None:
        result: SpendResult | None = await self._call("spend", token_hash, now=now)
        return result

    async def unspend(self, token_hash: str, *, spent_at: float) -> None:
        await self._call("unspend", token_hash, spent_at=spent_at)

    async def revoke_family(self, family_id: str, *, now: float) -> bool:
        return bool(await self._call("revoke_family", family_id, now=now))

    async def revoke_subject(self, subject: str, *, now: float) -> int:
        return int(await self._call("revoke_subject", subject, now=now))

    async def subject_sessions(self, subject: str, *, now: float) -> Sequence[str]:
        return tuple(await self._call("subject_sessions", subject, now=now))

    # -- AsyncRevocationStore

    async def deny_kid(self, kid: str, *, expires_at: float, now: float) -> None:
        await self._call("deny_kid", kid, expires_at=expires_at, now=now)

    async def deny_jti(self, jti: str, *, expires_at: float, now: float) -> None:
        await self._call("deny_jti", jti, expires_at=expires_at, now=now)

    async def deny_session(self, session_id: str, *, expires_at: float, now: float) -> None:
        await self._call("deny_session", session_id, expires_at=expires_at, now=now)

    async def revoke_subject_before(self, subject: str, before: float) -> None:
        await self._call("revoke_subject_before", subject, before)

    async def set_emergency_epoch(self, epoch: float) -> None:
        await self._call("set_emergency_epoch", epoch)

    async def revocation_state(
        self,
        jti: str | None,
        subject: str | None,
        *,
        now: float,
        session: str | None = None,
        kid: str | None = None,
    ) -> RevocationState:
        # The one read on every verification: inline for a store that
        # answers from memory.
        call = partial(
            self._store.revocation_state, jti, subject, now=now, session=session, kid=kid
        )
        state: RevocationState = await self._read(call)
        return state

    # -- AsyncRateLimitStore

    async def reserve(self, client: str, *, now: float, window: float, limit: int) -> Reserved:
        reserved: Reserved = await self._call(
            "reserve", client, now=now, window=window, limit=limit
        )
        return reserved

    async def release(self, client: str, *, at: float) -> None:
        await self._call("release", client, at=at)

    async def add_failure(self, client: str, *, now: float, window: float, keep: int) -> None:
        await self._call("add_failure", client, now=now, window=window, keep=keep)

    async def recent_failures(self, client: str, *, now: float, window: float) -> Sequence[float]:
        return tuple(await self._call("recent_failures", client, now=now, window=window))


def async_face(store: Any, astore: Any = None) -> Any:
    """``astore`` when given (checked to be async), else ``AsyncSessionStore(store)``."""
    if getattr(store, "is_async", False):
        # Its coroutine methods would be called without await on the sync path.
        raise ConfigurationError(
            "store",
            f"{type(store).__name__} is async: give a sync store as store= and this one as astore=",
        )
    if astore is None:
        return AsyncSessionStore(store)
    if not getattr(astore, "is_async", False):
        raise ConfigurationError(
            "astore",
            f"{type(astore).__name__} is not an async store "
            "(AsyncRedisSessionStore, AsyncSessionStore(store))",
        )
    return astore
