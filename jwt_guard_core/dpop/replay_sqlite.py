"""DPoP ``jti`` replay records in an SQLite file, shared by processes on one machine.

One ``INSERT`` per proof inside ``BEGIN IMMEDIATE``: the write lock makes
"delete the expired record, insert, count the change" atomic across
processes, so of two workers given the same proof exactly one accepts it.
Expired rows are purged every few hundred writes. Put the file on a local
disk (SQLite's locking is unreliable over NFS).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import weakref
from pathlib import Path

from .._sqlite import close_all
from ..errors import ConfigurationError, StoreUnavailable

__all__ = ["SQLiteReplayStore"]

_SWEEP_EVERY = 256
_MAX_IDLE = 8
_SCHEMA = """
CREATE TABLE IF NOT EXISTS jwt_guard_dpop_jti (
    key TEXT PRIMARY KEY,
    expires_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS jwt_guard_dpop_jti_expires ON jwt_guard_dpop_jti (expires_at);
"""


class SQLiteReplayStore:
    """Seen DPoP proof ``jti`` values in the SQLite file ``path`` (created with mode 0600).

    ``timeout``: seconds a write waits for another process's lock.
    Implements :class:`~jwt_guard_core.dpop.ReplayStore`.
    """

    in_process = False

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = 5.0) -> None:
        text = os.fspath(path)
        if not text or text == ":memory:" or text.startswith("file:"):
            raise ConfigurationError("path", f"{text!r} is not accepted; give a database file")
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
            raise ConfigurationError("timeout", f"{timeout!r} is not a positive number of seconds")
        self._path = Path(text)
        if not self._path.parent.is_dir():
            raise ConfigurationError("path", f"the directory {str(self._path.parent)!r} is missing")
        self._timeout = float(timeout)
        self._lock = threading.Lock()
        self._idle: list[sqlite3.Connection] = []
        # A store dropped without close() (settings rebuilt, a test's app
        # discarded) still closes its idle connections: Python 3.13 reports
        # unclosed databases. The list is only ever changed in place.
        weakref.finalize(self, close_all, self._idle)
        self._pid = os.getpid()
        self._ready = False
        self._writes = 0

    def __repr__(self) -> str:
        return f"SQLiteReplayStore({str(self._path)!r})"

    def close(self) -> None:
        """Close the idle connections (the store stays usable and reopens on demand)."""
        with self._lock:
            idle = self._idle[:]
            self._idle.clear()
        close_all(idle)

    def _connection(self) -> sqlite3.Connection:
        with self._lock:
            if self._pid != os.getpid():
                # Never use a connection inherited through fork.
                self._idle.clear()
                self._pid = os.getpid()
            if self._idle:
                return self._idle.pop()
        if not self._path.exists():
            os.close(os.open(self._path, os.O_CREAT | os.O_WRONLY, 0o600))
        conn = sqlite3.connect(
            self._path, timeout=self._timeout, isolation_level=None, check_same_thread=False
        )
        with self._lock:
            if not self._ready:
                # Once per store, before any other connection of it writes: WAL
                # is kept in the file, and switching to it while a sibling
                # connection holds the write lock fails at once ("database is
                # locked") instead of waiting for the timeout.
                conn.execute("PRAGMA journal_mode=WAL")
                conn.executescript(_SCHEMA)
                self._ready = True
        return conn

    def first_use(self, key: str, *, expires_at: float, now: float) -> bool:
        conn: sqlite3.Connection | None = None
        try:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute(
                    "DELETE FROM jwt_guard_dpop_jti WHERE key = ? AND expires_at <= ?", (key, now)
                )
                inserted = conn.execute(
                    "INSERT OR IGNORE INTO jwt_guard_dpop_jti (key, expires_at) VALUES (?, ?)",
                    (key, expires_at),
                ).rowcount
                with self._lock:
                    self._writes += 1
                    sweep = self._writes % _SWEEP_EVERY == 0
                if sweep:
                    conn.execute("DELETE FROM jwt_guard_dpop_jti WHERE expires_at <= ?", (now,))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        except (sqlite3.Error, OSError) as exc:
            if conn is not None:
                conn.close()
            raise StoreUnavailable(
                f"the SQLite DPoP replay store failed ({type(exc).__name__})"
            ) from None
        with self._lock:
            if len(self._idle) < _MAX_IDLE and self._pid == os.getpid():
                self._idle.append(conn)
                conn = None
        if conn is not None:
            conn.close()
        return inserted == 1
