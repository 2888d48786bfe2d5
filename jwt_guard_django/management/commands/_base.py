"""What the jwt-guard management commands share: the issuing side, errors, key listing."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from jwt_guard_core import ConfigurationError
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


def iso(value: float | None) -> str:
    if value is None:
        return "-"
    return datetime.fromtimestamp(value, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class IssuingCommand(BaseCommand):
    """Turns store errors raised while a command runs into ``CommandError``."""

    def execute(self, *args: Any, **options: Any) -> Any:
        try:
            return super().execute(*args, **options)
        except ConfigurationError as exc:
            raise CommandError(f"configuration error: {exc}") from None
        except KeyStoreError as exc:
            raise CommandError(f"key store error: {exc}") from None
