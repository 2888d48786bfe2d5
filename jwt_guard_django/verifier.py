"""``JWT_GUARD`` settings to one shared core :class:`~jwt_guard_core.Verifier`.

The verifier (and the remote key sets it holds, with their caches) is built
once and shared by every thread and task. It is rebuilt only when the
``JWT_GUARD`` setting changes (``override_settings``, pytest-django's
``settings`` fixture), via Django's ``setting_changed`` signal.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
from collections.abc import Mapping
from os import PathLike
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from jwt_guard_core import (
    ConfigurationError,
    GuardConfig,
    IssuerPolicy,
    KeySource,
    StaticKeySet,
    TokenError,
    Verifier,
)
from jwt_guard_core.algorithms import HMAC_ALGORITHMS
from jwt_guard_core.keys import key_from_secret

from .conf import Settings, conf

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
                    named = exc.setting.startswith("JWT_GUARD")
                    raise ImproperlyConfigured(str(exc) if named else f"JWT_GUARD: {exc}") from exc
            verifier = _verifier
    return verifier


def reset_verifier() -> None:
    """Drop the shared verifier; the next request builds a new one from settings.

    The old verifier's remote key sets close their HTTP clients.
    """
    global _verifier
    with _lock:
        old, _verifier = _verifier, None
    if old is not None:
        for source in _each_remote(old):
            close = getattr(source, "close", None)
            if callable(close):
                close()


@receiver(setting_changed)
def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == "JWT_GUARD":
        reset_verifier()


def is_loopback_url(url: str) -> bool:
    """True when ``url``'s host is ``localhost`` or a loopback address."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _renamed(exc: ConfigurationError, setting: str) -> ConfigurationError:
    """The core names its own parameter (``url``, ``keys``); name the Django setting."""
    if exc.setting.startswith("JWT_GUARD"):
        return exc
    message = str(exc).removeprefix(f"{exc.setting}: ")
    if exc.setting in ("url", "issuer", "keys"):
        return ConfigurationError(setting, message)
    return ConfigurationError(f"{setting} (JWKS_OPTIONS[{exc.setting!r}])", message)


def _remote(setting: str, url: Any, *, discovery: bool, options: Mapping[str, Any]) -> KeySource:
    if not isinstance(url, str) or not url:
        raise ConfigurationError(setting, f"{url!r} is not a URL")
    # Imported here so that a static-key configuration never loads the
    # remote machinery.
    from jwt_guard_core.remote import RemoteJWKS

    try:
        if discovery:
            return RemoteJWKS.from_issuer(url, **options)
        return RemoteJWKS(url, **options)
    except ConfigurationError as exc:
        raise _renamed(exc, setting) from None
    except TypeError as exc:
        raise ConfigurationError(f"{setting} (JWKS_OPTIONS)", str(exc)) from None


def _load_verifying_key(setting: str, value: Any) -> StaticKeySet:
    """A PEM text, a mapping of kid to PEM, a JWKS dict or JSON text, or a file path."""
    try:
        return _static_keys(setting, value)
    except ConfigurationError as exc:
        raise _renamed(exc, setting) from None


def _static_keys(setting: str, value: Any) -> StaticKeySet:
    if isinstance(value, PathLike) or (
        isinstance(value, str) and not value.lstrip().startswith(("-----", "{"))
    ):
        path = Path(value)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ConfigurationError(
                setting, f"cannot read key file {path}: {exc.strerror}"
            ) from None
        value = data.decode("utf-8", "replace")
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, Mapping):
        if "keys" in value:
            return StaticKeySet.from_jwks(value)
        return StaticKeySet.from_pem(value)
    if isinstance(value, str):
        if value.lstrip().startswith("{"):
            return StaticKeySet.from_jwks(value)
        return StaticKeySet.from_pem(value)
    raise ConfigurationError(
        setting, f"a {type(value).__name__} is not a PEM key, a JWKS or a path to either"
    )


def _hmac_keys(setting: str, secret: Any, algorithms: Any) -> StaticKeySet:
    if not isinstance(secret, (str, bytes)) or not secret:
        raise ConfigurationError(setting, "give the HMAC secret as a non-empty str or bytes")
    wanted = [a for a in (algorithms or ()) if a in HMAC_ALGORITHMS] or ["HS256"]
    keys = []
    for alg in wanted:
        try:
            keys.append(key_from_secret(secret, algorithm=alg))
        except ValueError as exc:
            raise ConfigurationError(setting, str(exc)) from None
    return StaticKeySet(keys, setting=setting)


def _key_source(
    setting: str, entry: Mapping[str, Any], algorithms: Any, clock: Any = None
) -> KeySource:
    """One issuer's key source from JWKS_URL, OIDC_ISSUER, VERIFYING_KEY or SIGNING_KEY."""
    given = [k for k in ("JWKS_URL", "OIDC_ISSUER", "VERIFYING_KEY") if entry.get(k) is not None]
    if len(given) > 1:
        raise ConfigurationError(setting, f"give one key source, not {' and '.join(given)}")
    options = dict(entry.get("JWKS_OPTIONS") or {})
    if clock is not None:
        options.setdefault("clock", clock)
    if given == ["JWKS_URL"]:
        return _remote(
            f"{setting}['JWKS_URL']", entry["JWKS_URL"], discovery=False, options=options
        )
    if given == ["OIDC_ISSUER"]:
        return _remote(
            f"{setting}['OIDC_ISSUER']", entry["OIDC_ISSUER"], discovery=True, options=options
        )
    if given == ["VERIFYING_KEY"]:
        return _load_verifying_key(f"{setting}['VERIFYING_KEY']", entry["VERIFYING_KEY"])
    if entry.get("SIGNING_KEY") is not None:
        return _hmac_keys(f"{setting}['SIGNING_KEY']", entry["SIGNING_KEY"], algorithms)
    raise ConfigurationError(
        setting, "no key source: set JWKS_URL, OIDC_ISSUER, VERIFYING_KEY or SIGNING_KEY"
    )


def _dotted(setting: str, value: Any) -> Any:
    if isinstance(value, str):
        try:
            return import_string(value)
        except ImportError as exc:
            raise ConfigurationError(setting, f"cannot import {value!r}: {exc}") from None
    return value


def build_config(settings: Settings = conf) -> GuardConfig:
    """Translate ``JWT_GUARD`` into a :class:`~jwt_guard_core.GuardConfig`.

    Raises :class:`~jwt_guard_core.ConfigurationError` naming the setting.
    """
    issuers_given = settings.raw.get("ISSUERS")
    options: dict[str, Any] = {
        "algorithms": settings.ALGORITHMS,
        "audience": settings.AUDIENCE,
        "verify_issuer": settings.VERIFY_ISSUER,
        "verify_audience": settings.VERIFY_AUDIENCE,
        "leeway": settings.LEEWAY,
        "required_claims": settings.REQUIRED_CLAIMS,
        "max_token_age": settings.MAX_TOKEN_AGE,
        "max_lifetime": settings.MAX_TOKEN_LIFETIME,
        "expected_type": settings.EXPECTED_TYPE,
        "max_token_bytes": settings.MAX_TOKEN_BYTES,
    }
    revocation = _dotted("REVOCATION", settings.REVOCATION)
    if isinstance(revocation, type):
        revocation = revocation()
    if revocation is not None:
        options["revocation"] = revocation
    clock = _dotted("CLOCK", settings.CLOCK)
    if clock is not None:
        options["clock"] = clock

    if issuers_given:
        issuers = settings.ISSUERS
        if not isinstance(issuers, Mapping):
            raise ConfigurationError("ISSUERS", "give a dict of issuer to its settings dict")
        policies: dict[str, IssuerPolicy] = {}
        for iss, entry in issuers.items():
            setting = f"JWT_GUARD['ISSUERS'][{iss!r}]"
            if not isinstance(entry, Mapping):
                raise ConfigurationError(setting, "give a dict with JWKS_URL, VERIFYING_KEY, ...")
            algorithms = entry.get("ALGORITHMS", settings.ALGORITHMS)
            policies[iss] = IssuerPolicy(
                keys=_key_source(setting, entry, algorithms, clock),
                audience=entry.get("AUDIENCE"),
                algorithms=entry.get("ALGORITHMS"),
            )
        return GuardConfig(issuers=policies, **options)

    entry = {
        "JWKS_URL": settings.JWKS_URL,
        "OIDC_ISSUER": settings.OIDC_ISSUER,
        "VERIFYING_KEY": settings.VERIFYING_KEY,
        "SIGNING_KEY": settings.SIGNING_KEY,
        "JWKS_OPTIONS": settings.JWKS_OPTIONS,
    }
    keys = _key_source("JWT_GUARD", entry, settings.ALGORITHMS, clock)
    issuer = settings.ISSUER if settings.VERIFY_ISSUER else None
    return GuardConfig(keys=keys, issuer=issuer, **options)


def key_sources(verifier: Verifier | None = None) -> dict[str | None, KeySource]:
    """The key source of each configured issuer (``None``: any issuer)."""
    verifier = verifier or get_verifier()
    return {iss: policy.keys for iss, policy in verifier.config.policies.items()}


def _each_remote(verifier: Verifier | None) -> list[Any]:
    seen: list[Any] = []
    for source in key_sources(verifier).values():
        if hasattr(source, "warm") and not any(source is s for s in seen):
            seen.append(source)
    return seen


def warm(verifier: Verifier | None = None) -> None:
    """Fetch every remote key set now, so the first request does not wait.

    A failure is logged and not raised: the key set keeps retrying on
    demand, and requests get 503 until it succeeds.
    """
    for source in _each_remote(verifier):
        try:
            usable = source.warm()
        except (TokenError, OSError) as exc:
            _warm_failed(source, exc)
        else:
            if usable is False:
                _warm_failed(source, None)


async def awarm(verifier: Verifier | None = None) -> None:
    """Like :func:`warm`, without blocking the event loop."""
    for source in _each_remote(verifier):
        try:
            usable = await source.awarm()
        except (TokenError, OSError) as exc:
            _warm_failed(source, exc)
        else:
            if usable is False:
                _warm_failed(source, None)


def _warm_failed(source: Any, exc: Exception | None) -> None:
    logger.warning(
        "jwt-guard could not warm the key set %r at start-up%s",
        source,
        f": {exc}" if exc is not None else "; requests get 503 until it can be fetched",
        extra={"jwt_guard_event": "warm_failed"},
    )


def key_set_health(verifier: Verifier | None = None) -> dict[str, Any]:
    """Health of every key source, for a health-check endpoint.

    ``{"ok": bool, "key_sets": {issuer or "*": {...}}}``; a remote key set
    reports its own ``health()``, a static one ``{"type": "static", "keys": n}``.
    """
    report: dict[str, Any] = {}
    ok = True
    for iss, source in key_sources(verifier).items():
        health = getattr(source, "health", None)
        if callable(health):
            entry = {"type": "remote", **health()}
            # "cold" (not fetched yet) and "stale" (served past expiry
            # while the provider is down) still verify; "unavailable" is 503.
            ok = ok and entry.get("state") != "unavailable"
        elif isinstance(source, StaticKeySet):
            entry = {"type": "static", "keys": len(source.keys)}
        else:
            entry = {"type": type(source).__name__}
        report[iss if iss is not None else "*"] = entry
    return {"ok": ok, "key_sets": report}
