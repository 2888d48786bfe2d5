"""``JWT_GUARD_ISSUING_*`` config keys to the core ``KeyManager`` and ``TokenIssuer``.

Built on first use for each app (the JWKS route, a ``flask jwt-guard``
command, your login view calling :func:`get_token_issuer`) and kept in
``app.extensions["jwt_guard_issuing"]``; keys changed after that are not
read. Keys, rotation and the JWKS are the core's: this module only
translates configuration.

The passphrase that encrypts the keys at rest comes from the environment
variable named by ``JWT_GUARD_ISSUING_PASSPHRASE_ENV``, never from
``app.config``: config files end up in version control.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import Flask, current_app

from jwt_guard_core import ConfigurationError
from jwt_guard_core.signing import FileKeyStore, KeyManager, KeyStore, TokenIssuer

from .config import DEFAULTS

__all__ = [
    "ISSUING_KEYS",
    "Issuing",
    "build_issuing",
    "get_issuing",
    "get_key_manager",
    "get_token_issuer",
]

PREFIX = "JWT_GUARD_ISSUING_"
EXTENSION = "jwt_guard_issuing"

#: Every issuing key; their defaults are in :data:`jwt_guard_flask.config.DEFAULTS`.
ISSUING_KEYS = tuple(k for k in DEFAULTS if k.startswith(PREFIX))

# Config key suffix -> the core parameter a ConfigurationError names.
_MANAGER_OPTIONS = {
    "ALGORITHM": "algorithm",
    "ALLOW_HMAC": "allow_hmac",
    "ROTATION_INTERVAL": "rotation_interval",
    "MAX_TOKEN_LIFETIME": "max_token_lifetime",
    "GRACE_PERIOD": "grace_period",
    "JWKS_MAX_AGE": "jwks_max_age",
    "PUBLISH_AHEAD": "publish_ahead",
    "AUTO_ROTATE": "auto_rotate",
}
_ISSUER_OPTIONS = {
    "ISSUER": "issuer",
    "AUDIENCE": "audience",
    "ACCESS_TOKEN_LIFETIME": "default_lifetime",
    "MAX_TOKEN_LIFETIME": "max_lifetime",
}
_lock = threading.Lock()


@dataclass(frozen=True)
class Issuing:
    """The issuing side of one app: key manager, token issuer and the public JWKS URI."""

    keys: KeyManager
    issuer: TokenIssuer
    jwks_uri: str


def _renamed(exc: ConfigurationError, names: Mapping[str, str]) -> ConfigurationError:
    """The core names its parameters; the user needs the config key to fix."""
    for suffix, parameter in names.items():
        if exc.setting == parameter:
            return ConfigurationError(PREFIX + suffix, str(exc)[len(exc.setting) + 2 :])
    return exc


class _Config:
    def __init__(self, config: Mapping[str, Any]) -> None:
        self._config = config

    def __call__(self, suffix: str) -> Any:
        value = self._config.get(PREFIX + suffix, DEFAULTS[PREFIX + suffix])
        # flask-jwt-extended users write timedelta(minutes=15); the core takes both.
        return value.total_seconds() if isinstance(value, timedelta) else value

    def flag(self, suffix: str) -> bool:
        value = self(suffix)
        if not isinstance(value, bool):
            # "False" read from an environment variable is truthy: refuse, never guess.
            raise ConfigurationError(PREFIX + suffix, f"{value!r} is not True or False")
        return value


def _store(get: _Config) -> KeyStore:
    directory, url = get("KEY_DIR"), get("REDIS_URL")
    if directory is not None and url is not None:
        raise ConfigurationError(
            PREFIX + "KEY_DIR", f"give {PREFIX}KEY_DIR or {PREFIX}REDIS_URL, not both"
        )
    env = get("PASSPHRASE_ENV")
    if not isinstance(env, str) or not env:
        raise ConfigurationError(
            PREFIX + "PASSPHRASE_ENV", f"{env!r} is not an environment variable name"
        )
    try:
        if url is not None:
            if not isinstance(url, str):
                raise ConfigurationError(PREFIX + "REDIS_URL", "give a redis:// URL")
            from jwt_guard_core.signing import RedisKeyStore

            return RedisKeyStore(url, prefix=get("REDIS_PREFIX"), passphrase_env=env)
        if directory is None:
            raise ConfigurationError(
                PREFIX + "KEY_DIR", f"no key store: set {PREFIX}KEY_DIR or {PREFIX}REDIS_URL"
            )
        if not isinstance(directory, str) and not hasattr(directory, "__fspath__"):
            raise ConfigurationError(PREFIX + "KEY_DIR", f"{directory!r} is not a path")
        return FileKeyStore(directory, passphrase_env=env)
    except ConfigurationError as exc:
        if exc.setting in ("passphrase", "passphrase_env"):
            raise ConfigurationError(PREFIX + "PASSPHRASE_ENV", str(exc)) from None
        raise _renamed(exc, {"REDIS_URL": "key_store", "REDIS_PREFIX": "prefix"}) from None


def build_issuing(config: Mapping[str, Any]) -> Issuing:
    """Translate the ``JWT_GUARD_ISSUING_*`` keys of ``config`` into core objects.

    Opens the key store (a missing passphrase or a world-readable key
    directory fails here). Raises :class:`~jwt_guard_core.ConfigurationError`
    naming the key to fix. ``JWT_GUARD_CLOCK`` is the issuing clock too.
    """
    unknown = sorted(
        k for k in config if isinstance(k, str) and k.startswith(PREFIX) and k not in DEFAULTS
    )
    if unknown:
        # A misspelt key would silently keep a default (a 30-day rotation
        # someone meant to shorten): refuse it.
        raise ConfigurationError(unknown[0], f"unknown key; known: {', '.join(ISSUING_KEYS)}")
    get = _Config(config)
    issuer_url = get("ISSUER")
    if not isinstance(issuer_url, str) or not issuer_url:
        raise ConfigurationError(
            PREFIX + "ISSUER", "required: this service's URL, the iss of its tokens"
        )
    jwks_uri = get("JWKS_URI")
    if jwks_uri is None:
        # Derived from the issuer, not from the request's Host header: a
        # forged Host must not change where verifiers are sent for keys.
        jwks_uri = issuer_url.rstrip("/") + "/.well-known/jwks.json"
    elif not isinstance(jwks_uri, str) or not jwks_uri.startswith(("https://", "http://")):
        raise ConfigurationError(PREFIX + "JWKS_URI", f"{jwks_uri!r} is not an absolute URL")
    clock: Callable[[], float] | None = config.get("JWT_GUARD_CLOCK")
    if clock is not None and not callable(clock):
        raise ConfigurationError("JWT_GUARD_CLOCK", "must be a callable returning Unix time")
    get.flag("AUTO_ROTATE")
    get.flag("ALLOW_HMAC")
    store = _store(get)
    options = {param: get(suffix) for suffix, param in _MANAGER_OPTIONS.items()}
    if clock is not None:
        options["clock"] = clock
    try:
        keys = KeyManager(store, **options)
    except ConfigurationError as exc:
        raise _renamed(exc, _MANAGER_OPTIONS) from None
    try:
        issuer = TokenIssuer(keys, **{p: get(s) for s, p in _ISSUER_OPTIONS.items()})
    except ConfigurationError as exc:
        raise _renamed(exc, _ISSUER_OPTIONS) from None
    return Issuing(keys=keys, issuer=issuer, jwks_uri=jwks_uri)


def _app(app: Flask | None) -> Flask:
    if app is not None:
        return app
    return current_app._get_current_object()  # type: ignore[attr-defined,no-any-return]


def get_issuing(app: Flask | None = None) -> Issuing:
    """The issuing side of ``app`` (default: the current app), built on first use."""
    app = _app(app)
    issuing = app.extensions.get(EXTENSION)
    if issuing is None:
        with _lock:
            issuing = app.extensions.get(EXTENSION)
            if issuing is None:
                issuing = app.extensions[EXTENSION] = build_issuing(app.config)
    assert isinstance(issuing, Issuing)
    return issuing


def get_key_manager(app: Flask | None = None) -> KeyManager:
    """The app's :class:`~jwt_guard_core.signing.KeyManager` (JWKS, rotation, key listing)."""
    return get_issuing(app).keys


def get_token_issuer(app: Flask | None = None) -> TokenIssuer:
    """The app's :class:`~jwt_guard_core.signing.TokenIssuer`; call its ``issue_access_token``."""
    return get_issuing(app).issuer
