"""Every jwt-guard management command (and each sessions subcommand) prints its help."""

from __future__ import annotations

import pytest
from django.core.management import load_command_class

from jwt_guard_core import admin_commands

COMMANDS = ["jwt_guard_keygen", "jwt_guard_keys", "jwt_guard_revoke", "jwt_guard_rotate_keys"]


@pytest.mark.parametrize("name", COMMANDS)
def test_each_command_prints_its_help_with_the_django_setting(name: str) -> None:
    text = load_command_class("jwt_guard_django", name).create_parser("manage.py", name)
    assert "JWT_GUARD['" in text.format_help()


@pytest.mark.parametrize("verb", [c.name for c in admin_commands.SESSION_COMMANDS])
def test_each_sessions_subcommand_prints_its_help(
    verb: str, capsys: pytest.CaptureFixture[str]
) -> None:
    command = load_command_class("jwt_guard_django", "jwt_guard_sessions")
    parser = command.create_parser("manage.py", "jwt_guard_sessions")
    assert "JWT_GUARD['SESSIONS']" in parser.format_help()
    with pytest.raises(SystemExit):
        parser.parse_args([verb, "--help"])
    assert f"jwt_guard_sessions {verb}" in capsys.readouterr().out
