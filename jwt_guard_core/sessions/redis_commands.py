"""What the sync and the asyncio Redis session stores share: scripts, keys, arguments, replies.

Every call the stores make is described here once, as data (:class:`Command`:
a script, its keys, its arguments), and every reply is decoded here once;
:class:`~jwt_guard_core.sessions.RedisSessionStore` sends the commands with
redis-py, :class:`~jwt_guard_core.sessions.AsyncRedisSessionStore` with
redis.asyncio. So both use the same keys (hash-tagged alike on a Cluster)
and the same atomic scripts, and a sync and an async process can share one
store.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .._redis import KeySpace
from .ratelimit import Reserved
from .refresh import FamilyRecord, RefreshRecord, SpendResult
from .revocation import RevocationState

__all__ = [
    "SCRIPTS",
    "Command",
    "Commands",
    "reserved",
    "revocation_state",
    "spend_result",
    "spend_won",
]

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


#: Every script by the name a :class:`Command` uses.
SCRIPTS = {
    "spend": _SPEND,
    "unspend": _UNSPEND,
    "create_family": _CREATE_FAMILY,
    "add_token": _ADD_RECORD,
    "revoke_family": _REVOKE_FAMILY,
    "revoke_subject": _REVOKE_SUBJECT,
    "subject_sessions": _SUBJECT_SESSIONS,
    "set_max": _SET_MAX,
    "reserve": _RESERVE,
    "release": _RELEASE,
}


def _ttl(until: float, now: float) -> int:
    return max(1, math.ceil(until - now))


def _num(value: bytes | str | None) -> float | None:
    return None if value is None or value in (b"", "") else float(value)


def _pairs(flat: Sequence[bytes]) -> dict[str, bytes]:
    return {flat[i].decode(): flat[i + 1] for i in range(0, len(flat), 2)}


@dataclass(frozen=True)
class Command:
    """One script call: ``SCRIPTS[script]`` with ``keys`` and ``args``."""

    script: str
    keys: list[str]
    args: list[Any]


class Commands:
    """The calls of a session store under one :class:`~jwt_guard_core._redis.KeySpace`."""

    def __init__(self, keys: KeySpace) -> None:
        self._keys = keys

    def key(self, kind: str, name: str = "") -> str:
        return self._keys.key(kind, name)

    # -- refresh tokens

    def create_family(self, family: FamilyRecord) -> Command:
        ttl = _ttl(family.expires_at, family.created_at)
        return Command(
            "create_family",
            [self.key("fam", family.family_id), self.key("subfam", family.subject)],
            [
                family.subject,
                repr(family.created_at),
                repr(family.expires_at),
                ttl,
                family.family_id,
            ],
        )

    def add_token(self, record: RefreshRecord, *, now: float) -> Command:
        return Command(
            "add_token",
            [self.key("rt", record.token_hash)],
            [
                record.family_id,
                record.subject,
                " ".join(record.scopes),
                repr(record.issued_at),
                repr(record.expires_at),
                _ttl(record.expires_at, now),
            ],
        )

    def spend(self, token_hash: str, *, now: float) -> Command:
        return Command("spend", [self.key("rt", token_hash)], [repr(now), self.key("fam") + ":"])

    def unspend(self, token_hash: str, *, spent_at: float) -> Command:
        return Command("unspend", [self.key("rt", token_hash)], [repr(spent_at)])

    def revoke_family(self, family_id: str, *, now: float) -> Command:
        return Command("revoke_family", [self.key("fam", family_id)], [repr(now)])

    def revoke_subject(self, subject: str, *, now: float) -> Command:
        return Command(
            "revoke_subject", [self.key("subfam", subject)], [repr(now), self.key("fam") + ":"]
        )

    def subject_sessions(self, subject: str, *, now: float) -> Command:
        return Command(
            "subject_sessions", [self.key("subfam", subject)], [self.key("fam") + ":", repr(now)]
        )

    # -- revocation

    def deny(self, kind: str, name: str, *, expires_at: float, now: float) -> Command:
        """``kind`` is ``deny`` (a jti), ``denysid`` (a session) or ``denykid`` (a key)."""
        return Command("set_max", [self.key(kind, name)], [repr(expires_at), _ttl(expires_at, now)])

    def revoke_subject_before(self, subject: str, before: float) -> Command:
        return Command("set_max", [self.key("sub", subject)], [repr(before), 0])

    def set_emergency_epoch(self, epoch: float) -> Command:
        return Command("set_max", [self.key("epoch")], [repr(epoch), 0])

    def revocation_keys(
        self, jti: str | None, subject: str | None, session: str | None, kid: str | None
    ) -> list[str]:
        """The keys one ``MGET`` reads: one round trip per verification.

        A missing name reads a key with an empty name, which is never written.
        """
        return [
            self.key("deny", "") + f":{jti or ''}",
            self.key("denysid", "") + f":{session or ''}",
            self.key("sub", "") + f":{subject or ''}",
            self.key("epoch"),
            self.key("denykid", "") + f":{kid or ''}",
        ]

    # -- rate limit

    def failures_key(self, client: str) -> str:
        return self._keys.alone("fail", client)

    def reserve(self, client: str, *, now: float, window: float, limit: int) -> Command:
        # A unique member per entry: two at the same instant both count.
        member = f"{now!r}:{secrets.token_hex(4)}"
        return Command(
            "reserve",
            [self.failures_key(client)],
            [repr(now), repr(now - window), limit, member, math.ceil(window)],
        )

    def release(self, client: str, *, at: float) -> Command:
        return Command("release", [self.failures_key(client)], [repr(at)])

    def add_failure(self, pipe: Any, client: str, *, now: float, window: float, keep: int) -> None:
        """Queue on ``pipe`` (a transaction) the commands that record one failure."""
        key = self.failures_key(client)
        pipe.zadd(key, {f"{now!r}:{secrets.token_hex(4)}": now})
        pipe.zremrangebyscore(key, "-inf", now - window)
        pipe.zremrangebyrank(key, 0, -(keep + 1))
        pipe.expire(key, math.ceil(window))

    @staticmethod
    def recent_range(now: float, window: float) -> tuple[str, str]:
        """The ``ZRANGEBYSCORE`` bounds of the entries in ``(now - window, now]``."""
        return f"({now - window!r}", "+inf"


def spend_result(token_hash: str, reply: Any) -> SpendResult | None:
    """The :class:`SpendResult` of a ``spend`` script reply."""
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


def spend_won(reply: Any) -> bool:
    """Whether a ``spend`` reply (or a pipeline's results) spent the token."""
    return bool(reply and reply[0] and reply[0][0] == 1)


def revocation_state(values: Sequence[Any], *, now: float) -> RevocationState:
    """The :class:`RevocationState` of the ``MGET`` of :meth:`Commands.revocation_keys`."""
    denied, session_denied, before, epoch, kid_denied = values
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


def reserved(reply: Any) -> Reserved:
    """The :class:`Reserved` of a ``reserve`` script reply."""
    admitted, scores = reply
    return Reserved(admitted=admitted == 1, counted=tuple(float(x) for x in scores))
