"""The adapters' settings that make an application accept a :class:`LocalIssuer`'s tokens.

One set of values, two spellings: Django's ``JWT_GUARD["NAME"]`` and Flask's
``JWT_GUARD_NAME`` (see docs/django.md and docs/flask.md). Plain data out,
no framework imported.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from .issuer import LocalIssuer

__all__ = ["KeySourceMode", "django_settings", "flask_config"]

KeySourceMode = Literal["jwks", "discovery", "static"]
FLASK_PREFIX = "JWT_GUARD_"
# A test rotates and sends the new kid at once: the remote key set must
# fetch again rather than wait out its 30 s unknown-kid cooldown.
TEST_JWKS_OPTIONS = {"unknown_kid_cooldown": 0}


def _settings(
    issuer: LocalIssuer,
    *,
    audience: str | Sequence[str],
    source: KeySourceMode,
    clock: Callable[[], float] | None,
    static_key_setting: str,
    extra: dict[str, Any],
) -> dict[str, Any]:
    values: dict[str, Any] = {
        "ALGORITHMS": [issuer.algorithm],
        "ISSUER": issuer.url,
        "AUDIENCE": audience if isinstance(audience, str) else list(audience),
    }
    if source == "static":
        values[static_key_setting] = issuer.jwks()
    else:
        values["JWKS_URL" if source == "jwks" else "OIDC_ISSUER"] = (
            issuer.jwks_url if source == "jwks" else issuer.url
        )
        values["JWKS_OPTIONS"] = dict(TEST_JWKS_OPTIONS)
    if clock is not None:
        values["CLOCK"] = clock
    values.update(extra)
    return values


def django_settings(
    issuer: LocalIssuer,
    *,
    audience: str | Sequence[str],
    source: KeySourceMode,
    clock: Callable[[], float] | None,
    **extra: Any,
) -> dict[str, Any]:
    """The ``JWT_GUARD`` dict (a static key set is ``VERIFYING_KEY``)."""
    return _settings(
        issuer,
        audience=audience,
        source=source,
        clock=clock,
        static_key_setting="VERIFYING_KEY",
        extra=extra,
    )


def flask_config(
    issuer: LocalIssuer,
    *,
    audience: str | Sequence[str],
    source: KeySourceMode,
    clock: Callable[[], float] | None,
    **extra: Any,
) -> dict[str, Any]:
    """``JWT_GUARD_*`` keys (a static key set is ``JWT_GUARD_JWKS``); extra names unprefixed."""
    values = _settings(
        issuer,
        audience=audience,
        source=source,
        clock=clock,
        static_key_setting="JWKS",
        extra={name.removeprefix(FLASK_PREFIX): value for name, value in extra.items()},
    )
    return {FLASK_PREFIX + name: value for name, value in values.items()}
