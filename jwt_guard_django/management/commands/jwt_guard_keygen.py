"""``manage.py jwt_guard_keygen``: create the key store and its first signing key."""

from __future__ import annotations

from typing import Any

from jwt_guard_core import admin

from ._base import IssuingCommand, issuing_or_error


class Command(IssuingCommand):
    help = (
        "Create the first signing key in the store configured by JWT_GUARD['ISSUING']. "
        "Does nothing when the store already holds keys (use jwt_guard_rotate_keys to "
        "replace the signing key), so it is safe to run on every deployment."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        self.write(admin.keygen(issuing_or_error().keys))
