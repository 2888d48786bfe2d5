"""Session state in an SQLite file: the embedded default.

Standard library only. Survives restarts, and several processes on one
machine (gunicorn workers, a management command) can share the file:

* WAL journal mode, so readers never block the writer and the other way
  round, and a busy timeout so concurrent writers queue instead of failing;
* one connection per thread and per process (a connection is never carried
  across ``fork``);
* spending a refresh token is a single ``UPDATE ... WHERE spent_at IS NULL``
  whose row count says who won, atomic across processes.

Put the file on a local disk: SQLite's locking is not reliable over NFS.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from .._sqlite import close_all
from ..errors import ConfigurationError
from .errors import StoreUnavailable
from .listing import FailureCount, RevocationRule, ordered_rules
from .ratelimit import Reserved
from .refresh import FamilyRecord, RefreshRecord, SpendResult
from .revocation import RevocationState
from .rows import FAILURE_HORIZON, SWEEP_EVERY, revocation_state, token_record

__all__ = ["SQLiteSessionStore"]

_T = TypeVar("_T")

# Idle connections kept for reuse; more concurrent callers open (and then
# close) their own.
_MAX_IDLE = 8

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jwt_guard_refresh_families (
    family_id TEXT PRIMARY KEY,
    subject TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    revoked_at REAL
);
CREATE INDEX IF NOT EXISTS jwt_guard_refresh_families_subject
    ON jwt_guard_refresh_families (subject);
CREATE TABLE IF NOT EXISTS jwt_guard_refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    family_id TEXT NOT NULL,
    subject TEXT NOT NULL,
    scopes TEXT NOT NULL,
    issued_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    spent_at REAL
);
CREATE INDEX IF NOT EXISTS jwt_guard_refresh_tokens_expires
    ON jwt_guard_refresh_tokens (expires_at);
CREATE TABLE IF NOT EXISTS jwt_guard_denied_jti (
    jti TEXT PRIMARY KEY,
    expires_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS jwt_guard_denied_sessions (
    session_id TEXT PRIMARY KEY,
    expires_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS jwt_guard_denied_kids (
    kid TEXT PRIMARY KEY,
    expires_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS jwt_guard_subject_revocations (
    subject TEXT PRIMARY KEY,
    revoked_before REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS jwt_guard_revocation_epoch (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    epoch REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS jwt_guard_failures (
    client TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS jwt_guard_failures_client_at ON jwt_guard_failures (client, at);
"""


class SQLiteSessionStore:
    """Refresh tokens, revocation state and failure counts in one SQLite file.

    Args:
        path: the database file (created with mode 0600 when missing; its
            directory must exist). ``":memory:"`` is refused: it would not be
            shared even between threads.
        timeout: seconds a write waits for another process's write lock.

    Implements :class:`~jwt_guard_core.sessions.RefreshTokenStore`,
    :class:`~jwt_guard_core.sessions.RevocationStore`,
    :class:`~jwt_guard_core.sessions.RateLimitStore` and
    :class:`~jwt_guard_core.sessions.SessionListing`.
    """

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = 5.0) -> None:
        text = os.fspath(path)
        if not text or text == ":memory:" or text.startswith("file:"):
            raise ConfigurationError(
                "path", f"{text!r} is not accepted; give the path of a database file"
            )
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
            raise ConfigurationError("timeout", f"{timeout!r} is not a positive number of seconds")
        self._path = Path(text)
        if not self._path.parent.is_dir():
            raise ConfigurationError(
                "path", f"the directory {str(self._path.parent)!r} does not exist"
            )
        self._timeout = float(timeout)
        self._lock = threading.Lock()
        self._ready = False
        # A pool of idle connections rather than one per thread: servers
        # that start a thread per request (Django's runserver) would
        # otherwise open a connection, and a file descriptor, per request.
        self._idle: list[sqlite3.Connection] = []
        # A store dropped without close() (settings rebuilt, a test's app
        # discarded) still closes its idle connections: Python 3.13 reports
        # unclosed databases. The list is only ever changed in place.
        weakref.finalize(self, close_all, self._idle)
        self._pid = os.getpid()
        self._writes = 0

    def __repr__(self) -> str:
        return f"SQLiteSessionStore({str(self._path)!r})"

    @property
    def path(self) -> Path:
        return self._path

    # -- connections

    def _open(self) -> sqlite3.Connection:
        if not self._path.exists():
            # Session state is sensitive (who is logged in, token hashes):
            # never world-readable.
            fd = os.open(self._path, os.O_CREAT | os.O_WRONLY, 0o600)
            os.close(fd)
        # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE),
        # so the write lock is taken before reading, never upgraded later.
        # check_same_thread=False: a pooled connection moves between threads,
        # but only one thread uses it at a time.
        conn = sqlite3.connect(
            self._path, timeout=self._timeout, isolation_level=None, check_same_thread=False
        )
        try:
            conn.execute("PRAGMA synchronous=NORMAL")  # per connection
            with self._lock:
                if not self._ready:
                    # Once per store, before any other connection of it writes:
                    # WAL is kept in the file, and switching to it while a
                    # sibling connection holds the write lock fails at once
                    # ("database is locked") instead of waiting for the timeout.
                    conn.execute("PRAGMA journal_mode=WAL")
                    conn.executescript(_SCHEMA)
                    self._ready = True
        except BaseException:
            conn.close()
            raise
        return conn

    def _acquire(self) -> sqlite3.Connection:
        with self._lock:
            if self._pid != os.getpid():
                # A forked child must never use the parent's connections
                # (SQLite's locks are per process); drop them unclosed, as
                # closing could disturb the parent's transactions.
                self._idle.clear()
                self._pid = os.getpid()
            if self._idle:
                return self._idle.pop()
        return self._open()

    def _release(self, conn: sqlite3.Connection, healthy: bool) -> None:
        if healthy and not conn.in_transaction:
            with self._lock:
                if len(self._idle) < _MAX_IDLE and self._pid == os.getpid():
                    self._idle.append(conn)
                    return
        conn.close()

    def _run(self, action: Callable[[sqlite3.Connection], _T]) -> _T:
        try:
            conn = self._acquire()
        except (sqlite3.Error, OSError) as exc:
            raise StoreUnavailable(
                f"the SQLite session store failed ({type(exc).__name__})"
            ) from None
        healthy = False
        try:
            result = action(conn)
            healthy = True
            return result
        except (sqlite3.Error, OSError) as exc:
            raise StoreUnavailable(
                f"the SQLite session store failed ({type(exc).__name__})"
            ) from None
        finally:
            self._release(conn, healthy)

    @contextmanager
    def _write(self, conn: sqlite3.Connection, now: float | None = None) -> Iterator[None]:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        if now is not None:
            with self._lock:
                self._writes += 1
                sweep = self._writes % SWEEP_EVERY == 0
            if sweep:
                self._purge(conn, now)

    def close(self) -> None:
        """Close the idle connections (call it at shutdown); later calls reconnect."""
        with self._lock:
            idle = self._idle[:]
            self._idle.clear()
        close_all(idle)

    def purge(self, *, now: float) -> None:
        """Delete expired tokens, families, denylist entries and stale failures."""
        self._run(lambda conn: self._purge(conn, now))

    @staticmethod
    def _purge(conn: sqlite3.Connection, now: float) -> None:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("DELETE FROM jwt_guard_refresh_tokens WHERE expires_at <= ?", (now,))
        conn.execute("DELETE FROM jwt_guard_refresh_families WHERE expires_at <= ?", (now,))
        conn.execute("DELETE FROM jwt_guard_denied_jti WHERE expires_at <= ?", (now,))
        conn.execute("DELETE FROM jwt_guard_denied_sessions WHERE expires_at <= ?", (now,))
        conn.execute("DELETE FROM jwt_guard_denied_kids WHERE expires_at <= ?", (now,))
        conn.execute("DELETE FROM jwt_guard_failures WHERE at <= ?", (now - FAILURE_HORIZON,))
        conn.execute("COMMIT")

    # -- RefreshTokenStore

    def create_family(self, family: FamilyRecord) -> None:
        def action(conn: sqlite3.Connection) -> None:
            with self._write(conn, family.created_at):
                conn.execute(
                    "INSERT INTO jwt_guard_refresh_families "
                    "(family_id, subject, created_at, expires_at, revoked_at) VALUES (?,?,?,?,?)",
                    (
                        family.family_id,
                        family.subject,
                        family.created_at,
                        family.expires_at,
                        family.revoked_at,
                    ),
                )

        self._run(action)

    def add_token(self, record: RefreshRecord, *, now: float) -> None:
        def action(conn: sqlite3.Connection) -> None:
            with self._write(conn, now):
                conn.execute(
                    "INSERT INTO jwt_guard_refresh_tokens (token_hash, family_id, subject, "
                    "scopes, issued_at, expires_at, spent_at) VALUES (?,?,?,?,?,?,?)",
                    (
                        record.token_hash,
                        record.family_id,
                        record.subject,
                        " ".join(record.scopes),
                        record.issued_at,
                        record.expires_at,
                        record.spent_at,
                    ),
                )

        self._run(action)

    def spend(self, token_hash: str, *, now: float) -> SpendResult | None:
        def action(conn: sqlite3.Connection) -> SpendResult | None:
            with self._write(conn):
                row = conn.execute(
                    "SELECT token_hash, family_id, subject, scopes, issued_at, expires_at, "
                    "spent_at FROM jwt_guard_refresh_tokens WHERE token_hash = ?",
                    (token_hash,),
                ).fetchone()
                if row is None:
                    return None
                # The row count decides the winner: of concurrent spends,
                # exactly one finds spent_at still NULL.
                won = (
                    conn.execute(
                        "UPDATE jwt_guard_refresh_tokens SET spent_at = ? "
                        "WHERE token_hash = ? AND spent_at IS NULL",
                        (now, token_hash),
                    ).rowcount
                    == 1
                )
                fam = conn.execute(
                    "SELECT family_id, subject, created_at, expires_at, revoked_at "
                    "FROM jwt_guard_refresh_families WHERE family_id = ?",
                    (row[1],),
                ).fetchone()
            return SpendResult(
                record=token_record(row),
                family=FamilyRecord(*fam) if fam is not None else None,
                won=won,
            )

        return self._run(action)

    def unspend(self, token_hash: str, *, spent_at: float) -> None:
        def action(conn: sqlite3.Connection) -> None:
            with self._write(conn):
                conn.execute(
                    "UPDATE jwt_guard_refresh_tokens SET spent_at = NULL "
                    "WHERE token_hash = ? AND spent_at = ?",
                    (token_hash, spent_at),
                )

        self._run(action)

    def revoke_family(self, family_id: str, *, now: float) -> bool:
        def action(conn: sqlite3.Connection) -> bool:
            with self._write(conn):
                cursor = conn.execute(
                    "UPDATE jwt_guard_refresh_families SET revoked_at = ? "
                    "WHERE family_id = ? AND revoked_at IS NULL",
                    (now, family_id),
                )
            return cursor.rowcount == 1

        return self._run(action)

    def revoke_subject(self, subject: str, *, now: float) -> int:
        def action(conn: sqlite3.Connection) -> int:
            with self._write(conn):
                cursor = conn.execute(
                    "UPDATE jwt_guard_refresh_families SET revoked_at = ? "
                    "WHERE subject = ? AND revoked_at IS NULL",
                    (now, subject),
                )
            return int(cursor.rowcount)

        return self._run(action)

    def subject_sessions(self, subject: str, *, now: float) -> Sequence[str]:
        def action(conn: sqlite3.Connection) -> Sequence[str]:
            rows = conn.execute(
                "SELECT family_id FROM jwt_guard_refresh_families "
                "WHERE subject = ? AND expires_at > ?",
                (subject, now),
            ).fetchall()
            return tuple(str(r[0]) for r in rows)

        return self._run(action)

    # -- RevocationStore

    def deny_jti(self, jti: str, *, expires_at: float, now: float) -> None:
        def action(conn: sqlite3.Connection) -> None:
            with self._write(conn, now):
                conn.execute(
                    "INSERT INTO jwt_guard_denied_jti (jti, expires_at) VALUES (?, ?) "
                    "ON CONFLICT (jti) DO UPDATE SET expires_at = "
                    "max(expires_at, excluded.expires_at)",
                    (jti, expires_at),
                )

        self._run(action)

    def deny_session(self, session_id: str, *, expires_at: float, now: float) -> None:
        def action(conn: sqlite3.Connection) -> None:
            with self._write(conn, now):
                conn.execute(
                    "INSERT INTO jwt_guard_denied_sessions (session_id, expires_at) VALUES (?, ?) "
                    "ON CONFLICT (session_id) DO UPDATE SET expires_at = "
                    "max(expires_at, excluded.expires_at)",
                    (session_id, expires_at),
                )

        self._run(action)

    def deny_kid(self, kid: str, *, expires_at: float, now: float) -> None:
        def action(conn: sqlite3.Connection) -> None:
            with self._write(conn, now):
                conn.execute(
                    "INSERT INTO jwt_guard_denied_kids (kid, expires_at) VALUES (?, ?) "
                    "ON CONFLICT (kid) DO UPDATE SET expires_at = "
                    "max(expires_at, excluded.expires_at)",
                    (kid, expires_at),
                )

        self._run(action)

    def revoke_subject_before(self, subject: str, before: float) -> None:
        def action(conn: sqlite3.Connection) -> None:
            with self._write(conn):
                conn.execute(
                    "INSERT INTO jwt_guard_subject_revocations (subject, revoked_before) "
                    "VALUES (?, ?) ON CONFLICT (subject) DO UPDATE SET revoked_before = "
                    "max(revoked_before, excluded.revoked_before)",
                    (subject, before),
                )

        self._run(action)

    def set_emergency_epoch(self, epoch: float) -> None:
        def action(conn: sqlite3.Connection) -> None:
            with self._write(conn):
                conn.execute(
                    "INSERT INTO jwt_guard_revocation_epoch (id, epoch) VALUES (1, ?) "
                    "ON CONFLICT (id) DO UPDATE SET epoch = max(epoch, excluded.epoch)",
                    (epoch,),
                )

        self._run(action)

    def revocation_state(
        self,
        jti: str | None,
        subject: str | None,
        *,
        now: float,
        session: str | None = None,
        kid: str | None = None,
    ) -> RevocationState:
        def action(conn: sqlite3.Connection) -> RevocationState:
            # One statement, one consistent snapshot, one round trip.
            row = conn.execute(
                "SELECT "
                "(SELECT expires_at FROM jwt_guard_denied_jti WHERE jti = ?), "
                "(SELECT expires_at FROM jwt_guard_denied_sessions WHERE session_id = ?), "
                "(SELECT revoked_before FROM jwt_guard_subject_revocations WHERE subject = ?), "
                "(SELECT epoch FROM jwt_guard_revocation_epoch WHERE id = 1), "
                "(SELECT expires_at FROM jwt_guard_denied_kids WHERE kid = ?)",
                (jti, session, subject, kid),
            ).fetchone()
            kinds = ("jti", "sid", "subject", "epoch", "kid")
            return revocation_state(dict(zip(kinds, row, strict=True)), now)

        return self._run(action)

    # -- RateLimitStore

    def reserve(self, client: str, *, now: float, window: float, limit: int) -> Reserved:
        def action(conn: sqlite3.Connection) -> Reserved:
            # BEGIN IMMEDIATE takes the write lock before the count: every
            # other connection, in this process or another, waits, so the
            # count and the insert are one step.
            with self._write(conn, now):
                conn.execute(
                    "DELETE FROM jwt_guard_failures WHERE client = ? AND at <= ?",
                    (client, now - window),
                )
                counted = tuple(
                    float(r[0])
                    for r in conn.execute(
                        "SELECT at FROM jwt_guard_failures WHERE client = ? ORDER BY at",
                        (client,),
                    )
                )
                admitted = len(counted) < limit
                if admitted:
                    conn.execute(
                        "INSERT INTO jwt_guard_failures (client, at) VALUES (?, ?)", (client, now)
                    )
            return Reserved(admitted=admitted, counted=counted)

        return self._run(action)

    def release(self, client: str, *, at: float) -> None:
        def action(conn: sqlite3.Connection) -> None:
            with self._write(conn):
                conn.execute(
                    "DELETE FROM jwt_guard_failures WHERE rowid = (SELECT rowid FROM "
                    "jwt_guard_failures WHERE client = ? AND at = ? LIMIT 1)",
                    (client, at),
                )

        self._run(action)

    def add_failure(self, client: str, *, now: float, window: float, keep: int) -> None:
        def action(conn: sqlite3.Connection) -> None:
            with self._write(conn, now):
                conn.execute(
                    "INSERT INTO jwt_guard_failures (client, at) VALUES (?, ?)", (client, now)
                )
                # Only the newest `keep` failures in the window matter.
                conn.execute(
                    "DELETE FROM jwt_guard_failures WHERE client = ? AND (at <= ? OR rowid NOT IN "
                    "(SELECT rowid FROM jwt_guard_failures WHERE client = ? "
                    "ORDER BY at DESC LIMIT ?))",
                    (client, now - window, client, keep),
                )

        self._run(action)

    def recent_failures(self, client: str, *, now: float, window: float) -> Sequence[float]:
        def action(conn: sqlite3.Connection) -> Sequence[float]:
            rows = conn.execute(
                "SELECT at FROM jwt_guard_failures WHERE client = ? AND at > ? ORDER BY at",
                (client, now - window),
            ).fetchall()
            return tuple(float(r[0]) for r in rows)

        return self._run(action)

    # -- SessionListing

    def list_families(
        self, *, now: float, subject: str | None = None, limit: int = 100
    ) -> Sequence[FamilyRecord]:
        # "? IS NULL": no subject given lists every family.
        def action(conn: sqlite3.Connection) -> Sequence[FamilyRecord]:
            rows = conn.execute(
                "SELECT family_id, subject, created_at, expires_at, revoked_at "
                "FROM jwt_guard_refresh_families WHERE expires_at > ? "
                "AND (? IS NULL OR subject = ?) "
                "ORDER BY created_at DESC, family_id LIMIT ?",
                (now, subject, subject, max(0, limit)),
            ).fetchall()
            return tuple(FamilyRecord(*row) for row in rows)

        return self._run(action)

    def list_revocations(self, *, now: float, limit: int = 100) -> Sequence[RevocationRule]:
        def action(conn: sqlite3.Connection) -> Sequence[RevocationRule]:
            rows = conn.execute(
                "SELECT 'jti', jti, expires_at FROM jwt_guard_denied_jti WHERE expires_at > ?1 "
                "UNION ALL SELECT 'sid', session_id, expires_at FROM jwt_guard_denied_sessions "
                "WHERE expires_at > ?1 "
                "UNION ALL SELECT 'kid', kid, expires_at FROM jwt_guard_denied_kids "
                "WHERE expires_at > ?1 "
                "UNION ALL SELECT 'subject', subject, revoked_before "
                "FROM jwt_guard_subject_revocations "
                "UNION ALL SELECT 'epoch', '', epoch FROM jwt_guard_revocation_epoch",
                (now,),
            ).fetchall()
            return tuple(RevocationRule(*row) for row in rows)

        return ordered_rules(self._run(action), limit)

    def list_failures(
        self, *, now: float, window: float, limit: int = 100
    ) -> Sequence[FailureCount]:
        def action(conn: sqlite3.Connection) -> Sequence[FailureCount]:
            rows = conn.execute(
                "SELECT client, COUNT(*), MAX(at) FROM jwt_guard_failures WHERE at > ? "
                "GROUP BY client ORDER BY MAX(at) DESC, client LIMIT ?",
                (now - window, max(0, limit)),
            ).fetchall()
            return tuple(FailureCount(str(c), int(n), float(at)) for c, n, at in rows)

        return self._run(action)

    def clear_failures(self, client: str) -> int:
        def action(conn: sqlite3.Connection) -> int:
            with self._write(conn):
                cursor = conn.execute("DELETE FROM jwt_guard_failures WHERE client = ?", (client,))
            return int(cursor.rowcount)

        return self._run(action)
