"""``settings.JWT_GUARD``, read against the core's schema once and kept.

:data:`conf` keeps what it read until Django's ``setting_changed`` signal
says ``JWT_GUARD`` changed (:class:`~jwt_guard_core.settings.cached.CachedSettings`),
so ``override_settings`` works and a request reads no settings.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

from jwt_guard_core import ConfigurationError
from jwt_guard_core.settings.cached import CachedSettings as Settings

__all__ = ["DEFAULTS", "Settings", "conf", "improperly_configured"]


def improperly_configured(exc: ConfigurationError) -> ImproperlyConfigured:
    """A core configuration error as Django's, named under ``JWT_GUARD``."""
    named = exc.setting.startswith("JWT_GUARD")
    return ImproperlyConfigured(str(exc) if named else f"JWT_GUARD: {exc}")


conf = Settings("django", lambda: getattr(settings, "JWT_GUARD", None), improperly_configured)
#: Every top-level ``JWT_GUARD`` key with its default (from the core's schema).
DEFAULTS = conf.defaults


@receiver(setting_changed)
def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == "JWT_GUARD":
        conf.reset()
