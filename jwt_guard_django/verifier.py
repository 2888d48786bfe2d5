"""``JWT_GUARD`` settings to one shared core :class:`~jwt_guard_core.Verifier`.

The verifier (and the remote key sets it holds, with their caches) is built
once and shared by every thread and task. It is rebuilt only when the
``JWT_GUARD`` setting changes (``override_settings``, pytest-django's
``settings`` fixture), via Django's ``setting_changed`` signal.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from jwt_guard_core import ConfigurationError, GuardConfig, IssuerPolicy, KeySource, Verifier
from jwt_guard_core.sources import (
    WarmFailure,
    awarm_key_sources,
    config_key_sources,
    hmac_key_set,
    is_loopback_url,
    remote_key_set,
    static_key_set,
    warm_key_sources,
    warmable_key_sources,
)
from jwt_guard_core.sources import key_set_health as core_key_set_health

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
        for source in warmable_key_sources(key_sources(old).values()):
            close = getattr(source, "close", None)
            if callable(close):
                close()


@receiver(setting_changed)
def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == "JWT_GUARD":
        reset_verifier()


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
        return remote_key_set(f"{setting}['JWKS_URL']", entry["JWKS_URL"], options=options)
    if given == ["OIDC_ISSUER"]:
        return remote_key_set(
            f"{setting}['OIDC_ISSUER']", entry["OIDC_ISSUER"], discovery=True, options=options
        )
    if given == ["VERIFYING_KEY"]:
        # One setting for PEM, a kid -> PEM dict, a JWKS or a path: told apart by shape.
        return static_key_set(f"{setting}['VERIFYING_KEY']", entry["VERIFYING_KEY"])
    if entry.get("SIGNING_KEY") is not None:
        return hmac_key_set(f"{setting}['SIGNING_KEY']", entry["SIGNING_KEY"], algorithms)
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
    if revocation is None and settings.raw.get("SESSIONS") is not None:
        # Logouts recorded by the session views are seen by this verifier.
        from .sessions import get_sessions

        revocation = get_sessions().revocation
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
    return config_key_sources((verifier or get_verifier()).config)


def warm(verifier: Verifier | None = None) -> None:
    """Fetch every remote key set now, so the first request does not wait.

    A failure is logged and not raised: the key set keeps retrying on
    demand, and requests get 503 until it succeeds.
    """
    _warm_failed(warm_key_sources(key_sources(verifier).values()))


async def awarm(verifier: Verifier | None = None) -> None:
    """Like :func:`warm`, without blocking the event loop."""
    _warm_failed(await awarm_key_sources(key_sources(verifier).values()))


def _warm_failed(failures: list[WarmFailure]) -> None:
    for failure in failures:
        logger.warning(
            "jwt-guard could not warm the key set %r at start-up%s",
            failure.source,
            f": {failure.error}"
            if failure.error is not None
            else "; requests get 503 until it can be fetched",
            extra={"jwt_guard_event": "warm_failed"},
        )


def key_set_health(verifier: Verifier | None = None) -> dict[str, Any]:
    """Health of every key source, for a health-check endpoint.

    ``{"ok": bool, "key_sets": {issuer or "*": {...}}}``; a remote key set
    reports ``{"type": "remote", **its health()}``, a static one
    ``{"type": "static", "keys": n}``. ``ok`` is false while a key set is
    ``unavailable`` (requests it serves get 503).
    """
    return core_key_set_health(key_sources(verifier))
