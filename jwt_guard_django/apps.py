"""The Django app: registers the system checks and warms the key sets."""

from __future__ import annotations

from django.apps import AppConfig
from django.core import checks


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
        from .conf import served

        for check in (check_settings, check_key_sets, check_routes):
            checks.register(check, checks.Tags.security)
        # Fetches the key sets without WARM_ON_STARTUP: only under `check --deploy`.
        checks.register(check_key_sets_deploy, checks.Tags.security, deploy=True)
        served.warm_at_start()  # WARM_ON_STARTUP; a bad setting is logged for the checks
