"""``JWT_GUARD`` to one shared :class:`~jwt_guard_core.sender.ResourcePolicy`.

DPoP, certificate binding, RFC 9728 metadata and the challenges of every
refusal; the DPoP replay store and nonce secrets are kept for the process.
"""

from __future__ import annotations

from typing import Any

from django.core.signals import setting_changed
from django.dispatch import receiver

from jwt_guard_core import ConfigurationError
from jwt_guard_core.lazy import Lazy
from jwt_guard_core.sender import ResourcePolicy
from jwt_guard_core.settings.resource import resource_policy

from .conf import conf, improperly_configured

__all__ = ["get_resource", "reset_resource"]


def _build() -> ResourcePolicy:
    try:
        return resource_policy(conf.parsed)
    except ConfigurationError as exc:
        raise improperly_configured(exc) from exc


_policy = Lazy(_build)
#: The resource policy of the current ``JWT_GUARD`` (``ImproperlyConfigured`` naming a key).
get_resource = _policy.get
#: Forget the policy; the next request builds it from the settings again.
reset_resource = _policy.reset


@receiver(setting_changed)
def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == "JWT_GUARD":
        reset_resource()
