"""``flask jwt-guard ...``: the core's :mod:`~jwt_guard_core.admin_commands` spelled for click,
and ``check`` (docs/flask.md). Key material is never printed."""

from __future__ import annotations

from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from jwt_guard_core import admin_commands as table
from jwt_guard_core.check_report import check_report

from ._sessions import get_sessions
from ._startup import check_routes
from .config import read
from .issuing import get_key_manager

__all__ = ["jwt_guard_cli", "register_cli"]

_SETTINGS = {"issuing": "JWT_GUARD_ISSUING_*", "sessions": "JWT_GUARD_SESSIONS_*"}
_TYPES = {"time": float, "limit": click.IntRange(*table.LIMIT_RANGE)}

jwt_guard_cli = AppGroup(
    "jwt-guard",
    help="Manage the signing keys (JWT_GUARD_ISSUING_*) and sessions (JWT_GUARD_SESSIONS_*).",
)


def register_cli(app: Flask) -> None:
    """Add the ``jwt-guard`` command group to ``app.cli`` (once)."""
    if jwt_guard_cli.name not in app.cli.commands:
        app.cli.add_command(jwt_guard_cli)


def _open(what: str) -> Any:
    if what == "keys":
        return get_key_manager()
    try:
        return get_sessions().side
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None


def _param(option: table.Option) -> click.Parameter:
    if option.positional:
        return click.Argument([option.flag])
    if option.kind == "switch":
        return click.Option([option.flag], is_flag=True, help=option.help)
    kind = _TYPES.get(option.kind, click.STRING)
    shown = option.default is not None
    return click.Option(
        [option.flag], type=kind, default=option.default, show_default=shown, help=option.help
    )


def _add(group: AppGroup, command: table.Command) -> None:
    """Add the core's ``command`` to ``group``: its errors one line, exit 2 for usage, else 1."""

    def run(**options: Any) -> None:
        try:
            lines = table.run(command, _open, "flask jwt-guard ", options)
        except table.Failed as exc:
            raise (click.UsageError if exc.usage else click.ClickException)(str(exc)) from None
        for line in lines:
            click.echo(line.text)

    params = [_param(option) for option in command.options]
    text = command.help.format(**_SETTINGS)
    short = text.partition(". ")[0].rstrip(".")
    group.command(command.name, help=text, short_help=short, params=params)(run)


sessions_cli = AppGroup("sessions", help=table.SESSIONS_HELP.format(**_SETTINGS))
jwt_guard_cli.add_command(sessions_cli)
for _command in table.COMMANDS.values():
    _add(jwt_guard_cli, _command)
for _command in table.SESSION_COMMANDS:
    _add(sessions_cli, _command)


@jwt_guard_cli.command("check")
def check() -> None:
    """Report what is wrong or risky, fetching every remote key set now; exit 1 on an error.

    Settings, routes and remote key sets, as ``manage.py check --deploy`` (docs/flask.md).
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    guard = app.extensions.get("jwt_guard")
    if guard is None:
        raise click.ClickException("jwt-guard is not registered on this app (JWTGuard(app))")
    parsed = read(app.config)
    lines, failure = check_report(parsed, check_routes(app, parsed), guard.verifier(app).config)
    click.echo("\n".join(lines))
    if failure:
        raise click.ClickException(failure)
