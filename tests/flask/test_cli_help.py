"""Every ``flask jwt-guard`` command (and each sessions subcommand) prints its help."""

from __future__ import annotations

import pytest
from flask import Flask

from jwt_guard_core import admin_commands
from jwt_guard_flask.cli import register_cli


def _help(*args: str) -> str:
    app = Flask(__name__)
    register_cli(app)
    result = app.test_cli_runner().invoke(args=["jwt-guard", *args, "--help"])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("name", sorted(admin_commands.COMMANDS))
def test_each_command_prints_its_help_with_the_flask_keys(name: str) -> None:
    assert "JWT_GUARD_" in _help(name)


@pytest.mark.parametrize("verb", [c.name for c in admin_commands.SESSION_COMMANDS])
def test_each_sessions_subcommand_prints_its_help(verb: str) -> None:
    assert f"jwt-guard sessions {verb}" in _help("sessions", verb)
