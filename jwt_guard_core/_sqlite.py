"""What the SQLite-backed stores share about their connection pools."""

from __future__ import annotations

import sqlite3

__all__ = ["close_all"]


def close_all(connections: list[sqlite3.Connection]) -> None:
    """Close every connection in ``connections`` and empty the list (in place).

    Also the ``weakref.finalize`` callback of a pool: a store dropped without
    ``close()`` still closes its idle connections (Python 3.13 reports
    unclosed databases).
    """
    for conn in connections:
        conn.close()
    connections.clear()
