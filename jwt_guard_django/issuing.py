"""``JWT_GUARD["ISSUING"]`` to one shared core ``KeyManager`` and ``TokenIssuer`` (docs/django.md).

Built on first use, rebuilt when ``JWT_GUARD`` changes. The key passphrase
comes from the environment (``PASSPHRASE_ENV``), never from settings.
"""

from __future__ import annotations

from typing import Any

from django.core.signals import setting_changed

from jwt_guard_core.serving import SharedIssuing
from jwt_guard_core.settings import sides
from jwt_guard_core.signing.settings import ISSUING_DEFAULTS, Issuing, IssuingSettings

from .conf import Settings, conf

__all__ = [
    "ISSUING_DEFAULTS",
    "Issuing",
    "build_issuing",
    "check_issuing",
    "get_issuing",
    "get_key_manager",
    "get_token_issuer",
    "reset_issuing",
]


def check_issuing(settings: Settings = conf) -> IssuingSettings:
    """Validate ``JWT_GUARD["ISSUING"]`` without opening the key store (system check E011)."""
    return sides.check_issuing(settings.parsed)


def build_issuing(settings: Settings = conf) -> Issuing:
    """The core ``KeyManager`` and ``TokenIssuer``; opens the key store.

    Raises :class:`~jwt_guard_core.ConfigurationError` naming the key to fix.
    With ``SESSIONS`` set, an emergency rotation is recorded in the sessions'
    revocation store (the verifier's), so a leaked key's tokens are refused at once.
    """
    return sides.open_issuing(settings.parsed, revocation=_key_revocation(settings))


def _key_revocation(settings: Settings) -> Any:
    if settings.raw.get("SESSIONS") is None:
        return None
    # The session side imports this module: reach it through the app config.
    from django.apps import apps

    try:
        app = apps.get_app_config("jwt_guard")
    except LookupError:  # jwt_guard_django not in INSTALLED_APPS
        return None
    return app.key_revocation()  # type: ignore[attr-defined]


_shared = SharedIssuing(build_issuing)
#: The shared issuing side, its key manager and token issuer: built on first use.
get_issuing = _shared
get_key_manager = _shared.keys
get_token_issuer = _shared.issuer
#: Forget them; the next use reads the settings again.
reset_issuing = _shared.reset
setting_changed.connect(_shared.reset_when("JWT_GUARD"), weak=False)
