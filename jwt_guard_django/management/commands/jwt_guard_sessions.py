"""``manage.py jwt_guard_sessions``: operate the sessions of ``JWT_GUARD["SESSIONS"]``."""

from ._base import command

Command = command("sessions")
