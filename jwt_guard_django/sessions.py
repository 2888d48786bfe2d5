"""``JWT_GUARD["SESSIONS"]`` to the core's session services: built on first use, shared, and
rebuilt when ``JWT_GUARD`` changes (``override_settings``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from functools import cached_property
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings as django_settings
from django.core.signals import setting_changed
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from jwt_guard_core import ConfigurationError, VerifiedToken, Verifier
from jwt_guard_core.serving import ServedSessions, Shared, async_sessions, scopes_setting
from jwt_guard_core.sessions import AsyncSessionStore, CookiePolicy
from jwt_guard_core.sessions.endpoints import SessionEndpoints
from jwt_guard_core.settings.schema import group_defaults
from jwt_guard_core.settings.sides import open_sessions

from .conf import Settings, conf

__all__ = [
    "SESSIONS_DEFAULTS",
    "Sessions",
    "aget_sessions",
    "async_views",
    "averify_function",
    "build_sessions",
    "get_sessions",
    "sessions_configured",
    "verify_function",
]

#: Every ``JWT_GUARD["SESSIONS"]`` key with its default (the core's schema; docs/django.md).
SESSIONS_DEFAULTS: Mapping[str, Any] = group_defaults("sessions", "django")


def _orm_face(store: Any) -> AsyncSessionStore:
    # The ORM's connections are per thread: the thread-sensitive executor keeps
    # them on the thread that owns them (and, in tests, on the test's transaction).
    return AsyncSessionStore(
        store, offload=lambda call: sync_to_async(call, thread_sensitive=True)()
    )


class Sessions(ServedSessions):
    """The core's session side, plus the ``django`` backend, ``SCOPES`` and Django's CSRF cookie."""

    def __init__(self, settings: Settings = conf) -> None:
        from .issuing import get_issuing

        parsed = settings.parsed
        values = {**SESSIONS_DEFAULTS, **(parsed.group("sessions") or {})}
        name = parsed.name_for("sessions")

        def django_store() -> Any:
            from .store import DjangoSessionStore

            return DjangoSessionStore(using=str(values["DATABASE"]))

        # Django's own CSRF cookie protects cookie requests; the core's
        # double-submit cookie is not set, only named.
        csrf = getattr(django_settings, "CSRF_COOKIE_NAME", "csrftoken")
        more = {"django": django_store}
        side = open_sessions(
            parsed, get_issuing, csrf_cookie=csrf, more=more, amore={"django": _orm_face}
        )
        super().__init__(side, lambda request: request.META.get("REMOTE_ADDR"))
        self._path = (values["REFRESH_COOKIE_PATH"], name("REFRESH_COOKIE_PATH"))
        #: ``scopes_for(user)``: the scopes a login of ``user`` is granted.
        self.scopes_for = scopes_setting(values["SCOPES"], name("SCOPES"))

    @cached_property
    def cookie_policy(self) -> CookiePolicy:
        """The core's cookie policy; the refresh cookie's path is the refresh route."""
        # Built on first use: the URLconf may not be loaded when settings are read.
        path, setting = self._path
        if path is None:
            try:
                path = reverse("jwt_guard_sessions:refresh")
            except NoReverseMatch:
                hint = "include jwt_guard_django.session_urls in your URLconf or set the path"
                raise ConfigurationError(setting, hint) from None
        return self.policy_at(path, setting)

    @cached_property
    def endpoints(self) -> SessionEndpoints:
        """The core's session endpoints; Django's CSRF cookie, not the core's, is used."""
        return self.side.endpoints(self.cookie_policy, csrf_cookie=False)


#: ``build_sessions(settings=conf)``: a new :class:`Sessions` (errors name the key).
build_sessions = Sessions
_shared = Shared(build_sessions)
#: The shared session services for the current settings, built on first use
#: (``aget_sessions``: the first build, which opens the store, in a thread).
get_sessions = _shared
aget_sessions = _shared.aget
setting_changed.connect(_shared.reset_when("JWT_GUARD"), weak=False)


def sessions_configured() -> bool:
    """Whether ``JWT_GUARD["SESSIONS"]`` is set."""
    return conf.raw.get("SESSIONS") is not None


def async_views() -> bool:
    """``SESSIONS["ASYNC"]``: whether :mod:`.session_urls` serves async views (no store opened)."""
    return async_sessions(conf.parsed)


def verify_function(request: HttpRequest, verifier: Verifier) -> Callable[[str], VerifiedToken]:
    """``verifier.verify`` behind the failed-verification rate limit when ``SESSIONS`` sets one."""
    if not sessions_configured():
        return verifier.verify
    return get_sessions().verify_function(request, verifier)


def averify_function(
    request: HttpRequest, verifier: Verifier
) -> Callable[[str], Awaitable[VerifiedToken]]:
    """Like :func:`verify_function` for ``averify``."""
    if not sessions_configured():
        return verifier.averify
    return get_sessions().averify_function(request, verifier)
