"""``settings.JWT_GUARD`` read once against the core's schema, and what is served from it.

:data:`conf` and :data:`served` keep what they read and built until Django's
``setting_changed`` says ``JWT_GUARD`` changed, so ``override_settings``
works and a request reads no settings (docs/django.md).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import NoReverseMatch, reverse

from jwt_guard_core import ConfigurationError
from jwt_guard_core.served import Served
from jwt_guard_core.serving import ServedSessions, scopes_setting
from jwt_guard_core.settings.cached import CachedSettings as Settings
from jwt_guard_core.settings.schema import group_defaults
from jwt_guard_core.settings.sides import open_sessions

if TYPE_CHECKING:
    from jwt_guard_core.sessions import AsyncSessionStore, CookiePolicy
    from jwt_guard_core.sessions.endpoints import SessionEndpoints


def improperly_configured(exc: ConfigurationError) -> ImproperlyConfigured:
    """A core configuration error as Django's, named under ``JWT_GUARD``."""
    named = exc.setting.startswith("JWT_GUARD")
    return ImproperlyConfigured(str(exc) if named else f"JWT_GUARD: {exc}")


conf = Settings("django", lambda: getattr(settings, "JWT_GUARD", None), improperly_configured)
#: Every top-level ``JWT_GUARD`` key with its default (from the core's schema).
DEFAULTS = conf.defaults
#: Every ``JWT_GUARD["SESSIONS"]`` key with its default.
SESSIONS_DEFAULTS: Mapping[str, Any] = group_defaults("sessions", "django")


def _orm_face(store: Any) -> AsyncSessionStore:
    from jwt_guard_core.sessions import AsyncSessionStore

    # The ORM's connections are per thread: the thread-sensitive executor keeps
    # them on the thread that owns them (and, in tests, on the test's transaction).
    return AsyncSessionStore(
        store, offload=lambda call: sync_to_async(call, thread_sensitive=True)()
    )


class Sessions(ServedSessions):
    """The core's session side, plus the ``django`` backend, ``SCOPES`` and Django's CSRF cookie."""

    def __init__(self) -> None:
        parsed = conf.parsed
        values = {**SESSIONS_DEFAULTS, **(parsed.group("sessions") or {})}
        name = parsed.name_for("sessions")

        def django_store() -> Any:
            from .store import DjangoSessionStore

            return DjangoSessionStore(using=str(values["DATABASE"]))

        # Django's own CSRF cookie protects cookie requests; the core's
        # double-submit cookie is not set, only named.
        csrf = getattr(settings, "CSRF_COOKIE_NAME", "csrftoken")
        more = {"django": django_store}
        side = open_sessions(
            parsed, served.issuing, csrf_cookie=csrf, more=more, amore={"django": _orm_face}
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


#: The verifier, resource policy, session and issuing sides of the current ``JWT_GUARD``.
served = Served(
    lambda: conf.parsed,
    Sessions,
    logger=logging.getLogger("jwt_guard.django"),
    refused=improperly_configured,
)


@receiver(setting_changed)
def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == "JWT_GUARD":
        conf.reset()
        served.reset()
