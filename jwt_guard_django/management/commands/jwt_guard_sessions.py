"""``manage.py jwt_guard_sessions list | revocations | revoke-family | logout-subject |
failed-attempts | clear-attempts``: operate the sessions of ``JWT_GUARD["SESSIONS"]``.

The same operations as ``flask jwt-guard sessions ...`` and the admin's
actions, on every backend; what each does and prints is
:mod:`jwt_guard_core.admin`'s.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import CommandError

from jwt_guard_core import StateUnavailable, admin

from ...sessions import get_sessions
from ._base import IssuingCommand


class Command(IssuingCommand):
    help = (
        "Operate the sessions of JWT_GUARD['SESSIONS'] (any backend): list sessions, "
        "revocation rules and failed attempts; revoke a session, log a subject out "
        "everywhere, clear a client's failed attempts."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        verbs = parser.add_subparsers(dest="verb", required=True, metavar="COMMAND")
        listing = verbs.add_parser("list", help="sessions not yet expired, newest first")
        listing.add_argument("--subject", help="only this subject's sessions")
        revocations = verbs.add_parser("revocations", help="the revocation rules in force")
        failures = verbs.add_parser("failed-attempts", help="clients with failed attempts")
        for sub in (listing, revocations, failures):
            sub.add_argument("--limit", type=int, default=admin.LISTING_LIMIT)
        verbs.add_parser("revoke-family", help="revoke one session").add_argument("session")
        verbs.add_parser("logout-subject", help="log a subject out everywhere").add_argument(
            "subject"
        )
        verbs.add_parser("clear-attempts", help="forget a client's failed attempts").add_argument(
            "client"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        verb = options["verb"]
        limit = options.get("limit", admin.LISTING_LIMIT)
        if limit is not None and not 1 <= limit <= 10_000:
            raise CommandError("--limit is a number from 1 to 10000")
        side = get_sessions().side
        try:
            lines = admin.sessions_verb(
                side,
                verb,
                subject=options.get("subject"),
                session=options.get("session", ""),
                client=options.get("client", ""),
                limit=limit,
            )
        except StateUnavailable as exc:
            raise CommandError(f"the session store is unavailable: {exc}") from None
        self.write(lines)
