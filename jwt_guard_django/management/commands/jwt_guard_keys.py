"""``manage.py jwt_guard_keys [--json]``: kids and their state, never key material."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from jwt_guard_core.cli import key_rows, key_table

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
        infos = keys.list_keys()
        epoch = keys.emergency_epoch
        if options["json"]:
            document = {"keys": key_rows(infos), "emergency_epoch": epoch}
            self.stdout.write(json.dumps(document, indent=2))
            return
        if not infos:
            self.stdout.write("no keys yet; run manage.py jwt_guard_keygen")
            return
        for line in key_table(infos, epoch):
            self.stdout.write(line)
