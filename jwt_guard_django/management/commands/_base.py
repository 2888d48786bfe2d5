"""The ``manage.py jwt_guard_*`` commands: :mod:`jwt_guard_core.admin_commands`, run by Django."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from jwt_guard_core import admin_commands as table

from ...issuing import get_issuing
from ...sessions import get_sessions

_SETTINGS = {"issuing": "JWT_GUARD['ISSUING']", "sessions": "JWT_GUARD['SESSIONS']"}


def _open(what: str) -> Any:
    return get_issuing().keys if what == "keys" else get_sessions().side


class _Command(BaseCommand):
    name: str

    def add_arguments(self, parser: ArgumentParser) -> None:
        table.add_arguments(parser, self.name)

    def handle(self, *args: Any, **options: Any) -> None:
        command = table.named(self.name, options)
        try:
            lines = table.run(command, _open, "manage.py jwt_guard_", options)
        except table.Failed as exc:
            raise CommandError(str(exc)) from None
        styles = {"success": self.style.SUCCESS, "warning": self.style.WARNING}
        for line in lines:
            self.stdout.write(styles[line.tone](line.text) if line.tone else line.text)


def command(name: str) -> type[BaseCommand]:
    """The ``manage.py jwt_guard_*`` command running the core's command ``name``."""
    text = table.SESSIONS_HELP if name == "sessions" else table.COMMANDS[name].help
    return type("Command", (_Command,), {"help": text.format(**_SETTINGS), "name": name})
