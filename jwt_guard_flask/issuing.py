"""``JWT_GUARD_ISSUING_*`` to the app's core ``KeyManager`` and ``TokenIssuer``, built on first
use (docs/flask.md). The key passphrase comes from the environment, never ``app.config``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app

from .config import DEFAULTS, read

if TYPE_CHECKING:
    from jwt_guard_core.signing import KeyManager, TokenIssuer
    from jwt_guard_core.signing.settings import Issuing

__all__ = [
    "ISSUING_KEYS",
    "build_issuing",
    "get_issuing",
    "get_key_manager",
    "get_token_issuer",
]

#: Every issuing key; their defaults are in :data:`jwt_guard_flask.config.DEFAULTS`.
ISSUING_KEYS = tuple(k for k in DEFAULTS if k.startswith("JWT_GUARD_ISSUING_"))


def build_issuing(config: Mapping[str, Any], *, revocation: Any = None) -> Issuing:
    """The ``JWT_GUARD_ISSUING_*`` keys as core objects; opens the key store.

    ``revocation``: where an emergency rotation denies the removed keys (the sessions').
    """
    from jwt_guard_core.settings.sides import open_issuing

    return open_issuing(read(config), revocation=revocation)


def get_issuing(app: Flask | None = None) -> Issuing:
    """The issuing side of ``app`` (default: the current app), built on first use."""
    from jwt_guard_core.serving import built_in

    app = app if app is not None else current_app._get_current_object()  # type: ignore[attr-defined]
    guard = app.extensions.get("jwt_guard")
    # After init_app, the app's Served opens it from the settings read there (an
    # emergency rotation is recorded in the sessions' revocation); before, from app.config.
    build: Callable[[], Issuing] = partial(build_issuing, app.config)
    if guard is not None:
        build = guard._state_for(app).served.open_issuing
    return built_in(app.extensions, "jwt_guard_issuing", build)


def get_key_manager(app: Flask | None = None) -> KeyManager:
    """The app's :class:`~jwt_guard_core.signing.KeyManager` (JWKS, rotation, key listing)."""
    return get_issuing(app).keys


def get_token_issuer(app: Flask | None = None) -> TokenIssuer:
    """The app's :class:`~jwt_guard_core.signing.TokenIssuer`; call its ``issue_access_token``."""
    return get_issuing(app).issuer
