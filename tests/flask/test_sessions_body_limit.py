"""An oversized session request body is refused before it is read (security review).

The routes hand ``request.content_length`` to the core's ``SessionRequest``,
so a 1 MiB body streamed to the login, refresh or logout route is a 400
``invalid_request`` without a byte of it being read from the client.
"""

from __future__ import annotations

import io
from typing import Any

import pytest

from .session_fixtures import SessionsApp, key_dir, sessions_app

__all__ = ["key_dir", "sessions_app"]

MIB = 1 << 20


class CountingStream(io.BytesIO):
    """A request body of ``size`` bytes that counts what the server reads."""

    def __init__(self, size: int) -> None:
        super().__init__(b" " * size)
        self.read_bytes = 0

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self.read_bytes += len(data)
        return data

    def readline(self, size: int | None = -1) -> bytes:
        data = super().readline(size)
        self.read_bytes += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        count = super().readinto(buffer)
        self.read_bytes += count
        return count


@pytest.mark.parametrize("path", ["/auth/token", "/auth/refresh", "/auth/refresh/logout"])
def test_a_one_mib_body_is_refused_before_it_is_read(sessions_app: SessionsApp, path: str) -> None:
    app = sessions_app()
    stream = CountingStream(MIB)
    response = app.test_client().post(
        path, input_stream=stream, content_type="application/json", content_length=MIB
    )
    assert response.status_code == 400
    assert response.get_json() == {
        "error": "invalid_request",
        "error_description": "The body is too large.",
    }
    assert "WWW-Authenticate" not in response.headers
    assert stream.read_bytes == 0


def test_a_small_body_is_still_read(sessions_app: SessionsApp) -> None:
    app = sessions_app()
    response = app.test_client().post(
        "/auth/token", json={"username": "alice", "password": "wrong password"}
    )
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_grant"
