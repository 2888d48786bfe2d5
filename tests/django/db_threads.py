"""Closing a worker thread's database connection in tests, for real."""

from __future__ import annotations

from django.db import connection


def close_thread_connection() -> None:
    """Close this thread's connection, the raw SQLite handle included.

    ``connection.close()`` leaves an in-memory SQLite database (the test
    database) open; Python 3.13 then warns about an unclosed database when
    the handle is collected, in whatever later test that happens.
    """
    connection.close()
    if connection.connection is not None:
        connection.connection.close()
