"""The ``JWT_GUARD`` settings dict, read against the core's schema once and kept.

:data:`conf` reads ``settings.JWT_GUARD`` into one frozen
:class:`~jwt_guard_core.settings.GuardSettings` on first use and keeps it
until Django's ``setting_changed`` signal says ``JWT_GUARD`` changed
(DRF's ``api_settings`` does the same), so ``override_settings`` and
pytest-django's ``settings`` fixture work and a request reads no settings.
Every key, its default and its validation are the core's
(:mod:`jwt_guard_core.settings.schema`); this module only says that the
Django spelling is ``JWT_GUARD["KEY"]``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

from jwt_guard_core import ConfigurationError
from jwt_guard_core.settings import GuardSettings, RequestSettings, adapter_defaults
from jwt_guard_core.settings.schema import SETTINGS

__all__ = ["DEFAULTS", "Settings", "conf", "improperly_configured"]

#: Every top-level ``JWT_GUARD`` key with its default (from the core's schema).
DEFAULTS: Mapping[str, Any] = adapter_defaults("django")
_CANONICAL = {s.django: s.name for s in SETTINGS if s.django and "." not in s.name}


def improperly_configured(exc: ConfigurationError) -> ImproperlyConfigured:
    """A core configuration error as Django's, named under ``JWT_GUARD``."""
    named = exc.setting.startswith("JWT_GUARD")
    return ImproperlyConfigured(str(exc) if named else f"JWT_GUARD: {exc}")


class Settings:
    """``settings.JWT_GUARD`` read once; ``conf.LEEWAY`` style access to any key."""

    def __init__(self) -> None:
        self._parsed: GuardSettings | None = None
        self._values: dict[str, Any] = {}

    @property
    def raw(self) -> Mapping[str, Any]:
        """The ``JWT_GUARD`` dict as configured (empty when absent or not a dict)."""
        value = getattr(settings, "JWT_GUARD", None)
        return value if isinstance(value, Mapping) else {}

    @property
    def parsed(self) -> GuardSettings:
        """The settings read against the schema (never raises; validated on use)."""
        parsed = self._parsed
        if parsed is None:
            parsed = self._parsed = GuardSettings.from_mapping(self.raw, "django")
        return parsed

    @property
    def request(self) -> RequestSettings:
        """Where tokens are found and how refusals look, validated."""
        try:
            return self.parsed.request
        except ConfigurationError as exc:
            raise improperly_configured(exc) from exc

    def reset(self) -> None:
        """Forget what was read; the next use reads ``settings.JWT_GUARD`` again."""
        self._parsed = None
        self._values = {}

    def kept(self, key: str, compute: Callable[[], Any]) -> Any:
        """``compute()``, a value made from the settings, kept until they change."""
        values = self._values
        if key not in values:
            values[key] = compute()
        return values[key]

    def resolved(self, name: str) -> Any:
        """A setting (canonical name) with a dotted path imported, kept until settings change."""
        return self.kept(f"resolved:{name}", lambda: self.parsed.resolved(name))

    def value(self, name: str) -> Any:
        """A setting (canonical name) as given or defaulted, kept until settings change."""
        return self.kept(f"value:{name}", lambda: self.parsed.get(name))

    def get(self, name: str) -> Any:
        """One key's value, or its default."""
        return self.raw.get(name, DEFAULTS[name])

    def __getattr__(self, key: str) -> Any:
        # conf.LEEWAY: the value as its schema reader reads it (a timedelta
        # in seconds, a list as a tuple), or as given when it does not read;
        # the system checks report that.
        name = _CANONICAL.get(key)
        if name is None:
            raise AttributeError(key)
        return self.kept(key, lambda: self._read(name))

    def _read(self, name: str) -> Any:
        try:
            return self.parsed.read(name)
        except ConfigurationError:
            return self.parsed.get(name)


conf = Settings()


@receiver(setting_changed)
def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == "JWT_GUARD":
        conf.reset()
