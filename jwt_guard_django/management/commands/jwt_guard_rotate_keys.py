"""``manage.py jwt_guard_rotate_keys``: rotate the signing key."""

from ._base import command

Command = command("rotate")
