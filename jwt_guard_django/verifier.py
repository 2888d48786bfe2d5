"""``JWT_GUARD`` settings to one shared core :class:`~jwt_guard_core.Verifier`.

The verifier (and the remote key sets it holds, with their caches) is built
once and shared by every thread and task. It is rebuilt only when the
``JWT_GUARD`` setting changes (``override_settings``, pytest-django's
``settings`` fixture), via Django's ``setting_changed`` signal.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from django.core.signals import setting_changed
from django.dispatch import receiver

from jwt_guard_core import ConfigurationError, GuardConfig, KeySource, Verifier
from jwt_guard_core.sources import (
    awarm_config,
    config_health,
    config_key_sources,
    is_loopback_url,
    warm_config,
    warmable_key_sources,
)

from .conf import Settings, conf, improperly_configured

__all__ = [
    "awarm",
    "build_config",
    "get_verifier",
    "is_loopback_url",
    "key_set_health",
    "key_sources",
    "reset_verifier",
    "warm",
]

logger = logging.getLogger("jwt_guard.django")

_lock = threading.Lock()
_verifier: Verifier | None = None


def get_verifier() -> Verifier:
    """The shared verifier for the current ``JWT_GUARD`` settings.

    Raises :class:`~django.core.exceptions.ImproperlyConfigured` naming the
    bad setting; ``manage.py check`` reports the same problems at start-up.
    """
    global _verifier
    verifier = _verifier
    if verifier is None:
        with _lock:
            if _verifier is None:
                try:
                    _verifier = Verifier(build_config())
                except ConfigurationError as exc:
                    raise improperly_configured(exc) from exc
            verifier = _verifier
    return verifier


def reset_verifier() -> None:
    """Drop the shared verifier; the next request builds a new one from settings.

    The old verifier's remote key sets and introspection source close their HTTP
    clients.
    """
    global _verifier
    with _lock:
        old, _verifier = _verifier, None
    if old is not None:
        closable = [*warmable_key_sources(key_sources(old).values()), old.config.opaque_source]
        for source in closable:
            close = getattr(source, "close", None)
            if callable(close):
                close()


@receiver(setting_changed)
def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == "JWT_GUARD":
        reset_verifier()


def build_config(settings: Settings = conf) -> GuardConfig:
    """Translate ``JWT_GUARD`` into a :class:`~jwt_guard_core.GuardConfig` (the core reads it).

    Unless ``REVOCATION`` is set, the session views' revocation (``SESSIONS``)
    is the verifier's, so a logout is seen at once. ``KEY_SOURCE = "ISSUING"``
    makes the shared issuing key manager (:func:`~jwt_guard_django.issuing.get_key_manager`)
    the key source, opened on the first token. Raises
    :class:`~jwt_guard_core.ConfigurationError` naming the setting.
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
    """Fetch every remote key set now, so the first request does not wait.

    A failure is logged and not raised: the key set keeps retrying on
    demand, and requests get 503 until it succeeds.
    """
    warm_config((verifier or get_verifier()).config, logger)


async def awarm(verifier: Verifier | None = None) -> None:
    """Like :func:`warm`, without blocking the event loop."""
    await awarm_config((verifier or get_verifier()).config, logger)


def key_set_health(verifier: Verifier | None = None) -> dict[str, Any]:
    """Health of every key source, for a health-check endpoint.

    ``{"ok": bool, "key_sets": {issuer or "*": {...}}}``; a remote key set
    reports ``{"type": "remote", **its health()}``, a static one
    ``{"type": "static", "keys": n}``. ``ok`` is false while a key set is
    ``unavailable`` (requests it serves get 503).
    """
    return config_health((verifier or get_verifier()).config)
