"""``manage.py jwt_guard_rotate_keys [--emergency | --scheduled]``."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from jwt_guard_core import admin

from ._base import IssuingCommand, issuing_or_error


class Command(IssuingCommand):
    help = (
        "Rotate the signing key configured by JWT_GUARD['ISSUING']. Without options a new "
        "key signs from now on and the old one stays published until its tokens expire. "
        "--emergency (for a leaked key) removes every old key from the JWKS at once: every "
        "token issued before now stops verifying. --scheduled does only what the rotation "
        "schedule says is due (run it from cron when AUTO_ROTATE is off)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument(
            "--emergency",
            action="store_true",
            help="drop every previous key now and invalidate every token issued before now",
        )
        mode.add_argument(
            "--scheduled",
            action="store_true",
            help="only run what the schedule says is due (publish, activate, drop)",
        )
        parser.add_argument("--reason", help="why, for the security event of an emergency rotation")

    def handle(self, *args: Any, **options: Any) -> None:
        keys = issuing_or_error().keys
        self.write(
            admin.rotate(
                keys,
                emergency=options["emergency"],
                scheduled=options["scheduled"],
                reason=options["reason"],
            )
        )
