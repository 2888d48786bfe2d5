"""``app.config`` -> the core's settings (:mod:`jwt_guard_core.settings.schema`), spelled
``JWT_GUARD_NAME`` and validated once at ``init_app``; a bad value raises naming the key."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jwt_guard_core.settings import GuardSettings, adapter_defaults
from jwt_guard_core.settings.cached import Loaded
from jwt_guard_core.settings.cached import load as _load

__all__ = ["DEFAULTS", "load", "read"]

#: Every key with its default, in the order docs/flask.md lists them (the core's schema).
DEFAULTS: Mapping[str, Any] = adapter_defaults("flask")


def read(config: Mapping[str, Any]) -> GuardSettings:
    """The ``JWT_GUARD_*`` keys of ``config`` read against the schema (not validated yet)."""
    return GuardSettings.from_mapping(config, "flask")


def load(config: Mapping[str, Any], *, revocation: Any = None) -> Loaded:
    """Validate every ``JWT_GUARD_*`` key of ``config``; the core config, settings, warnings."""
    return _load(config, "flask", revocation=revocation)
