"""An oversized session request body is refused before it is read (security review).

The view hands ``Content-Length`` to the core's ``SessionRequest``, so a
1 MiB body to the login, refresh or logout view is a 400
``invalid_request`` without a byte of it being read from the client.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import RequestFactory

from jwt_guard_django import session_views

from .session_fixtures import guard_sessions, key_dir

__all__ = ["guard_sessions", "key_dir"]

MIB = 1 << 20


class CountingStream:
    """A request body of ``size`` bytes that counts what the server reads."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.read_bytes = 0

    def read(self, size: int = -1) -> bytes:
        left = self.size - self.read_bytes
        count = left if size is None or size < 0 else min(size, left)
        self.read_bytes += count
        return b"{" + b" " * (count - 1) if count else b""

    def readline(self, size: int = -1) -> bytes:
        return self.read(size)

    def seekable(self) -> bool:
        # Django 6 asks before reading a body whose length it cannot trust.
        return False

    def close(self) -> None:
        pass


def _post(path: str, stream: CountingStream, length: str) -> Any:
    request = RequestFactory().post(path, data=b"{}", content_type="application/json")
    request.META["CONTENT_LENGTH"] = length
    request._stream = stream  # type: ignore[attr-defined]
    return request


@pytest.mark.parametrize(
    ("view", "path"),
    [
        (session_views.obtain_view, "/auth/token/"),
        (session_views.refresh_view, "/auth/refresh/"),
        (session_views.logout_view, "/auth/logout/"),
    ],
)
def test_a_one_mib_body_is_refused_before_it_is_read(guard_sessions, view, path, db):
    guard_sessions()
    stream = CountingStream(MIB)
    response = view(_post(path, stream, str(MIB)))
    assert response.status_code == 400
    assert json.loads(response.content) == {
        "error": "invalid_request",
        "error_description": "The body is too large.",
    }
    assert "WWW-Authenticate" not in response
    assert stream.read_bytes == 0


@pytest.mark.parametrize("length", ["", "-1"])
def test_a_content_length_that_is_not_a_length_is_ignored_not_a_500(guard_sessions, length, db):
    guard_sessions()
    stream = CountingStream(MIB)
    response = session_views.obtain_view(_post("/auth/token/", stream, length))
    assert response.status_code == 400
    assert json.loads(response.content)["error"] == "invalid_request"
