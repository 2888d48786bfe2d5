"""The jwt-guard management commands, built from the core's table of commands.

What each command does and prints, its options and their help are
:mod:`jwt_guard_core.admin_commands`'s (shared with ``flask jwt-guard``);
this module spells them for argparse and turns their errors into
``CommandError``.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from jwt_guard_core import admin_commands as table

_SETTINGS = {"issuing": "JWT_GUARD['ISSUING']", "sessions": "JWT_GUARD['SESSIONS']"}
_TYPES = {"time": float, "limit": int}


def _open(what: str) -> Any:
    from ...issuing import get_issuing
    from ...sessions import get_sessions

    return get_issuing().keys if what == "keys" else get_sessions().side


def _add_options(parser: ArgumentParser, command: table.Command) -> None:
    group = parser.add_mutually_exclusive_group(required=command.one_required)
    for option in command.options:
        target: Any = group if option.exclusive else parser
        if option.kind == "switch":
            target.add_argument(option.flag, action="store_true", help=option.help)
        else:
            kind = _TYPES.get(option.kind, str)
            target.add_argument(option.flag, type=kind, default=option.default, help=option.help)


class _Command(BaseCommand):
    #: The core's commands this one runs, by verb ("" when it has none).
    commands: dict[str, table.Command]

    def add_arguments(self, parser: ArgumentParser) -> None:
        if "" in self.commands:
            _add_options(parser, self.commands[""])
            return
        verbs = parser.add_subparsers(dest="verb", required=True, metavar="COMMAND")
        for name, command in self.commands.items():
            _add_options(verbs.add_parser(name, help=command.help), command)

    def handle(self, *args: Any, **options: Any) -> None:
        command = self.commands[options.get("verb", "")]
        try:
            lines = table.run(command, _open, "manage.py jwt_guard_", options)
        except table.Failed as exc:
            raise CommandError(str(exc)) from None
        styles = {"success": self.style.SUCCESS, "warning": self.style.WARNING}
        for line in lines:
            self.stdout.write(styles[line.tone](line.text) if line.tone else line.text)


def command(name: str) -> type[BaseCommand]:
    """The ``manage.py jwt_guard_*`` command running the core's command ``name``."""
    if name == "sessions":
        commands = {c.name: c for c in table.SESSION_COMMANDS}
        text = table.SESSIONS_HELP
    else:
        commands = {"": table.COMMANDS[name]}
        text = commands[""].help
    return type("Command", (_Command,), {"help": text.format(**_SETTINGS), "commands": commands})
