"""One user, ``alice`` with the password in ``E2E_PASSWORD``, without a database."""

from __future__ import annotations

import hmac
import os
from typing import Any

from django.contrib.auth.models import User


class OneUserBackend:
    def authenticate(
        self, request: Any, username: str | None = None, password: str | None = None
    ) -> User | None:
        expected = os.environ["E2E_PASSWORD"].encode()
        if username == "alice" and hmac.compare_digest((password or "").encode(), expected):
            return User(pk=7, username="alice", is_active=True)
        return None

    def get_user(self, user_id: Any) -> None:
        return None
