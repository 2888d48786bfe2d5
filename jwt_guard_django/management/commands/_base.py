"""What the jwt-guard management commands share: the issuing side, errors, output.

What each command does and prints is the core's (:mod:`jwt_guard_core.admin`,
shared with ``flask jwt-guard``); these commands parse options and write lines.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from jwt_guard_core import ConfigurationError
from jwt_guard_core.admin import Line, UsageError
from jwt_guard_core.signing import KeyStoreError

from ...issuing import Issuing, get_issuing


def issuing_or_error() -> Issuing:
    """The configured issuing side, or a ``CommandError`` naming the setting to fix."""
    try:
        return get_issuing()
    except ConfigurationError as exc:
        raise CommandError(f"configuration error: {exc}") from None
    except KeyStoreError as exc:
        raise CommandError(f"key store error: {exc}") from None


class IssuingCommand(BaseCommand):
    """Turns store errors raised while a command runs into ``CommandError``."""

    def execute(self, *args: Any, **options: Any) -> Any:
        try:
            return super().execute(*args, **options)
        except ConfigurationError as exc:
            raise CommandError(f"configuration error: {exc}") from None
        except KeyStoreError as exc:
            raise CommandError(f"key store error: {exc}") from None
        except UsageError as exc:
            raise CommandError(str(exc)) from None

    def write(self, lines: list[Line]) -> None:
        """Print the core's lines, success and warning lines styled."""
        styles = {"success": self.style.SUCCESS, "warning": self.style.WARNING}
        for line in lines:
            self.stdout.write(styles[line.tone](line.text) if line.tone else line.text)
