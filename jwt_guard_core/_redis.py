"""What every Redis backend shares: the client, key names, durable writes, the breaker.

* :func:`connect` takes a client or a URL. Besides ``redis://``,
  ``rediss://`` and ``unix://`` it reads ``redis+cluster://host:port`` (a
  :class:`redis.cluster.RedisCluster`; ``rediss+cluster://`` for TLS) and
  ``redis+sentinel://host:port,host:port/service_name`` (the master of
  ``service_name`` as the Sentinels name it, followed through failovers).
  A client made from a URL has 2-second timeouts and one quick retry. A
  Cluster client connects when it is built (redis-py reads the slot map);
  the others on first use.
* :class:`KeySpace` names keys. On a single server (or Sentinel) they are
  ``prefix:kind:name`` as they always were. On a Cluster the prefix becomes a
  hash tag, ``{prefix}:kind:name``, so every key one atomic script touches
  lives in one slot; keys only ever used alone can be spread over the
  cluster with their own tag.
* :class:`Gateway` runs calls through a :class:`~jwt_guard_core.breaker.CircuitBreaker`
  and turns every Redis failure into the backend's own "unavailable"
  exception, and runs writes that must survive a failover followed by
  ``WAIT replicas timeout`` on the same connection.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast
from urllib.parse import unquote, urlsplit

import redis
from redis.backoff import NoBackoff
from redis.cluster import RedisCluster
from redis.exceptions import RedisClusterException, RedisError
from redis.retry import Retry
from redis.sentinel import Sentinel

from .breaker import CircuitBreaker, CircuitOpen
from .errors import ConfigurationError

__all__ = [
    "FAILURES",
    "Gateway",
    "GatewayPolicy",
    "KeySpace",
    "NotReplicated",
    "RedisClient",
    "connect",
    "is_cluster",
    "sentinel_parts",
]

_T = TypeVar("_T")

RedisClient = redis.Redis | RedisCluster

# A Cluster client raises RedisClusterException (not a RedisError) when no
# node answers or a slot has no owner.
FAILURES = (RedisError, RedisClusterException)

_TIMEOUTS: dict[str, Any] = {
    "socket_timeout": 2.0,
    "socket_connect_timeout": 2.0,
    # redis-py's default retries with backoff block a request for seconds
    # while Redis is down; one quick retry, then the breaker and the
    # services' outage policy (503 or fail open) decide.
    "retry": Retry(NoBackoff(), 1),
}


def is_cluster(client: object) -> bool:
    return isinstance(client, RedisCluster)


def connect(client: object, *, setting: str) -> RedisClient:
    """A checked client: ``client`` itself, or one built from a URL string."""
    if isinstance(client, str):
        try:
            client = _from_url(client)
        except FAILURES as exc:
            # Only a Cluster client connects when built (to read the slot map).
            raise ConfigurationError(
                setting,
                f"the Redis Cluster cannot be reached to read its slots ({type(exc).__name__})",
            ) from None
        except (ValueError, IndexError):
            raise ConfigurationError(
                setting,
                "the Redis URL is not valid (redis://, rediss://, unix://, "
                "redis+cluster://host:port or redis+sentinel://host:port,.../service)",
            ) from None
    if not isinstance(client, (redis.Redis, RedisCluster)):
        raise ConfigurationError(
            setting, "give a redis.Redis or redis.cluster.RedisCluster client or a redis:// URL"
        )
    if client.get_encoder().decode_responses:
        raise ConfigurationError(
            setting, "the Redis client must be created with decode_responses=False"
        )
    return client


def _from_url(url: str) -> RedisClient:
    scheme, _, rest = url.partition("://")
    if scheme in ("redis+cluster", "rediss+cluster"):
        plain = f"{scheme.split('+')[0]}://{rest}"
        if not urlsplit(plain).hostname:
            raise ValueError("a Cluster URL names one of its nodes")
        return RedisCluster.from_url(plain, **_TIMEOUTS)
    if scheme == "redis+sentinel":
        return _sentinel_master(url)
    return redis.Redis.from_url(url, **_TIMEOUTS)


def sentinel_parts(url: str) -> tuple[list[tuple[str, int]], str, int, str | None]:
    """``redis+sentinel://[:password@]host:port,host:port/service[/db]``: sentinels, service, db,
    password."""
    parts = urlsplit(url)
    auth, _, hosts = parts.netloc.rpartition("@")
    password = unquote(auth.partition(":")[2]) or None if auth else None
    sentinels = []
    for item in hosts.split(","):
        host, _, port = item.rpartition(":")
        sentinels.append((host.strip("[]"), int(port)))
    path = [p for p in parts.path.split("/") if p]
    if not sentinels or not path:
        raise ValueError("a Sentinel URL names its sentinels and the service")
    db = int(path[1]) if len(path) > 1 else 0
    return sentinels, path[0], db, password


def _sentinel_master(url: str) -> redis.Redis:
    sentinels, service, db, password = sentinel_parts(url)
    sentinel = Sentinel(  # type: ignore[no-untyped-call]
        sentinels,
        sentinel_kwargs={"socket_timeout": 2.0, "socket_connect_timeout": 2.0},
        **_TIMEOUTS,
    )
    master = sentinel.master_for(service, db=db, password=password)  # type: ignore[no-untyped-call]
    return cast("redis.Redis", master)


class KeySpace:
    """Key names under ``prefix``, hash-tagged on a Redis Cluster."""

    def __init__(self, prefix: str, *, cluster: bool) -> None:
        self.prefix = prefix
        self.cluster = cluster
        # A prefix that already holds a hash tag is the user's choice of slot.
        tagged = "{" in prefix and "}" in prefix.partition("{")[2]
        self._base = f"{{{prefix}}}" if cluster and not tagged else prefix

    def key(self, kind: str, name: str = "") -> str:
        """``prefix:kind:name``; on a Cluster every such key shares the slot of ``{prefix}``."""
        return f"{self._base}:{kind}:{name}" if name else f"{self._base}:{kind}"

    def alone(self, kind: str, name: str) -> str:
        """A key no script shares with another: on a Cluster, in a slot of its own."""
        if not self.cluster:
            return self.key(kind, name)
        return f"{{{self.prefix}:{kind}:{name}}}"


class GatewayPolicy:
    """What a gateway does with any client, sync or asyncio: the breaker, replicas, errors."""

    def __init__(
        self,
        *,
        label: str,
        name: str,
        unavailable: Callable[[str], Exception],
        breaker: CircuitBreaker | None,
        replicas: int = 0,
        replica_timeout: float = 1.0,
    ) -> None:
        if isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 0:
            raise ConfigurationError("replicas", f"{replicas!r} is not an integer >= 0")
        if (
            isinstance(replica_timeout, bool)
            or not isinstance(replica_timeout, (int, float))
            or replica_timeout <= 0
        ):
            raise ConfigurationError(
                "replica_timeout", f"{replica_timeout!r} is not a positive number of seconds"
            )
        if breaker is not None and not isinstance(breaker, CircuitBreaker):
            raise ConfigurationError("breaker", "give a jwt_guard_core.breaker.CircuitBreaker")
        self.label = label
        self.breaker = breaker if breaker is not None else CircuitBreaker(f"redis:{name}")
        self.replicas = replicas
        self.wait_ms = max(1, round(replica_timeout * 1000))
        self._unavailable = unavailable

    def unavailable(self, exc: BaseException) -> Exception:
        """The backend's "unavailable" error for a failure of a call (sync or async)."""
        if isinstance(exc, CircuitOpen):
            error = self._unavailable(
                f"the Redis {self.label} is unavailable (circuit open, next probe in "
                f"{exc.retry_after:.3g} s)"
            )
            # Read by the revocation service for its 503's Retry-After.
            error.retry_after = math.ceil(exc.retry_after)  # type: ignore[attr-defined]
            return error
        if isinstance(exc, NotReplicated):
            return self._unavailable(
                f"the Redis {self.label} could not confirm a write on {self.replicas} "
                f"replica(s) (only {exc.acked})"
            )
        # The class name only: redis-py messages can carry host names.
        return self._unavailable(f"the Redis {self.label} is unavailable ({type(exc).__name__})")


class Gateway(GatewayPolicy):
    """Calls to one Redis client: through the breaker, failures as ``unavailable(message)``."""

    def __init__(
        self,
        client: RedisClient,
        *,
        label: str,
        name: str,
        unavailable: Callable[[str], Exception],
        breaker: CircuitBreaker | None,
        replicas: int = 0,
        replica_timeout: float = 1.0,
    ) -> None:
        super().__init__(
            label=label,
            name=name,
            unavailable=unavailable,
            breaker=breaker,
            replicas=replicas,
            replica_timeout=replica_timeout,
        )
        self.client = client

    def run(self, action: Callable[[], _T]) -> _T:
        """``action()``; a Redis error or an open breaker raises ``unavailable``."""
        try:
            return self.breaker.call(action, failure=FAILURES)
        except (CircuitOpen, *FAILURES) as exc:
            raise self.unavailable(exc) from None

    def ping(self) -> str | None:
        """``None`` when Redis answers ``PING``; else ``"circuit_open"`` or the error's class name.

        For health checks: through the breaker (an open one answers at once),
        and never an exception message (redis-py's can name hosts).
        """
        try:
            self.breaker.call(self.client.ping, failure=FAILURES)
        except CircuitOpen:
            return "circuit_open"
        except FAILURES as exc:
            return type(exc).__name__
        return None

    def write(
        self,
        calls: Sequence[tuple[Any, Sequence[Any], Sequence[Any]]],
        *,
        undo: Callable[[list[Any]], None] | None = None,
    ) -> list[Any]:
        """Run scripts ``(script, keys, args)`` in order; with ``replicas``, then ``WAIT``.

        ``WAIT`` counts the replicas that acknowledged this connection's
        writes, so the scripts and the ``WAIT`` go down one connection in one
        pipeline (on a Cluster, to the node that owns the first key's slot).
        Fewer acknowledgements than ``replicas`` within ``replica_timeout``
        raise ``unavailable``: the write is on the primary but would not
        survive its failure, and the caller must not report it as done.
        ``undo(results)`` is then called first (best effort) to take back on
        the primary what the caller will report as not done.
        """
        if self.replicas == 0:
            return self.run(lambda: [script(keys=keys, args=args) for script, keys, args in calls])

        def durable() -> list[Any]:
            try:
                return to_owner()
            except NotReplicated as exc:
                if undo is not None:
                    with contextlib.suppress(*FAILURES):
                        undo(exc.results)
                raise

        def to_owner() -> list[Any]:
            node: Any = self.client
            if isinstance(node, RedisCluster):
                cluster = node
                owner = cluster.get_node_from_key(calls[0][1][0])  # type: ignore[no-untyped-call]
                node = cluster.get_redis_connection(owner)
                try:
                    return _replicated(node, calls, self.replicas, self.wait_ms)
                except FAILURES:
                    # This path bypasses the cluster client's MOVED handling:
                    # after a failover, learn the new slot owners for next time.
                    with contextlib.suppress(*FAILURES):
                        cluster.nodes_manager.initialize()
                    raise
            return _replicated(node, calls, self.replicas, self.wait_ms)

        return self.run(durable)


def _replicated(
    node: redis.Redis,
    calls: Sequence[tuple[Any, Sequence[Any], Sequence[Any]]],
    replicas: int,
    wait_ms: int,
) -> list[Any]:
    pipe = node.pipeline(transaction=False)
    for script, keys, args in calls:
        script(keys=keys, args=args, client=pipe)
    pipe.wait(replicas, wait_ms)
    results = pipe.execute()
    acked = int(results.pop())
    if acked < replicas:
        raise NotReplicated(acked, results)
    return list(results)


class NotReplicated(RedisError):
    def __init__(self, acked: int, results: list[Any]) -> None:
        super().__init__(acked)
        self.acked = acked
        self.results = results
