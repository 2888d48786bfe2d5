"""USER_RESOLVER targets for test_user.py."""

from __future__ import annotations

from typing import Any

from jwt_guard_core import VerifiedToken


class ResolvedUser:
    is_authenticated = True

    def __init__(self, name: str) -> None:
        self.name = name

    def get_username(self) -> str:
        return self.name


def by_subject(token: VerifiedToken) -> Any:
    if token.subject == "nobody":
        return None
    return ResolvedUser(f"resolved:{token.subject}")


async def async_by_subject(token: VerifiedToken) -> Any:
    return ResolvedUser(f"async:{token.subject}")
