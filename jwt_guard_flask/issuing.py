"""``JWT_GUARD_ISSUING_*`` config keys to the core ``KeyManager`` and ``TokenIssuer``.

Built on first use for each app (the JWKS route, a ``flask jwt-guard``
command, your login view calling :func:`get_token_issuer`) and kept in
``app.extensions["jwt_guard_issuing"]``; keys changed after that are not
read. Keys, rotation, the JWKS and the validation of every key are the
core's (:mod:`jwt_guard_core.signing.settings`): this module only names the
keys ``JWT_GUARD_ISSUING_*``. Registering the issuing blueprint calls
:func:`check_issuing`, so a bad key stops start-up.

The passphrase that encrypts the keys at rest comes from the environment
variable named by ``JWT_GUARD_ISSUING_PASSPHRASE_ENV``, never from
``app.config``: config files end up in version control.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app

from .config import DEFAULTS, read

if TYPE_CHECKING:
    from jwt_guard_core.signing import KeyManager, TokenIssuer
    from jwt_guard_core.signing.settings import Issuing, IssuingSettings

__all__ = [
    "ISSUING_KEYS",
    "Issuing",
    "build_issuing",
    "check_issuing",
    "get_issuing",
    "get_key_manager",
    "get_token_issuer",
]

PREFIX = "JWT_GUARD_ISSUING_"
EXTENSION = "jwt_guard_issuing"

#: Every issuing key; their defaults are in :data:`jwt_guard_flask.config.DEFAULTS`.
ISSUING_KEYS = tuple(k for k in DEFAULTS if k.startswith(PREFIX))

_lock = threading.Lock()


def check_issuing(config: Mapping[str, Any]) -> IssuingSettings:
    """Validate the ``JWT_GUARD_ISSUING_*`` keys of ``config`` without opening the key store.

    Reads the passphrase variable and stats an existing key directory;
    reads no key and creates nothing. Raises
    :class:`~jwt_guard_core.ConfigurationError` naming the key to fix.
    """
    from jwt_guard_core.settings.sides import check_issuing

    return check_issuing(read(config))


def build_issuing(config: Mapping[str, Any], *, revocation: Any = None) -> Issuing:
    """Translate the ``JWT_GUARD_ISSUING_*`` keys of ``config`` into core objects.

    Opens the key store (a missing passphrase or a world-readable key
    directory fails here). Raises :class:`~jwt_guard_core.ConfigurationError`
    naming the key to fix. ``JWT_GUARD_CLOCK`` is the issuing clock too.
    ``revocation`` is where an emergency rotation denies the removed keys
    (:func:`get_issuing` passes the sessions' revocation service).
    """
    from jwt_guard_core.settings.sides import open_issuing

    return open_issuing(read(config), revocation=revocation)


def _sessions_revocation(app: Flask) -> Any:
    # The sessions are built at init_app, before the issuing side; read from
    # app.extensions, not imported (the session side imports this module).
    return getattr(app.extensions.get("jwt_guard_sessions"), "revocation", None)


def _app(app: Flask | None) -> Flask:
    if app is not None:
        return app
    return current_app._get_current_object()  # type: ignore[attr-defined,no-any-return]


def get_issuing(app: Flask | None = None) -> Issuing:
    """The issuing side of ``app`` (default: the current app), built on first use.

    With sessions configured, its key manager records an emergency rotation
    in the sessions' revocation store (the one the app's verifier reads).
    """
    app = _app(app)
    issuing = app.extensions.get(EXTENSION)
    if issuing is None:
        with _lock:
            issuing = app.extensions.get(EXTENSION)
            if issuing is None:
                issuing = app.extensions[EXTENSION] = build_issuing(
                    app.config, revocation=_sessions_revocation(app)
                )
    return issuing


def get_key_manager(app: Flask | None = None) -> KeyManager:
    """The app's :class:`~jwt_guard_core.signing.KeyManager` (JWKS, rotation, key listing)."""
    return get_issuing(app).keys


def get_token_issuer(app: Flask | None = None) -> TokenIssuer:
    """The app's :class:`~jwt_guard_core.signing.TokenIssuer`; call its ``issue_access_token``."""
    return get_issuing(app).issuer


def __getattr__(name: str) -> Any:
    # Issuing is the core's; named here for code that imported it from this module.
    if name == "Issuing":
        from jwt_guard_core.signing.settings import Issuing

        return Issuing
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
