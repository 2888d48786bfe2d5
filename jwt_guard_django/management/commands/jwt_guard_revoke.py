from ._base import command

Command = command("revoke")
