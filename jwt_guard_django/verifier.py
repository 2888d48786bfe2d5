"""``JWT_GUARD`` settings to one shared core :class:`~jwt_guard_core.Verifier`.

Built once and shared by every thread and task (with its remote key sets and
their caches); rebuilt when ``JWT_GUARD`` changes (``setting_changed``).
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.signals import setting_changed
from django.dispatch import receiver

from jwt_guard_core import ConfigurationError, GuardConfig, KeySource, Verifier
from jwt_guard_core.lazy import Lazy, close_verifier
from jwt_guard_core.sources import awarm_config, config_health, config_key_sources, warm_config

from .conf import Settings, conf, improperly_configured

__all__ = [
    "awarm",
    "build_config",
    "get_verifier",
    "key_set_health",
    "key_sources",
    "reset_verifier",
    "warm",
]

logger = logging.getLogger("jwt_guard.django")


def _build() -> Verifier:
    try:
        return Verifier(build_config())
    except ConfigurationError as exc:
        raise improperly_configured(exc) from exc


_verifier = Lazy(_build, close_verifier)


def get_verifier() -> Verifier:
    """The shared verifier for the current ``JWT_GUARD`` (``ImproperlyConfigured`` naming a key)."""
    return _verifier.get()


def reset_verifier() -> None:
    """Drop the shared verifier (its HTTP clients closed); the next request builds a new one."""
    _verifier.reset()


@receiver(setting_changed)
def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == "JWT_GUARD":
        reset_verifier()


def build_config(settings: Settings = conf) -> GuardConfig:
    """``JWT_GUARD`` as a :class:`~jwt_guard_core.GuardConfig` (``ConfigurationError``: a key).

    Unless ``REVOCATION`` is set, the session views' revocation (``SESSIONS``)
    is the verifier's, so a logout is seen at once. ``KEY_SOURCE = "ISSUING"``
    makes the shared issuing key manager the key source, opened on the first token.
    """
    parsed = settings.parsed
    revocation = None
    if parsed.get("revocation") is None and parsed.get("sessions") is not None:
        from .sessions import get_sessions

        revocation = get_sessions().revocation
    return parsed.guard_config(revocation=revocation, issuing_keys=_issuing_keys)


def _issuing_keys() -> KeySource:
    # Imported here: a service that issues no tokens never loads the signing side.
    from .issuing import get_key_manager

    return get_key_manager()


def key_sources(verifier: Verifier | None = None) -> dict[str | None, KeySource]:
    """The key source of each configured issuer (``None``: any issuer)."""
    return config_key_sources((verifier or get_verifier()).config)


def warm(verifier: Verifier | None = None) -> None:
    """Fetch every remote key set now; a failure is logged, not raised (requests get 503)."""
    warm_config((verifier or get_verifier()).config, logger)


async def awarm(verifier: Verifier | None = None) -> None:
    """Like :func:`warm`, without blocking the event loop."""
    await awarm_config((verifier or get_verifier()).config, logger)


def key_set_health(verifier: Verifier | None = None) -> dict[str, Any]:
    """``{"ok": bool, "key_sets": {issuer or "*": {...}}}``, for a health endpoint."""
    return config_health((verifier or get_verifier()).config)
