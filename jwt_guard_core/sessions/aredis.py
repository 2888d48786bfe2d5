"""Session state in Redis through redis.asyncio, for async views and ASGI servers.

The same keys, Lua scripts and replies as
:class:`~jwt_guard_core.sessions.RedisSessionStore`
(:mod:`jwt_guard_core.sessions.redis_commands`), so a sync and an async
process can share one store, and every atomic step (spending a refresh
token, revoking a family, reserving a rate-limit attempt) is the same
script. On a Redis Cluster the prefix is the same hash tag.

::

    astore = AsyncRedisSessionStore("redis://localhost:6379/0")
    sessions = RefreshTokenService(RedisSessionStore(url), astore=astore, access_tokens=issuer)
    tokens = await sessions.arefresh(token)
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Any, cast

from .._aredis import AsyncClients, AsyncGateway, AsyncRedisClient
from .._redis import KeySpace
from ..breaker import CircuitBreaker
from ..errors import ConfigurationError
from .errors import StoreUnavailable
from .ratelimit import Reserved
from .redis_commands import (
    SCRIPTS,
    Command,
    Commands,
    reserved,
    revocation_state,
    spend_result,
    spend_won,
)
from .refresh import FamilyRecord, RefreshRecord, SpendResult
from .revocation import RevocationState

__all__ = ["AsyncRedisSessionStore"]


class AsyncRedisSessionStore:
    """Refresh tokens, revocation state and failure counts in Redis, awaited.

    Args:
        client: a ``redis.asyncio.Redis`` client (``decode_responses`` off),
            a ``redis.asyncio.cluster.RedisCluster``, or a URL with the
            schemes :class:`~jwt_guard_core.sessions.RedisSessionStore`
            reads. From a URL, one client is made per event loop (2-second
            timeouts, one retry); close it with :meth:`aclose`.
        prefix: the key prefix; the same as the sync store's to share it.
        breaker: the :class:`~jwt_guard_core.breaker.CircuitBreaker`
            (default: 5 failures, 5 s cool-down); may be the sync store's.
        replicas: ``WAIT`` for this many replicas after each write (not
            with a Cluster client: use the sync store there).
        replica_timeout: how long that ``WAIT`` may take, in seconds.

    Implements :class:`~jwt_guard_core.sessions.AsyncRefreshTokenStore`,
    :class:`~jwt_guard_core.sessions.AsyncRevocationStore` and
    :class:`~jwt_guard_core.sessions.AsyncRateLimitStore`.
    """

    is_async = True
    in_process = False

    def __init__(
        self,
        client: AsyncRedisClient | str,
        *,
        prefix: str = "jwt_guard:sessions",
        breaker: CircuitBreaker | None = None,
        replicas: int = 0,
        replica_timeout: float = 1.0,
    ) -> None:
        self._clients = AsyncClients(client, setting="redis")
        if not isinstance(prefix, str) or not prefix:
            raise ConfigurationError("prefix", "must be a non-empty string")
        if replicas and self._clients.cluster:
            raise ConfigurationError(
                "replicas", "WAIT needs the sync RedisSessionStore on a Redis Cluster"
            )
        self._prefix = prefix
        self._commands = Commands(KeySpace(prefix, cluster=self._clients.cluster))
        self._redis = AsyncGateway(
            label="session store",
            name="sessions",
            unavailable=StoreUnavailable,
            breaker=breaker,
            replicas=replicas,
            replica_timeout=replica_timeout,
        )
        self._scripts: weakref.WeakKeyDictionary[Any, dict[str, Any]]
        self._scripts = weakref.WeakKeyDictionary()

    def __repr__(self) -> str:
        return f"AsyncRedisSessionStore(prefix={self._prefix!r})"

    @property
    def breaker(self) -> CircuitBreaker:
        """The store's circuit breaker (its ``state`` is for health checks)."""
        return self._redis.breaker

    async def aclose(self) -> None:
        """Close the running event loop's connections (a client you passed in is yours)."""
        await self._clients.aclose()

    def _client(self) -> tuple[AsyncRedisClient, dict[str, Any]]:
        client = self._clients.current()
        scripts = self._scripts.get(client)
        if scripts is None:
            scripts = {name: client.register_script(text) for name, text in SCRIPTS.items()}
            self._scripts[client] = scripts
        return client, scripts

    async def _write(self, command: Command) -> Any:
        client, scripts = self._client()
        calls = [(scripts[command.script], command.keys, command.args)]
        return (await self._redis.write(client, calls))[0]

    async def _run(self, command: Command) -> Any:
        client, scripts = self._client()
        script = scripts[command.script]
        return await self._redis.run(
            lambda: script(keys=command.keys, args=command.args, client=client)
        )

    # -- AsyncRefreshTokenStore

    async def create_family(self, family: FamilyRecord) -> None:
        await self._write(self._commands.create_family(family))

    async def add_token(self, record: RefreshRecord, *, now: float) -> None:
        await self._write(self._commands.add_token(record, now=now))

    async def spend(self, token_hash: str, *, now: float) -> SpendResult | None:
        client, scripts = self._client()
        command = self._commands.spend(token_hash, now=now)

        async def undo(results: list[Any]) -> None:
            # As the sync store: a spend no replica confirmed is taken back,
            # so the client's retry is its first use, not a reuse.
            if spend_won(results):
                back = self._commands.unspend(token_hash, spent_at=now)
                await scripts[back.script](keys=back.keys, args=back.args, client=client)

        calls = [(scripts[command.script], command.keys, command.args)]
        reply = (await self._redis.write(client, calls, undo=undo))[0]
        return spend_result(token_hash, reply)

    async def unspend(self, token_hash: str, *, spent_at: float) -> None:
        await self._write(self._commands.unspend(token_hash, spent_at=spent_at))

    async def revoke_family(self, family_id: str, *, now: float) -> bool:
        return bool(await self._write(self._commands.revoke_family(family_id, now=now)) == 1)

    async def revoke_subject(self, subject: str, *, now: float) -> int:
        return int(await self._write(self._commands.revoke_subject(subject, now=now)))

    async def subject_sessions(self, subject: str, *, now: float) -> Sequence[str]:
        found = await self._run(self._commands.subject_sessions(subject, now=now))
        return tuple(f.decode() for f in found)

    # -- AsyncRevocationStore

    async def deny_jti(self, jti: str, *, expires_at: float, now: float) -> None:
        await self._write(self._commands.deny("deny", jti, expires_at=expires_at, now=now))

    async def deny_session(self, session_id: str, *, expires_at: float, now: float) -> None:
        command = self._commands.deny("denysid", session_id, expires_at=expires_at, now=now)
        await self._write(command)

    async def deny_kid(self, kid: str, *, expires_at: float, now: float) -> None:
        await self._write(self._commands.deny("denykid", kid, expires_at=expires_at, now=now))

    async def revoke_subject_before(self, subject: str, before: float) -> None:
        await self._write(self._commands.revoke_subject_before(subject, before))

    async def set_emergency_epoch(self, epoch: float) -> None:
        await self._write(self._commands.set_emergency_epoch(epoch))

    async def revocation_state(
        self,
        jti: str | None,
        subject: str | None,
        *,
        now: float,
        session: str | None = None,
        kid: str | None = None,
    ) -> RevocationState:
        client, _ = self._client()
        keys = self._commands.revocation_keys(jti, subject, session, kid)
        values = await self._redis.run(lambda: client.mget(keys))
        return revocation_state(values, now=now)

    # -- AsyncRateLimitStore

    async def reserve(self, client: str, *, now: float, window: float, limit: int) -> Reserved:
        command = self._commands.reserve(client, now=now, window=window, limit=limit)
        return reserved(await self._run(command))

    async def release(self, client: str, *, at: float) -> None:
        await self._run(self._commands.release(client, at=at))

    async def add_failure(self, client: str, *, now: float, window: float, keep: int) -> None:
        redis_client, _ = self._client()

        async def action() -> None:
            pipe = redis_client.pipeline(transaction=True)
            self._commands.add_failure(pipe, client, now=now, window=window, keep=keep)
            await pipe.execute()

        await self._redis.run(action)

    async def recent_failures(self, client: str, *, now: float, window: float) -> Sequence[float]:
        redis_client, _ = self._client()
        key = self._commands.failures_key(client)
        low, high = self._commands.recent_range(now, window)
        rows = cast(
            "list[tuple[bytes, float]]",
            await self._redis.run(
                lambda: redis_client.zrangebyscore(key, low, high, withscores=True)
            ),
        )
        return tuple(float(score) for _, score in rows)
