"""``JWT_GUARD["ISSUING"]`` to one shared core ``KeyManager`` and ``TokenIssuer``.

Read lazily on first use (a view, a management command, your own login
view calling :func:`get_token_issuer`), built once per process and shared by
every thread, and rebuilt when the ``JWT_GUARD`` setting changes
(``override_settings``, pytest-django's ``settings`` fixture). Keys,
rotation, the JWKS and the validation of every key are the core's
(:mod:`jwt_guard_core.signing.settings`): this module only names the keys
the Django way and reads ``CLOCK``. The system check ``jwt_guard.E011``
calls :func:`check_issuing` at start-up.

The passphrase that encrypts the keys at rest is read from an environment
variable (``PASSPHRASE_ENV``), never from the settings file: settings live
in version control, and a secret there is the incident this library exists
to prevent.
"""

from __future__ import annotations

import threading
from typing import Any

from django.core.signals import setting_changed
from django.dispatch import receiver

from jwt_guard_core.settings import sides
from jwt_guard_core.signing import KeyManager, TokenIssuer
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


def setting_name(key: str) -> str:
    """How errors name an issuing key: ``JWT_GUARD['ISSUING']['ISSUER']``."""
    return f"JWT_GUARD['ISSUING'][{key!r}]"


def check_issuing(settings: Settings = conf) -> IssuingSettings:
    """Validate ``JWT_GUARD["ISSUING"]`` without opening the key store (the system check's job).

    Reads the passphrase variable and stats an existing key directory;
    reads no key and creates nothing. Raises
    :class:`~jwt_guard_core.ConfigurationError` naming the key to fix.
    """
    return sides.check_issuing(settings.parsed)


def build_issuing(settings: Settings = conf) -> Issuing:
    """Translate ``JWT_GUARD["ISSUING"]`` into a core ``KeyManager`` and ``TokenIssuer``.

    Opens the key store (a missing passphrase or a world-readable key
    directory fails here). Raises :class:`~jwt_guard_core.ConfigurationError`
    whose ``setting`` names the key to fix. ``JWT_GUARD["CLOCK"]`` is the
    issuing clock too. With ``SESSIONS`` set, the key manager records an
    emergency rotation in the sessions' revocation store (the one the
    verifier reads), so a leaked key's tokens are refused at once.
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


_lock = threading.Lock()
_issuing: Issuing | None = None


def get_issuing() -> Issuing:
    """The shared issuing side for the current settings, built on first use."""
    global _issuing
    current = _issuing
    if current is None:
        with _lock:
            if _issuing is None:
                _issuing = build_issuing()
            current = _issuing
    return current


def get_key_manager() -> KeyManager:
    """The shared :class:`~jwt_guard_core.signing.KeyManager` (JWKS, rotation, key listing)."""
    return get_issuing().keys


def get_token_issuer() -> TokenIssuer:
    """The shared :class:`~jwt_guard_core.signing.TokenIssuer`; call its ``issue_access_token``."""
    return get_issuing().issuer


def reset_issuing() -> None:
    """Forget the shared key manager and issuer; the next use reads the settings again."""
    global _issuing
    with _lock:
        _issuing = None


@receiver(setting_changed)
def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == "JWT_GUARD":
        reset_issuing()
