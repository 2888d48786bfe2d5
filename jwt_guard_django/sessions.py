"""``JWT_GUARD["SESSIONS"]`` to the core's session services: built on first use, shared, and
rebuilt when ``JWT_GUARD`` changes (docs/django.md)."""

from __future__ import annotations

from .conf import SESSIONS_DEFAULTS as SESSIONS_DEFAULTS
from .conf import Sessions as Sessions
from .conf import served

#: A new :class:`Sessions` for the current settings (errors name the key).
build_sessions = Sessions
#: The shared session services, built on first use (``aget_sessions``: in a thread).
get_sessions = served.sessions
aget_sessions = served.sessions.aget
#: ``SESSIONS["ASYNC"]``: whether :mod:`.session_urls` serves async views (no store opened).
async_views = served.async_sessions
