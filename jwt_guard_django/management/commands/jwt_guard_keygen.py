"""``manage.py jwt_guard_keygen``: create the key store and its first signing key."""

from __future__ import annotations

from typing import Any

from ._base import IssuingCommand, issuing_or_error


class Command(IssuingCommand):
    help = (
        "Create the first signing key in the store configured by JWT_GUARD['ISSUING']. "
        "Does nothing when the store already holds keys (use jwt_guard_rotate_keys to "
        "replace the signing key), so it is safe to run on every deployment."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        keys = issuing_or_error().keys
        existing = keys.list_keys()
        if existing:
            active = next((k for k in existing if k.state == "active"), None)
            where = f"; active key {active.kid} ({active.algorithm})" if active else ""
            self.stdout.write(
                f"the key store already holds {len(existing)} key(s){where}; nothing generated"
            )
            return
        outcome = keys.maybe_rotate()
        info = keys.active_key()
        verb = "created" if outcome.created == info.kid else "found"
        self.stdout.write(self.style.SUCCESS(f"{verb} signing key {info.kid} ({info.algorithm})"))
