"""``JWT_GUARD["ISSUING"]`` to one shared core ``KeyManager`` and ``TokenIssuer``.

Read lazily on first use (a view, a management command, your own login
view calling :func:`get_token_issuer`), built once per process and shared by
every thread, and rebuilt when the ``JWT_GUARD`` setting changes
(``override_settings``, pytest-django's ``settings`` fixture). Keys,
rotation and the JWKS are the core's: this module only translates settings.

The passphrase that encrypts the keys at rest is read from an environment
variable (``PASSPHRASE_ENV``), never from the settings file: settings live
in version control, and a secret there is the incident this library exists
to prevent.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from jwt_guard_core import ConfigurationError
from jwt_guard_core.signing import FileKeyStore, KeyManager, KeyStore, TokenIssuer

from .conf import Settings, conf

__all__ = [
    "ISSUING_DEFAULTS",
    "Issuing",
    "get_issuing",
    "get_key_manager",
    "get_token_issuer",
    "reset_issuing",
]

#: Every ``JWT_GUARD["ISSUING"]`` key with its default (docs/django.md lists them).
ISSUING_DEFAULTS: Mapping[str, Any] = {
    "KEY_DIR": None,
    "REDIS_URL": None,
    "REDIS_PREFIX": "jwt_guard:signing",
    "PASSPHRASE_ENV": "JWT_GUARD_KEY_PASSPHRASE",
    "ALGORITHM": "ES256",
    "ALLOW_HMAC": False,
    "ISSUER": None,
    "AUDIENCE": None,
    "ACCESS_TOKEN_LIFETIME": 900,
    "MAX_TOKEN_LIFETIME": 3600,
    "ROTATION_INTERVAL": timedelta(days=30),
    "GRACE_PERIOD": 3600,
    "JWKS_MAX_AGE": 600,
    "PUBLISH_AHEAD": None,
    "AUTO_ROTATE": True,
    "JWKS_URI": None,
}

# Settings key -> the core parameter that reports it in a ConfigurationError.
_MANAGER_OPTIONS = {
    "ALGORITHM": "algorithm",
    "ALLOW_HMAC": "allow_hmac",
    "ROTATION_INTERVAL": "rotation_interval",
    "MAX_TOKEN_LIFETIME": "max_token_lifetime",
    "GRACE_PERIOD": "grace_period",
    "JWKS_MAX_AGE": "jwks_max_age",
    "PUBLISH_AHEAD": "publish_ahead",
}
_ISSUER_OPTIONS = {
    "ISSUER": "issuer",
    "AUDIENCE": "audience",
    "ACCESS_TOKEN_LIFETIME": "default_lifetime",
    "MAX_TOKEN_LIFETIME": "max_lifetime",
}
_STORE_OPTIONS = {"key_store": "REDIS_URL", "prefix": "REDIS_PREFIX"}


def setting_name(key: str) -> str:
    """How errors name an issuing key: ``JWT_GUARD['ISSUING']['ISSUER']``."""
    return f"JWT_GUARD['ISSUING'][{key!r}]"


@dataclass(frozen=True)
class Issuing:
    """The issuing side built from settings: the key manager, the token issuer, the JWKS URI."""

    keys: KeyManager
    issuer: TokenIssuer
    jwks_uri: str


def _renamed(exc: ConfigurationError, names: Mapping[str, str]) -> ConfigurationError:
    """The core names its parameters; the user needs the settings key to fix."""
    for key, parameter in names.items():
        if exc.setting == parameter:
            return ConfigurationError(setting_name(key), str(exc)[len(exc.setting) + 2 :])
    return exc


def _flag(issuing: Mapping[str, Any], key: str) -> bool:
    value = issuing.get(key, ISSUING_DEFAULTS[key])
    if not isinstance(value, bool):
        raise ConfigurationError(setting_name(key), f"{value!r} is not True or False")
    return value


def _store(issuing: Mapping[str, Any]) -> KeyStore:
    directory = issuing.get("KEY_DIR")
    url = issuing.get("REDIS_URL")
    if directory is not None and url is not None:
        raise ConfigurationError(
            setting_name("KEY_DIR"), "give KEY_DIR (one machine) or REDIS_URL (several), not both"
        )
    env = issuing.get("PASSPHRASE_ENV", ISSUING_DEFAULTS["PASSPHRASE_ENV"])
    if not isinstance(env, str) or not env:
        raise ConfigurationError(
            setting_name("PASSPHRASE_ENV"), f"{env!r} is not an environment variable name"
        )
    try:
        if url is not None:
            if not isinstance(url, str):
                raise ConfigurationError(setting_name("REDIS_URL"), "give a redis:// URL")
            from jwt_guard_core.signing import RedisKeyStore

            prefix = issuing.get("REDIS_PREFIX", ISSUING_DEFAULTS["REDIS_PREFIX"])
            return RedisKeyStore(url, prefix=prefix, passphrase_env=env)
        if directory is None:
            raise ConfigurationError(
                setting_name("KEY_DIR"),
                "no key store: set KEY_DIR (a private directory) or REDIS_URL",
            )
        if not isinstance(directory, str) and not hasattr(directory, "__fspath__"):
            raise ConfigurationError(setting_name("KEY_DIR"), f"{directory!r} is not a path")
        return FileKeyStore(directory, passphrase_env=env)
    except ConfigurationError as exc:
        if exc.setting in ("passphrase", "passphrase_env"):
            raise ConfigurationError(setting_name("PASSPHRASE_ENV"), str(exc)) from None
        raise _renamed(exc, {v: k for k, v in _STORE_OPTIONS.items()}) from None


def _clock(settings: Settings) -> Callable[[], float] | None:
    clock = settings.CLOCK
    if isinstance(clock, str):
        try:
            clock = import_string(clock)
        except ImportError as exc:
            raise ConfigurationError(
                "JWT_GUARD['CLOCK']", f"cannot import {clock!r}: {exc}"
            ) from None
    if clock is not None and not callable(clock):
        raise ConfigurationError("JWT_GUARD['CLOCK']", "must be a callable returning Unix time")
    return clock


def build_issuing(settings: Settings = conf) -> Issuing:
    """Translate ``JWT_GUARD["ISSUING"]`` into a core ``KeyManager`` and ``TokenIssuer``.

    Opens the key store (a missing passphrase or a world-readable key
    directory fails here). Raises :class:`~jwt_guard_core.ConfigurationError`
    whose ``setting`` names the key to fix.
    """
    issuing = settings.raw.get("ISSUING")
    if issuing is None:
        raise ConfigurationError(
            "JWT_GUARD['ISSUING']",
            "not configured: add an ISSUING dict with KEY_DIR (or REDIS_URL) and ISSUER",
        )
    if not isinstance(issuing, Mapping):
        raise ConfigurationError("JWT_GUARD['ISSUING']", "give a dict of issuing settings")
    unknown = sorted(str(k) for k in issuing if k not in ISSUING_DEFAULTS)
    if unknown:
        # A misspelt key would silently keep a default (a 30-day rotation
        # someone meant to shorten): refuse it.
        raise ConfigurationError(
            setting_name(unknown[0]),
            f"unknown key; known: {', '.join(sorted(ISSUING_DEFAULTS))}",
        )

    def get(key: str) -> Any:
        value = issuing.get(key, ISSUING_DEFAULTS[key])
        return value.total_seconds() if isinstance(value, timedelta) else value

    issuer_url = get("ISSUER")
    if not isinstance(issuer_url, str) or not issuer_url:
        raise ConfigurationError(
            setting_name("ISSUER"), "required: this service's URL, the iss of its tokens"
        )
    jwks_uri = get("JWKS_URI")
    if jwks_uri is None:
        # Derived from the issuer, not from the request's Host header: a
        # forged Host must not change where verifiers are sent for keys.
        jwks_uri = issuer_url.rstrip("/") + "/.well-known/jwks.json"
    elif not isinstance(jwks_uri, str) or not jwks_uri.startswith(("https://", "http://")):
        raise ConfigurationError(setting_name("JWKS_URI"), f"{jwks_uri!r} is not an absolute URL")

    clock = _clock(settings)
    auto_rotate = _flag(issuing, "AUTO_ROTATE")
    _flag(issuing, "ALLOW_HMAC")
    store = _store(issuing)
    manager_options = {param: get(key) for key, param in _MANAGER_OPTIONS.items()}
    if clock is not None:
        manager_options["clock"] = clock
    try:
        keys = KeyManager(store, auto_rotate=auto_rotate, **manager_options)
    except ConfigurationError as exc:
        raise _renamed(exc, _MANAGER_OPTIONS) from None
    try:
        issuer = TokenIssuer(keys, **{param: get(key) for key, param in _ISSUER_OPTIONS.items()})
    except ConfigurationError as exc:
        raise _renamed(exc, _ISSUER_OPTIONS) from None
    return Issuing(keys=keys, issuer=issuer, jwks_uri=jwks_uri)


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
