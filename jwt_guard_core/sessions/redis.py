"""Session state in Redis, for several machines sharing sessions and revocations.

Every decision that must be atomic across machines runs inside Redis as one
Lua script: spending a refresh token (``HSETNX spent_at``, so of concurrent
refreshes exactly one wins), revoking a family, raising a "revoked before"
time. Keys expire with what they describe (Redis TTLs computed from the
injected clock, so a skewed Redis clock cannot shorten or stretch them).

Keys, under ``prefix`` (default ``jwt_guard:sessions``)::

    {prefix}:rt:{sha256}        hash: one refresh token (never the token itself)
    {prefix}:fam:{family}       hash: one session
    {prefix}:subfam:{subject}   set: a subject's sessions
    {prefix}:deny:{jti}         denied access token, until its exp
    {prefix}:denysid:{session}  denied session (sid claim)
    {prefix}:denykid:{kid}      denied signing key (emergency rotation)
    {prefix}:sub:{subject}      "revoked before" time of a subject
    {prefix}:epoch              the emergency epoch
    {prefix}:fail:{client}      sorted set: recent failure and in-flight attempt times

The scripts touch keys they derive from the prefix, so this store targets a
single Redis server (or a primary with replicas), not Redis Cluster.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast

import redis
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

from ..errors import ConfigurationError
from .errors import StoreUnavailable
from .ratelimit import Reserved
from .refresh import FamilyRecord, RefreshRecord, SpendResult
from .revocation import RevocationState

__all__ = ["RedisSessionStore"]

_T = TypeVar("_T")

_SPEND = """
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local won = redis.call('HSETNX', KEYS[1], 'spent_at', ARGV[1])
local record = redis.call('HGETALL', KEYS[1])
local family = redis.call('HGETALL', ARGV[2] .. redis.call('HGET', KEYS[1], 'family_id'))
return {won, record, family}
"""

_UNSPEND = """
if redis.call('HGET', KEYS[1], 'spent_at') == ARGV[1] then
    redis.call('HDEL', KEYS[1], 'spent_at')
end
return 1
"""

_REVOKE_FAMILY = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
return redis.call('HSETNX', KEYS[1], 'revoked_at', ARGV[1])
"""

_REVOKE_SUBJECT = """
local count = 0
for _, family in ipairs(redis.call('SMEMBERS', KEYS[1])) do
    local key = ARGV[2] .. family
    if redis.call('EXISTS', key) == 0 then
        redis.call('SREM', KEYS[1], family)
    else
        count = count + redis.call('HSETNX', key, 'revoked_at', ARGV[1])
    end
end
return count
"""

# The members of KEYS[1] whose family hash still exists and expires after ARGV[2].
_SUBJECT_SESSIONS = """
local live = {}
for _, family in ipairs(redis.call('SMEMBERS', KEYS[1])) do
    local expires = tonumber(redis.call('HGET', ARGV[1] .. family, 'expires_at'))
    if expires ~= nil and expires > tonumber(ARGV[2]) then table.insert(live, family) end
end
return live
"""

# Set KEYS[1] to ARGV[1] unless it already holds a larger number; ARGV[2] > 0
# is a TTL in seconds.
_SET_MAX = """
local current = tonumber(redis.call('GET', KEYS[1]))
if current ~= nil and current >= tonumber(ARGV[1]) then return 0 end
if tonumber(ARGV[2]) > 0 then
    redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
else
    redis.call('SET', KEYS[1], ARGV[1])
end
return 1
"""

# SADD, then extend the set's TTL, never shorten it.
_ADD_MEMBER = """
redis.call('SADD', KEYS[1], ARGV[1])
local ttl = redis.call('TTL', KEYS[1])
if ttl < tonumber(ARGV[2]) then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return 1
"""


# Drop KEYS[1]'s entries at or before ARGV[2]; unless ARGV[3] remain, add
# ARGV[4] scored ARGV[1] and keep the set for ARGV[5] seconds. Returns
# {admitted, scores of the entries counted before}: one step, so of
# concurrent reservations at most ARGV[3] are admitted.
_RESERVE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
local counted = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
local scores = {}
for i = 2, #counted, 2 do scores[#scores + 1] = counted[i] end
if #scores >= tonumber(ARGV[3]) then return {0, scores} end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return {1, scores}
"""

# Remove one member of KEYS[1] scored exactly ARGV[1].
_RELEASE = """
local found = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], ARGV[1], 'LIMIT', 0, 1)
if #found > 0 then redis.call('ZREM', KEYS[1], found[1]) end
return #found
"""


def _ttl(until: float, now: float) -> int:
    return max(1, math.ceil(until - now))


def _num(value: bytes | str | None) -> float | None:
    return None if value is None or value in (b"", "") else float(value)


def _pairs(flat: Sequence[bytes]) -> dict[str, bytes]:
    return {flat[i].decode(): flat[i + 1] for i in range(0, len(flat), 2)}


class RedisSessionStore:
    """Refresh tokens, revocation state and failure counts in Redis.

    Args:
        client: a ``redis.Redis`` client (``decode_responses`` off) or a
            ``redis://`` / ``rediss://`` URL. A client you build yourself
            should have a ``socket_timeout`` and few retries
            (``retry=Retry(NoBackoff(), 1)``): redis-py's defaults keep a
            request waiting for seconds while Redis is down, before the
            services answer 503 or fail open. A client made from a URL
            gets 2-second timeouts and one retry.
        prefix: the key prefix; give each application its own.

    Implements :class:`~jwt_guard_core.sessions.RefreshTokenStore`,
    :class:`~jwt_guard_core.sessions.RevocationStore` and
    :class:`~jwt_guard_core.sessions.RateLimitStore`.
    """

    def __init__(self, client: redis.Redis | str, *, prefix: str = "jwt_guard:sessions") -> None:
        if isinstance(client, str):
            try:
                # redis-py's default retries with backoff block a request for
                # seconds while Redis is down; one quick retry, then the
                # services' outage policy (503 or fail open) decides.
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
        if client.get_encoder().decode_responses:
            raise ConfigurationError(
                "redis", "the Redis client must be created with decode_responses=False"
            )
        if not isinstance(prefix, str) or not prefix:
            raise ConfigurationError("prefix", "must be a non-empty string")
        self._client = client
        self._prefix = prefix
        self._spend = client.register_script(_SPEND)
        self._unspend = client.register_script(_UNSPEND)
        self._revoke_family = client.register_script(_REVOKE_FAMILY)
        self._revoke_subject = client.register_script(_REVOKE_SUBJECT)
        self._subject_sessions = client.register_script(_SUBJECT_SESSIONS)
        self._set_max = client.register_script(_SET_MAX)
        self._add_member = client.register_script(_ADD_MEMBER)
        self._reserve = client.register_script(_RESERVE)
        self._release = client.register_script(_RELEASE)

    def __repr__(self) -> str:
        return f"RedisSessionStore(prefix={self._prefix!r})"

    def _key(self, kind: str, name: str = "") -> str:
        return f"{self._prefix}:{kind}:{name}" if name else f"{self._prefix}:{kind}"

    @staticmethod
    def _run(action: Callable[[], _T]) -> _T:
        try:
            return action()
        except RedisError as exc:
            # The class name only: redis-py messages can carry host names.
            raise StoreUnavailable(
                f"the Redis session store is unavailable ({type(exc).__name__})"
            ) from None

    # -- RefreshTokenStore

    def create_family(self, family: FamilyRecord) -> None:
        key = self._key("fam", family.family_id)
        ttl = _ttl(family.expires_at, family.created_at)

        def action() -> None:
            pipe = self._client.pipeline(transaction=True)
            pipe.hset(
                key,
                mapping={
                    "subject": family.subject,
                    "created_at": repr(family.created_at),
                    "expires_at": repr(family.expires_at),
                },
            )
            pipe.expire(key, ttl)
            pipe.execute()
            self._add_member(
                keys=[self._key("subfam", family.subject)], args=[family.family_id, ttl]
            )

        self._run(action)

    def add_token(self, record: RefreshRecord, *, now: float) -> None:
        key = self._key("rt", record.token_hash)

        def action() -> None:
            pipe = self._client.pipeline(transaction=True)
            pipe.hset(
                key,
                mapping={
                    "family_id": record.family_id,
                    "subject": record.subject,
                    "scopes": " ".join(record.scopes),
                    "issued_at": repr(record.issued_at),
                    "expires_at": repr(record.expires_at),
                },
            )
            pipe.expire(key, _ttl(record.expires_at, now))
            pipe.execute()

        self._run(action)

    def spend(self, token_hash: str, *, now: float) -> SpendResult | None:
        def action() -> Any:
            return self._spend(
                keys=[self._key("rt", token_hash)], args=[repr(now), self._key("fam") + ":"]
            )

        reply = self._run(action)
        if reply is None:
            return None
        won, flat_record, flat_family = reply
        fields = _pairs(flat_record)
        spent_at = None if won == 1 else _num(fields.get("spent_at"))
        scopes = fields.get("scopes", b"").decode()
        record = RefreshRecord(
            token_hash=token_hash,
            family_id=fields["family_id"].decode(),
            subject=fields["subject"].decode(),
            scopes=tuple(scopes.split()),
            issued_at=float(fields["issued_at"]),
            expires_at=float(fields["expires_at"]),
            spent_at=spent_at,
        )
        family = None
        if flat_family:
            fam = _pairs(flat_family)
            family = FamilyRecord(
                family_id=record.family_id,
                subject=fam["subject"].decode(),
                created_at=float(fam["created_at"]),
                expires_at=float(fam["expires_at"]),
                revoked_at=_num(fam.get("revoked_at")),
            )
        return SpendResult(record=record, family=family, won=won == 1)

    def unspend(self, token_hash: str, *, spent_at: float) -> None:
        self._run(lambda: self._unspend(keys=[self._key("rt", token_hash)], args=[repr(spent_at)]))

    def revoke_family(self, family_id: str, *, now: float) -> bool:
        def action() -> Any:
            return self._revoke_family(keys=[self._key("fam", family_id)], args=[repr(now)])

        return bool(self._run(action) == 1)

    def revoke_subject(self, subject: str, *, now: float) -> int:
        def action() -> Any:
            return self._revoke_subject(
                keys=[self._key("subfam", subject)], args=[repr(now), self._key("fam") + ":"]
            )

        return int(self._run(action))

    def subject_sessions(self, subject: str, *, now: float) -> Sequence[str]:
        def action() -> Any:
            return self._subject_sessions(
                keys=[self._key("subfam", subject)], args=[self._key("fam") + ":", repr(now)]
            )

        return tuple(f.decode() for f in self._run(action))

    # -- RevocationStore

    def deny_jti(self, jti: str, *, expires_at: float, now: float) -> None:
        self._run(
            lambda: self._set_max(
                keys=[self._key("deny", jti)], args=[repr(expires_at), _ttl(expires_at, now)]
            )
        )

    def deny_session(self, session_id: str, *, expires_at: float, now: float) -> None:
        self._run(
            lambda: self._set_max(
                keys=[self._key("denysid", session_id)],
                args=[repr(expires_at), _ttl(expires_at, now)],
            )
        )

    def deny_kid(self, kid: str, *, expires_at: float, now: float) -> None:
        self._run(
            lambda: self._set_max(
                keys=[self._key("denykid", kid)], args=[repr(expires_at), _ttl(expires_at, now)]
            )
        )

    def revoke_subject_before(self, subject: str, before: float) -> None:
        self._run(lambda: self._set_max(keys=[self._key("sub", subject)], args=[repr(before), 0]))

    def set_emergency_epoch(self, epoch: float) -> None:
        self._run(lambda: self._set_max(keys=[self._key("epoch")], args=[repr(epoch), 0]))

    def revocation_state(
        self,
        jti: str | None,
        subject: str | None,
        *,
        now: float,
        session: str | None = None,
        kid: str | None = None,
    ) -> RevocationState:
        # One MGET: one round trip per verification. A missing name reads a
        # key with an empty name, which is never written.
        keys = [
            f"{self._prefix}:deny:{jti or ''}",
            f"{self._prefix}:denysid:{session or ''}",
            f"{self._prefix}:sub:{subject or ''}",
            self._key("epoch"),
            f"{self._prefix}:denykid:{kid or ''}",
        ]
        denied, session_denied, before, epoch, kid_denied = self._run(
            lambda: self._client.mget(keys)
        )
        denied_until = _num(denied)
        session_until = _num(session_denied)
        kid_until = _num(kid_denied)
        return RevocationState(
            jti_denied=denied_until is not None and denied_until > now,
            session_denied=session_until is not None and session_until > now,
            key_denied=kid_until is not None and kid_until > now,
            subject_revoked_before=_num(before),
            emergency_epoch=_num(epoch),
        )

    # -- RateLimitStore

    def reserve(self, client: str, *, now: float, window: float, limit: int) -> Reserved:
        key = self._key("fail", client)
        # A unique member per entry: two at the same instant both count.
        member = f"{now!r}:{secrets.token_hex(4)}"

        def action() -> Any:
            return self._reserve(
                keys=[key],
                args=[repr(now), repr(now - window), limit, member, math.ceil(window)],
            )

        admitted, scores = self._run(action)
        return Reserved(admitted=admitted == 1, counted=tuple(float(x) for x in scores))

    def release(self, client: str, *, at: float) -> None:
        self._run(lambda: self._release(keys=[self._key("fail", client)], args=[repr(at)]))

    def add_failure(self, client: str, *, now: float, window: float, keep: int) -> None:
        key = self._key("fail", client)
        member = f"{now!r}:{secrets.token_hex(4)}"

        def action() -> None:
            pipe = self._client.pipeline(transaction=True)
            pipe.zadd(key, {member: now})
            pipe.zremrangebyscore(key, "-inf", now - window)
            pipe.zremrangebyrank(key, 0, -(keep + 1))
            pipe.expire(key, math.ceil(window))
            pipe.execute()

        self._run(action)

    def recent_failures(self, client: str, *, now: float, window: float) -> Sequence[float]:
        key = self._key("fail", client)
        rows = cast(
            "list[tuple[bytes, float]]",
            self._run(
                lambda: self._client.zrangebyscore(
                    key, f"({now - window!r}", "+inf", withscores=True
                )
            ),
        )
        return tuple(float(score) for _, score in rows)
