"""A second device of the demo user, played by the server, to show "log out everywhere".

The browser's own cookies are deleted by the logout routes, so after "log
out everywhere" the browser has nothing left to show being refused. The
second device is another session of the same user (as a phone would hold)
whose access token the server keeps and sends to the real API on request:
before the logout it is accepted, after it the API refuses it with reason
``revoked``, because every token of the subject issued before that second
is refused from then on.
"""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask

from jwt_guard_flask import get_sessions

from .attacks import decode_unverified, send_token
from .data import DemoUser
from .recorder import EventLog

__all__ = ["DEVICE_ADDR", "SecondDevice"]

#: The client address of the second device (TEST-NET-2, RFC 5737).
DEVICE_ADDR = "198.51.100.7"


class SecondDevice:
    """One extra session of the demo user, started by the same service a login uses."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._access_token: str | None = None

    def login(self, app: Flask, user: DemoUser) -> dict[str, Any]:
        """Start the device's session (the credentials check is the login route's job)."""
        tokens = get_sessions(app).refresh_tokens.issue(user.subject, scopes=user.scopes)
        with self._lock:
            self._access_token = tokens.access_token
        return {
            "signed_in": True,
            "session": tokens.family_id,
            "claims": decode_unverified(tokens.access_token)["claims"],
        }

    def call(self, app: Flask, log: EventLog) -> dict[str, Any] | None:
        """``GET /api/me`` with the device's access token; ``None`` before :meth:`login`."""
        with self._lock:
            token = self._access_token
        if token is None:
            return None
        return {
            "request": "GET /api/me with the second device's access token",
            **send_token(app, log, token, client_addr=DEVICE_ADDR),
        }
