"""``manage.py jwt_guard_rotate_keys [--emergency | --scheduled]``."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import CommandError

from ._base import IssuingCommand, iso, issuing_or_error


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
        if options["reason"] is not None and not options["emergency"]:
            raise CommandError("--reason is only used with --emergency")
        if options["emergency"]:
            info = keys.emergency_rotate(reason=options["reason"])
            self.stdout.write(
                self.style.WARNING(
                    f"emergency rotation: {info.kid} ({info.algorithm}) is the only key; every "
                    f"token issued before {iso(keys.emergency_epoch)} is invalid"
                )
            )
            return
        if options["scheduled"]:
            outcome = keys.maybe_rotate()
            if not outcome:
                self.stdout.write("nothing due")
                return
            for label, kid in (
                ("created", outcome.created),
                ("published", outcome.published),
                ("activated", outcome.activated),
                ("retired", outcome.retired),
            ):
                if kid:
                    self.stdout.write(f"{label} {kid}")
            for kid in outcome.dropped:
                self.stdout.write(f"dropped {kid}")
            return
        previous = keys.active_key() if keys.list_keys() else None
        info = keys.rotate()
        line = f"rotated: {info.kid} ({info.algorithm}) signs from now on"
        if previous is not None:
            line += f"; {previous.kid} is retired and stays published for its tokens"
        self.stdout.write(self.style.SUCCESS(line))
