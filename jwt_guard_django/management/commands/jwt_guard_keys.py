"""``manage.py jwt_guard_keys [--json]``: kids and their state, never key material."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from jwt_guard_core import admin

from ._base import IssuingCommand, issuing_or_error


class Command(IssuingCommand):
    help = (
        "List the signing keys of the store configured by JWT_GUARD['ISSUING']: kid, "
        "algorithm, state (next, active, retired) and times. Never prints key material."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--json", action="store_true", help="print JSON (times as Unix time)")

    def handle(self, *args: Any, **options: Any) -> None:
        keys = issuing_or_error().keys
        self.write(
            admin.list_keys(
                keys, as_json=options["json"], keygen_command="manage.py jwt_guard_keygen"
            )
        )
