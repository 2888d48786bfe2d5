"""The Django app: registers the system checks and warms the key sets."""

from __future__ import annotations

import logging
from typing import Any

from django.apps import AppConfig
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger("jwt_guard.django")


class JWTGuardConfig(AppConfig):
    """``"jwt_guard_django"`` in ``INSTALLED_APPS``."""

    name = "jwt_guard_django"
    label = "jwt_guard"
    verbose_name = "jwt-guard"
    # What migration 0001 uses: without it a project that does not set
    # DEFAULT_AUTO_FIELD gets models.W042 and a spurious migration.
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from .checks import check_key_sets, check_key_sets_deploy, check_routes, check_settings
        from .conf import conf

        for check in (check_settings, check_key_sets, check_routes):
            checks.register(check, checks.Tags.security)
        # Fetches the key sets without WARM_ON_STARTUP: only under `check --deploy`.
        checks.register(check_key_sets_deploy, checks.Tags.security, deploy=True)
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

    def key_revocation(self) -> Any:
        """The sessions' revocation service when ``SESSIONS`` is set, else ``None``.

        Reached through the app config because the session side imports the
        issuing side, where an emergency key rotation denies the removed keys.
        """
        from .sessions import get_sessions, sessions_configured

        return get_sessions().revocation if sessions_configured() else None
