"""DPoP ``jti`` replay records in Redis, shared by every machine.

``SET key 1 NX PX ttl``: Redis answers whether the key was new, atomically,
and drops it when the proof's window has closed. The TTL is computed from
the injected clock, so a Redis server with a skewed clock does not change
how long a ``jti`` is remembered.
"""

from __future__ import annotations

import math

import redis
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

from ..errors import ConfigurationError, StoreUnavailable

__all__ = ["RedisReplayStore"]


class RedisReplayStore:
    """Seen DPoP proof ``jti`` values in Redis under ``{prefix}:{key}``.

    Args:
        client: a ``redis.Redis`` client or a ``redis://`` / ``rediss://``
            URL (then with 2-second timeouts and one retry, so a Redis
            outage is a quick 503, not a request hanging for seconds).
        prefix: the key prefix; give each application its own.

    Implements :class:`~jwt_guard_core.dpop.ReplayStore`.
    """

    in_process = False

    def __init__(self, client: redis.Redis | str, *, prefix: str = "jwt_guard:dpop") -> None:
        if isinstance(client, str):
            try:
                client = redis.Redis.from_url(
                    client,
                    socket_timeout=2.0,
                    socket_connect_timeout=2.0,
                    retry=Retry(NoBackoff(), 1),
                )
            except ValueError:
                raise ConfigurationError(
                    "redis", "the Redis URL is not valid (redis://, rediss:// or unix://)"
                ) from None
        if not isinstance(client, redis.Redis):
            raise ConfigurationError("redis", "give a redis.Redis client or a redis:// URL")
        if not isinstance(prefix, str) or not prefix:
            raise ConfigurationError("prefix", "must be a non-empty string")
        self._client = client
        self._prefix = prefix

    def __repr__(self) -> str:
        return f"RedisReplayStore(prefix={self._prefix!r})"

    def first_use(self, key: str, *, expires_at: float, now: float) -> bool:
        ttl_ms = max(1, math.ceil((expires_at - now) * 1000))
        try:
            created = self._client.set(f"{self._prefix}:{key}", b"1", nx=True, px=ttl_ms)
        except RedisError as exc:
            # The class name only: redis-py messages can carry host names.
            raise StoreUnavailable(
                f"the Redis DPoP replay store is unavailable ({type(exc).__name__})"
            ) from None
        return bool(created)
