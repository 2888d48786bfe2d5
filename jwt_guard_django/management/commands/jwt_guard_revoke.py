"""``manage.py jwt_guard_revoke --jti JTI [--expires-at T] | --session SID | --subject SUB``."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from jwt_guard_core import ConfigurationError, StateUnavailable, admin

from ...sessions import get_sessions


class Command(BaseCommand):
    help = (
        "Revoke access tokens and sessions in the store configured by JWT_GUARD['SESSIONS']: "
        "one token by jti, one session by its sid, or every session and token of a subject "
        "(log out everywhere). Every verifier sharing the store refuses them at once."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--jti", help="the jti claim of one access token")
        target.add_argument("--session", help="a session id (the sid claim; a refresh family)")
        target.add_argument("--subject", help="a subject (sub): all of its sessions and tokens")
        parser.add_argument(
            "--expires-at",
            type=float,
            help="with --jti: the token's exp (Unix time), so the entry expires with it; "
            "without it the entry is kept a year",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        targets = {key: options[key] for key in ("jti", "session", "subject", "expires_at")}
        try:
            admin.check_revoke_options(**targets)
            sessions = get_sessions()
            line = admin.revoke(sessions.revocation, sessions.refresh_tokens, **targets)
        except admin.UsageError as exc:
            raise CommandError(str(exc)) from None
        except ConfigurationError as exc:
            raise CommandError(f"configuration error: {exc}") from None
        except StateUnavailable as exc:
            raise CommandError(f"the session store is unavailable: {exc}") from None
        self.stdout.write(line.text)
