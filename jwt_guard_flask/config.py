"""``app.config`` -> the core's settings, validated once at ``init_app``.

Every key, its default and its validation are the core's
(:mod:`jwt_guard_core.settings.schema`); the Flask spelling is
``JWT_GUARD_NAME``. A bad value raises
:class:`~jwt_guard_core.ConfigurationError` naming the key to fix.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jwt_guard_core import GuardConfig
from jwt_guard_core.settings import GuardSettings, RequestSettings, adapter_defaults, findings

__all__ = ["DEFAULTS", "FlaskSettings", "Loaded", "load", "read"]

#: Every key with its default, in the order docs/flask.md lists them (the core's schema).
DEFAULTS: Mapping[str, Any] = adapter_defaults("flask")

#: The adapter's request settings (where tokens are found, cookies, CSRF, realm).
FlaskSettings = RequestSettings


@dataclass(frozen=True)
class Loaded:
    """What :func:`load` returns: core config, request settings, warnings to log, the settings."""

    config: GuardConfig
    settings: RequestSettings
    warnings: tuple[str, ...]
    parsed: GuardSettings


def read(config: Mapping[str, Any]) -> GuardSettings:
    """The ``JWT_GUARD_*`` keys of ``config`` read against the schema (not validated yet)."""
    return GuardSettings.from_mapping(config, "flask")


def load(config: Mapping[str, Any], *, revocation: Any = None) -> Loaded:
    """Validate every ``JWT_GUARD_*`` key of ``config`` and build the core config.

    ``revocation`` is the verifier's revocation check unless
    ``JWT_GUARD_REVOCATION`` is set (the sessions' one).
    """
    parsed = read(config)
    settings = parsed.request
    guard_config = parsed.guard_config(revocation=revocation)
    warnings = tuple(f.message for f in findings(parsed) if not f.error)
    return Loaded(config=guard_config, settings=settings, warnings=warnings, parsed=parsed)
