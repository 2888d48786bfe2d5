"""The Django app: registers the system checks and warms the key sets."""

from __future__ import annotations

import logging

from django.apps import AppConfig
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger("jwt_guard.django")


class JWTGuardConfig(AppConfig):
    """``"jwt_guard_django"`` in ``INSTALLED_APPS``."""

    name = "jwt_guard_django"
    label = "jwt_guard"
    verbose_name = "jwt-guard"

    def ready(self) -> None:
        from .checks import check_settings
        from .conf import conf

        checks.register(check_settings, checks.Tags.security)
        # The drf-spectacular extension is registered by the DRF authentication
        # module, which DRF imports only when a project uses it.
        # Read as given: the settings are parsed (and cached) on first use, not here.
        if conf.get("WARM_ON_STARTUP") is True:
            from .verifier import get_verifier, warm

            try:
                verifier = get_verifier()
            except ImproperlyConfigured as exc:
                # The system checks report it; start-up goes on so they can.
                logger.error("jwt-guard is misconfigured, key sets not warmed: %s", exc)
                return
            warm(verifier)
