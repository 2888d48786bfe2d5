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

import re
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
from .redis_commands import (
    SCRIPTS,
    Command,
    Commands,
    _num,
    reserved,
    revocation_state,
    spend_result,
    spend_won,
)
from .refresh import FamilyRecord, RefreshRecord, SpendResult
from .revocation import RevocationState

__all__ = ["RedisSessionStore"]


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _glob(text: str) -> str:
    """``text`` as a literal in a SCAN ``MATCH`` pattern."""
    return re.sub(r"([*?\[\]\\])", r"\\\1", text)


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
        self._commands = Commands(self._keys)
        self._redis = Gateway(
            client,
            label="session store",
            name="sessions",
            unavailable=StoreUnavailable,
            breaker=breaker,
            replicas=replicas,
            replica_timeout=replica_timeout,
        )
        self._scripts = {name: client.register_script(text) for name, text in SCRIPTS.items()}

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
        return self._commands.key(kind, name)

    def _call(self, command: Command) -> tuple[Any, Sequence[str], Sequence[Any]]:
        return self._scripts[command.script], command.keys, command.args

    def _write(self, command: Command) -> Any:
        return self._redis.write([self._call(command)])[0]

    def _run(self, command: Command) -> Any:
        script, keys, args = self._call(command)
        return self._redis.run(lambda: script(keys=keys, args=args))

    # -- RefreshTokenStore

    def create_family(self, family: FamilyRecord) -> None:
        self._write(self._commands.create_family(family))

    def add_token(self, record: RefreshRecord, *, now: float) -> None:
        self._write(self._commands.add_token(record, now=now))

    def spend(self, token_hash: str, *, now: float) -> SpendResult | None:
        command = self._commands.spend(token_hash, now=now)

        def undo(results: list[Any]) -> None:
            # The spend is on the primary but no replica confirmed it: the
            # caller answers 503 and the client retries with this token,
            # which must then be its first use, not a reuse.
            if spend_won(results):
                unspend = self._commands.unspend(token_hash, spent_at=now)
                self._scripts[unspend.script](keys=unspend.keys, args=unspend.args)

        reply = self._redis.write([self._call(command)], undo=undo)[0]
        return spend_result(token_hash, reply)

    def unspend(self, token_hash: str, *, spent_at: float) -> None:
        self._write(self._commands.unspend(token_hash, spent_at=spent_at))

    def revoke_family(self, family_id: str, *, now: float) -> bool:
        return bool(self._write(self._commands.revoke_family(family_id, now=now)) == 1)

    def revoke_subject(self, subject: str, *, now: float) -> int:
        return int(self._write(self._commands.revoke_subject(subject, now=now)))

    def subject_sessions(self, subject: str, *, now: float) -> Sequence[str]:
        found = self._run(self._commands.subject_sessions(subject, now=now))
        return tuple(f.decode() for f in found)

    # -- RevocationStore

    def deny_jti(self, jti: str, *, expires_at: float, now: float) -> None:
        self._write(self._commands.deny("deny", jti, expires_at=expires_at, now=now))

    def deny_session(self, session_id: str, *, expires_at: float, now: float) -> None:
        self._write(self._commands.deny("denysid", session_id, expires_at=expires_at, now=now))

    def deny_kid(self, kid: str, *, expires_at: float, now: float) -> None:
        self._write(self._commands.deny("denykid", kid, expires_at=expires_at, now=now))

    def revoke_subject_before(self, subject: str, before: float) -> None:
        self._write(self._commands.revoke_subject_before(subject, before))

    def set_emergency_epoch(self, epoch: float) -> None:
        self._write(self._commands.set_emergency_epoch(epoch))

    def revocation_state(
        self,
        jti: str | None,
        subject: str | None,
        *,
        now: float,
        session: str | None = None,
        kid: str | None = None,
    ) -> RevocationState:
        keys = self._commands.revocation_keys(jti, subject, session, kid)
        return revocation_state(self._redis.run(lambda: self._client.mget(keys)), now=now)

    # -- RateLimitStore

    def reserve(self, client: str, *, now: float, window: float, limit: int) -> Reserved:
        return reserved(
            self._run(self._commands.reserve(client, now=now, window=window, limit=limit))
        )

    def release(self, client: str, *, at: float) -> None:
        self._run(self._commands.release(client, at=at))

    def add_failure(self, client: str, *, now: float, window: float, keep: int) -> None:
        def action() -> None:
            pipe = self._client.pipeline(transaction=True)
            self._commands.add_failure(pipe, client, now=now, window=window, keep=keep)
            pipe.execute()

        self._redis.run(action)

    def recent_failures(self, client: str, *, now: float, window: float) -> Sequence[float]:
        key = self._commands.failures_key(client)
        low, high = self._commands.recent_range(now, window)
        rows = cast(
            "list[tuple[bytes, float]]",
            self._redis.run(lambda: self._client.zrangebyscore(key, low, high, withscores=True)),
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
