"""``manage.py jwt_guard_revoke``: revoke a token, a session or a subject's sessions."""

from ._base import command

Command = command("revoke")
