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

On a Redis Cluster (a :class:`redis.cluster.RedisCluster` client, or a
``redis+cluster://`` URL) the prefix is a hash tag, ``{prefix}:rt:...``, so
the keys a script derives from one another share a slot; only the
rate-limit keys, which no script shares, are spread with a tag of their
own (``{prefix:fail:client}``). One store therefore lives on one shard (and
its replicas): give each application its own prefix to spread stores.
Through Sentinel (``redis+sentinel://`` or ``Sentinel(...).master_for(...)``)
keys are named as on a single server.

Redis replicates asynchronously: a write acknowledged by a primary that
fails before its replicas copied it is lost with it, and a lost "spent"
mark lets a refresh token be used twice. With ``replicas=N`` every write
that revokes or spends is followed by ``WAIT N`` and reported as failed
(:class:`StoreUnavailable`) unless N replicas hold it, so an acknowledged
revocation survives the failover of its primary.
"""

from __future__ import annotations

import math
import re
import secrets
from collections.abc import Sequence
from typing import Any, cast

from .._redis import Gateway, KeySpace, RedisClient, connect, is_cluster
from ..breaker import CircuitBreaker
from ..errors import ConfigurationError
from .errors import StoreUnavailable
from .listing import (
    FailureCount,
    RevocationRule,
    busiest_failures,
    newest_families,
    ordered_rules,
)
from .ratelimit import Reserved
from .refresh import FamilyRecord, RefreshRecord, SpendResult
from .revocation import RevocationState

__all__ = ["RedisSessionStore"]

_SPEND = """
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local won = redis.call('HSETNX', KEYS[1], 'spent_at', ARGV[1])
local record = redis.call('HGETALL', KEYS[1])
local family = redis.call('HGETALL', ARGV[2] .. redis.call('HGET', KEYS[1], 'family_id'))
return {won, record, family}
"""

# KEYS[1] the family hash, KEYS[2] the subject's set of families; ARGV:
# subject, created_at, expires_at, TTL, family id.
_CREATE_FAMILY = """
redis.call('HSET', KEYS[1], 'subject', ARGV[1], 'created_at', ARGV[2], 'expires_at', ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('SADD', KEYS[2], ARGV[5])
if redis.call('TTL', KEYS[2]) < tonumber(ARGV[4]) then redis.call('EXPIRE', KEYS[2], ARGV[4]) end
return 1
"""

# KEYS[1] the token hash; ARGV: family, subject, scopes, issued_at, expires_at, TTL.
_ADD_RECORD = """
redis.call('HSET', KEYS[1], 'family_id', ARGV[1], 'subject', ARGV[2], 'scopes', ARGV[3],
           'issued_at', ARGV[4], 'expires_at', ARGV[5])
redis.call('EXPIRE', KEYS[1], ARGV[6])
return 1
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


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _glob(text: str) -> str:
    """``text`` as a literal in a SCAN ``MATCH`` pattern."""
    return re.sub(r"([*?\[\]\\])", r"\\\1", text)


def _pairs(flat: Sequence[bytes]) -> dict[str, bytes]:
    return {flat[i].decode(): flat[i + 1] for i in range(0, len(flat), 2)}


class RedisSessionStore:
    """Refresh tokens, revocation state and failure counts in Redis.

    Args:
        client: a ``redis.Redis`` client (``decode_responses`` off), a
            ``redis.cluster.RedisCluster``, a Sentinel-managed client
            (``Sentinel(...).master_for(name)``), or a URL: ``redis://``,
            ``rediss://``, ``unix://``, ``redis+cluster://host:port`` or
            ``redis+sentinel://host:port,host:port/service``. A client you
            build yourself should have a ``socket_timeout`` and few retries
            (``retry=Retry(NoBackoff(), 1)``): redis-py's defaults keep a
            request waiting for seconds while Redis is down. A client made
            from a URL gets 2-second timeouts and one retry.
        prefix: the key prefix; give each application its own.
        breaker: the :class:`~jwt_guard_core.breaker.CircuitBreaker` that
            makes calls fail at once after repeated failures (default: 5
            failures, 5 s cool-down); share one between the stores of one
            server.
        replicas: after each write that revokes, spends or creates state,
            ``WAIT`` for this many replicas to hold it (default 0: no wait).
        replica_timeout: how long that ``WAIT`` may take, in seconds.

    Implements :class:`~jwt_guard_core.sessions.RefreshTokenStore`,
    :class:`~jwt_guard_core.sessions.RevocationStore`,
    :class:`~jwt_guard_core.sessions.RateLimitStore` and
    :class:`~jwt_guard_core.sessions.SessionListing`.
    """

    def __init__(
        self,
        client: RedisClient | str,
        *,
        prefix: str = "jwt_guard:sessions",
        breaker: CircuitBreaker | None = None,
        replicas: int = 0,
        replica_timeout: float = 1.0,
    ) -> None:
        client = connect(client, setting="redis")
        if not isinstance(prefix, str) or not prefix:
            raise ConfigurationError("prefix", "must be a non-empty string")
        self._client = client
        self._prefix = prefix
        self._keys = KeySpace(prefix, cluster=is_cluster(client))
        self._redis = Gateway(
            client,
            label="session store",
            name="sessions",
            unavailable=StoreUnavailable,
            breaker=breaker,
            replicas=replicas,
            replica_timeout=replica_timeout,
        )
        self._spend = client.register_script(_SPEND)
        self._unspend = client.register_script(_UNSPEND)
        self._create_family = client.register_script(_CREATE_FAMILY)
        self._add_token = client.register_script(_ADD_RECORD)
        self._revoke_family = client.register_script(_REVOKE_FAMILY)
        self._revoke_subject = client.register_script(_REVOKE_SUBJECT)
        self._subject_sessions = client.register_script(_SUBJECT_SESSIONS)
        self._set_max = client.register_script(_SET_MAX)
        self._reserve = client.register_script(_RESERVE)
        self._release = client.register_script(_RELEASE)

    def __repr__(self) -> str:
        return f"RedisSessionStore(prefix={self._prefix!r})"

    @property
    def breaker(self) -> CircuitBreaker:
        """The store's circuit breaker (its ``state`` is for health checks)."""
        return self._redis.breaker

    def ping(self) -> str | None:
        """``None`` when Redis answers; else why not (for health checks, see ``Gateway.ping``)."""
        return self._redis.ping()

    def _key(self, kind: str, name: str = "") -> str:
        return self._keys.key(kind, name)

    def _write(self, script: Any, keys: list[str], args: list[Any]) -> Any:
        return self._redis.write([(script, keys, args)])[0]

    # -- RefreshTokenStore

    def create_family(self, family: FamilyRecord) -> None:
        ttl = _ttl(family.expires_at, family.created_at)
        self._write(
            self._create_family,
            [self._key("fam", family.family_id), self._key("subfam", family.subject)],
            [
                family.subject,
                repr(family.created_at),
                repr(family.expires_at),
                ttl,
                family.family_id,
            ],
        )

    def add_token(self, record: RefreshRecord, *, now: float) -> None:
        self._write(
            self._add_token,
            [self._key("rt", record.token_hash)],
            [
                record.family_id,
                record.subject,
                " ".join(record.scopes),
                repr(record.issued_at),
                repr(record.expires_at),
                _ttl(record.expires_at, now),
            ],
        )

    def spend(self, token_hash: str, *, now: float) -> SpendResult | None:
        key = self._key("rt", token_hash)

        def undo(results: list[Any]) -> None:
            # The spend is on the primary but no replica confirmed it: the
            # caller answers 503 and the client retries with this token,
            # which must then be its first use, not a reuse.
            if results and results[0] and results[0][0] == 1:
                self._unspend(keys=[key], args=[repr(now)])

        reply = self._redis.write(
            [(self._spend, [key], [repr(now), self._key("fam") + ":"])], undo=undo
        )[0]
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
        self._write(self._unspend, [self._key("rt", token_hash)], [repr(spent_at)])

    def revoke_family(self, family_id: str, *, now: float) -> bool:
        return bool(
            self._write(self._revoke_family, [self._key("fam", family_id)], [repr(now)]) == 1
        )

    def revoke_subject(self, subject: str, *, now: float) -> int:
        return int(
            self._write(
                self._revoke_subject,
                [self._key("subfam", subject)],
                [repr(now), self._key("fam") + ":"],
            )
        )

    def subject_sessions(self, subject: str, *, now: float) -> Sequence[str]:
        def action() -> Any:
            return self._subject_sessions(
                keys=[self._key("subfam", subject)], args=[self._key("fam") + ":", repr(now)]
            )

        return tuple(f.decode() for f in self._redis.run(action))

    # -- RevocationStore

    def deny_jti(self, jti: str, *, expires_at: float, now: float) -> None:
        self._deny("deny", jti, expires_at=expires_at, now=now)

    def deny_session(self, session_id: str, *, expires_at: float, now: float) -> None:
        self._deny("denysid", session_id, expires_at=expires_at, now=now)

    def deny_kid(self, kid: str, *, expires_at: float, now: float) -> None:
        self._deny("denykid", kid, expires_at=expires_at, now=now)

    def _deny(self, kind: str, name: str, *, expires_at: float, now: float) -> None:
        self._write(
            self._set_max, [self._key(kind, name)], [repr(expires_at), _ttl(expires_at, now)]
        )

    def revoke_subject_before(self, subject: str, before: float) -> None:
        self._write(self._set_max, [self._key("sub", subject)], [repr(before), 0])

    def set_emergency_epoch(self, epoch: float) -> None:
        self._write(self._set_max, [self._key("epoch")], [repr(epoch), 0])

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
            self._key("deny", "") + f":{jti or ''}",
            self._key("denysid", "") + f":{session or ''}",
            self._key("sub", "") + f":{subject or ''}",
            self._key("epoch"),
            self._key("denykid", "") + f":{kid or ''}",
        ]
        denied, session_denied, before, epoch, kid_denied = self._redis.run(
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
        key = self._keys.alone("fail", client)
        # A unique member per entry: two at the same instant both count.
        member = f"{now!r}:{secrets.token_hex(4)}"

        def action() -> Any:
            return self._reserve(
                keys=[key],
                args=[repr(now), repr(now - window), limit, member, math.ceil(window)],
            )

        admitted, scores = self._redis.run(action)
        return Reserved(admitted=admitted == 1, counted=tuple(float(x) for x in scores))

    def release(self, client: str, *, at: float) -> None:
        key = self._keys.alone("fail", client)
        self._redis.run(lambda: self._release(keys=[key], args=[repr(at)]))

    def add_failure(self, client: str, *, now: float, window: float, keep: int) -> None:
        key = self._keys.alone("fail", client)
        member = f"{now!r}:{secrets.token_hex(4)}"

        def action() -> None:
            pipe = self._client.pipeline(transaction=True)
            pipe.zadd(key, {member: now})
            pipe.zremrangebyscore(key, "-inf", now - window)
            pipe.zremrangebyrank(key, 0, -(keep + 1))
            pipe.expire(key, math.ceil(window))
            pipe.execute()

        self._redis.run(action)

    def recent_failures(self, client: str, *, now: float, window: float) -> Sequence[float]:
        key = self._keys.alone("fail", client)
        rows = cast(
            "list[tuple[bytes, float]]",
            self._redis.run(
                lambda: self._client.zrangebyscore(
                    key, f"({now - window!r}", "+inf", withscores=True
                )
            ),
        )
        return tuple(float(score) for _, score in rows)

    # -- SessionListing (SCAN: for operators, never on a request's path)

    def _scan(self, prefix: str) -> list[tuple[str, str]]:
        """``(key, name)`` of every key ``prefix + name``."""
        pattern = _glob(prefix) + "*"

        def action() -> list[bytes]:
            return list(self._client.scan_iter(match=pattern, count=500))

        found = self._redis.run(action)
        names = [_text(k) for k in found]
        return [(key, key[len(prefix) :]) for key in names]

    def _family_records(self, ids: Sequence[str]) -> list[FamilyRecord]:
        def action() -> list[Any]:
            pipe = self._client.pipeline(transaction=False)
            for family_id in ids:
                pipe.hgetall(self._key("fam", family_id))
            return cast("list[Any]", pipe.execute())

        records = []
        results = self._redis.run(action) if ids else []
        for family_id, fields in zip(ids, results, strict=True):
            if not fields:
                continue  # expired since it was listed
            got = {_text(k): v for k, v in fields.items()}
            records.append(
                FamilyRecord(
                    family_id=family_id,
                    subject=_text(got["subject"]),
                    created_at=float(got["created_at"]),
                    expires_at=float(got["expires_at"]),
                    revoked_at=_num(got.get("revoked_at")),
                )
            )
        return records

    def list_families(
        self, *, now: float, subject: str | None = None, limit: int = 100
    ) -> Sequence[FamilyRecord]:
        if subject is not None:
            members = self._redis.run(lambda: self._client.smembers(self._key("subfam", subject)))
            ids = sorted(_text(m) for m in members)
        else:
            ids = [name for _, name in self._scan(self._key("fam", "") + ":")]
        found = self._family_records(ids)
        return newest_families([f for f in found if f.expires_at > now], limit)

    def list_revocations(self, *, now: float, limit: int = 100) -> Sequence[RevocationRule]:
        named = [
            (rule, key, name)
            for kind, rule in (
                ("deny", "jti"),
                ("denysid", "sid"),
                ("denykid", "kid"),
                ("sub", "subject"),
            )
            for key, name in self._scan(self._key(kind, "") + ":")
        ]
        keys = [key for _, key, _ in named] + [self._key("epoch")]
        values = self._redis.run(lambda: self._client.mget(keys))
        rules = [
            RevocationRule(rule, name, value)
            for (rule, _, name), raw in zip(named, values[:-1], strict=True)
            if (value := _num(raw)) is not None and (rule == "subject" or value > now)
        ]
        epoch = _num(values[-1])
        if epoch is not None:
            rules.append(RevocationRule("epoch", "", epoch))
        return ordered_rules(rules, limit)

    def _failure_keys(self) -> list[tuple[str, str]]:
        if not self._keys.cluster:
            return self._scan(self._key("fail", "") + ":")
        # On a Cluster each client's key is "{prefix:fail:client}", a slot of its own.
        head = "{" + self._prefix + ":fail:"
        return [(key, name[:-1]) for key, name in self._scan(head) if name.endswith("}")]

    def list_failures(
        self, *, now: float, window: float, limit: int = 100
    ) -> Sequence[FailureCount]:
        counts = []
        for key, client in self._failure_keys():
            rows = cast(
                "list[tuple[bytes, float]]",
                self._redis.run(
                    lambda key=key: self._client.zrangebyscore(  # type: ignore[misc]
                        key, f"({now - window!r}", "+inf", withscores=True
                    )
                ),
            )
            if rows:
                counts.append(FailureCount(client, len(rows), max(s for _, s in rows)))
        return busiest_failures(counts, limit)

    def clear_failures(self, client: str) -> int:
        key = self._keys.alone("fail", client)

        def action() -> int:
            pipe = self._client.pipeline(transaction=True)
            pipe.zcard(key)
            pipe.delete(key)
            count, _ = pipe.execute()
            return int(count)

        return self._redis.run(action)
