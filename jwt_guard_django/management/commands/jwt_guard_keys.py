"""``manage.py jwt_guard_keys``: kids and their state, never key material."""

from ._base import command

Command = command("keys")
