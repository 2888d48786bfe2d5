"""``manage.py jwt_guard_keygen``: create the key store and its first signing key."""

from ._base import command

Command = command("keygen")
