"""``manage.py jwt_guard_keys [--json]``: kids and their state, never key material."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from ._base import IssuingCommand, iso, issuing_or_error, key_row


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
            document = {"keys": [key_row(i) for i in infos], "emergency_epoch": epoch}
            self.stdout.write(json.dumps(document, indent=2))
            return
        if not infos:
            self.stdout.write("no keys yet; run manage.py jwt_guard_keygen")
            return
        rows = [("KID", "ALG", "STATE", "CREATED", "ACTIVATED", "RETIRED")]
        rows += [
            (i.kid, i.algorithm, i.state, iso(i.created_at), iso(i.activated_at), iso(i.retired_at))
            for i in infos
        ]
        widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
        for row in rows:
            cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            self.stdout.write("  ".join(cells).rstrip())
        if epoch is not None:
            self.stdout.write(f"last emergency rotation: {iso(epoch)}")
