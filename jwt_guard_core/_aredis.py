"""The redis.asyncio side of :mod:`jwt_guard_core._redis`: clients per event loop, the gateway.

* :class:`AsyncClients` takes a redis.asyncio client or a URL (the same
  schemes as :func:`~jwt_guard_core._redis.connect`). A client given is used
  as it is. From a URL, one client is made per running event loop: an
  asyncio connection belongs to the loop that opened it, and one process may
  run several loops (a test suite, ``async_to_sync`` under a WSGI server).
* :class:`AsyncGateway` awaits calls through the same
  :class:`~jwt_guard_core.breaker.CircuitBreaker`, errors and ``WAIT`` rule
  as the sync :class:`~jwt_guard_core._redis.Gateway`.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

import redis.asyncio as aredis
from redis.asyncio.cluster import RedisCluster as AsyncRedisCluster
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel
from redis.backoff import NoBackoff

from ._redis import FAILURES, GatewayPolicy, NotReplicated, sentinel_parts
from .breaker import CircuitOpen
from .errors import ConfigurationError

__all__ = ["AsyncClients", "AsyncGateway", "AsyncRedisClient"]

_T = TypeVar("_T")

AsyncRedisClient = aredis.Redis | AsyncRedisCluster

_URL_HINT = (
    "the Redis URL is not valid (redis://, rediss://, unix://, "
    "redis+cluster://host:port or redis+sentinel://host:port,.../service)"
)


def _timeouts() -> dict[str, Any]:
    # As the sync clients: 2-second timeouts and one quick retry, then the
    # breaker and the services' outage policy decide.
    return {"socket_timeout": 2.0, "socket_connect_timeout": 2.0, "retry": Retry(NoBackoff(), 1)}


def _from_url(url: str) -> tuple[AsyncRedisClient, list[aredis.Redis]]:
    """The client of ``url`` and the clients it leans on (a Sentinel's), to close with it."""
    scheme, _, rest = url.partition("://")
    if scheme in ("redis+cluster", "rediss+cluster"):
        plain = f"{scheme.split('+')[0]}://{rest}"
        if not urlsplit(plain).hostname:
            raise ValueError("a Cluster URL names one of its nodes")
        return AsyncRedisCluster.from_url(plain, **_timeouts()), []
    if scheme == "redis+sentinel":
        sentinels, service, db, password = sentinel_parts(url)
        sentinel = Sentinel(  # type: ignore[no-untyped-call]
            sentinels,
            sentinel_kwargs={"socket_timeout": 2.0, "socket_connect_timeout": 2.0},
            **_timeouts(),
        )
        master = sentinel.master_for(service, db=db, password=password)
        return cast("aredis.Redis", master), list(sentinel.sentinels)
    return aredis.Redis.from_url(url, **_timeouts()), []


def _checked(client: object, setting: str) -> AsyncRedisClient:
    if not isinstance(client, (aredis.Redis, AsyncRedisCluster)):
        raise ConfigurationError(
            setting,
            "give a redis.asyncio.Redis or redis.asyncio.cluster.RedisCluster client or a "
            "redis:// URL",
        )
    if client.get_encoder().decode_responses:
        raise ConfigurationError(
            setting, "the Redis client must be created with decode_responses=False"
        )
    return client


class AsyncClients:
    """The redis.asyncio client for the running event loop."""

    def __init__(self, client: object, *, setting: str) -> None:
        self._url: str | None = None
        self._given: AsyncRedisClient | None = None
        self._per_loop: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, tuple[AsyncRedisClient, list[aredis.Redis]]
        ]
        self._per_loop = weakref.WeakKeyDictionary()
        if isinstance(client, str):
            try:
                probe, _ = _from_url(client)
            except (ValueError, IndexError):
                raise ConfigurationError(setting, _URL_HINT) from None
            self._url = client
            # Nothing connected yet: the probe only read the URL.
            self.cluster = isinstance(probe, AsyncRedisCluster)
        else:
            self._given = _checked(client, setting)
            self.cluster = isinstance(self._given, AsyncRedisCluster)

    def current(self) -> AsyncRedisClient:
        """The client to use on the running loop."""
        if self._given is not None:
            return self._given
        loop = asyncio.get_running_loop()
        made = self._per_loop.get(loop)
        if made is None:
            assert self._url is not None
            made = _from_url(self._url)
            self._per_loop[loop] = made
        return made[0]

    async def aclose(self) -> None:
        """Close the running loop's client made from a URL (a client given is the caller's)."""
        if self._given is not None:
            return
        made = self._per_loop.pop(asyncio.get_running_loop(), None)
        if made is not None:
            client, helpers = made
            await client.aclose()
            for helper in helpers:
                await helper.aclose()


class AsyncGateway(GatewayPolicy):
    """Awaited calls to Redis: through the breaker, failures as ``unavailable(message)``."""

    async def run(self, action: Callable[[], Awaitable[_T]]) -> _T:
        """``await action()``; a Redis error or an open breaker raises ``unavailable``."""

        try:
            return await self.breaker.acall(action, failure=FAILURES)
        except (CircuitOpen, *FAILURES) as exc:
            raise self.unavailable(exc) from None

    async def write(
        self,
        client: AsyncRedisClient,
        calls: Sequence[tuple[Any, Sequence[Any], Sequence[Any]]],
        *,
        undo: Callable[[list[Any]], Awaitable[None]] | None = None,
    ) -> list[Any]:
        """Like :meth:`Gateway.write <jwt_guard_core._redis.Gateway.write>`, awaited.

        With ``replicas``, the scripts and ``WAIT`` go down one connection in
        one pipeline; on a Redis Cluster that needs the sync client (the
        asyncio Cluster client cannot pin a connection), so ``replicas`` is
        refused there when the store is built.
        """

        async def plain() -> list[Any]:
            return [
                await script(keys=keys, args=args, client=client) for script, keys, args in calls
            ]

        if self.replicas == 0:
            return await self.run(plain)

        async def durable() -> list[Any]:
            assert isinstance(client, aredis.Redis)
            pipe = client.pipeline(transaction=False)
            for script, keys, args in calls:
                await script(keys=keys, args=args, client=pipe)
            pipe.wait(self.replicas, self.wait_ms)
            results = list(await pipe.execute())
            acked = int(results.pop())
            if acked < self.replicas:
                if undo is not None:
                    with contextlib.suppress(*FAILURES):
                        await undo(results)
                raise NotReplicated(acked, results)
            return results

        return await self.run(durable)
