"""``JWT_GUARD`` to one shared :class:`~jwt_guard_core.sender.ResourcePolicy`.

DPoP, certificate binding, RFC 9728 metadata and the challenges of every
refusal. Built on first use (the DPoP replay store and nonce secrets are
kept for the process) and rebuilt when ``JWT_GUARD`` changes.
"""

from __future__ import annotations

import threading
from typing import Any

from django.core.signals import setting_changed
from django.dispatch import receiver

from jwt_guard_core import ConfigurationError
from jwt_guard_core.sender import ResourcePolicy
from jwt_guard_core.settings.resource import resource_policy

from .conf import conf, improperly_configured

__all__ = ["get_resource", "reset_resource"]

_lock = threading.Lock()
_policy: ResourcePolicy | None = None


def get_resource() -> ResourcePolicy:
    """The resource policy of the current ``JWT_GUARD`` (``ImproperlyConfigured`` naming a key)."""
    global _policy
    policy = _policy
    if policy is None:
        with _lock:
            if _policy is None:
                try:
                    _policy = resource_policy(conf.parsed)
                except ConfigurationError as exc:
                    raise improperly_configured(exc) from exc
            policy = _policy
    return policy


def reset_resource() -> None:
    """Forget the policy; the next request builds it from the settings again."""
    global _policy
    with _lock:
        _policy = None


@receiver(setting_changed)
def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == "JWT_GUARD":
        reset_resource()
