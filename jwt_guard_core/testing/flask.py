"""Flask helpers of the test kit. Flask itself is never imported here.

The plugin's ``jwt_guard_flask_config`` fixture gives the same keys as a
dict for an application factory.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .issuer import LocalIssuer

__all__ = ["configure_app"]


def configure_app(app: Any, issuer: LocalIssuer, **options: Any) -> dict[str, Any]:
    """Put ``issuer.flask_config(**options)`` into ``app.config``; returns the keys set.

    Call it before ``JWTGuard(app)`` / ``guard.init_app(app)``: the extension
    reads its configuration once, so keys set afterwards would silently not
    apply. An app that already has the extension raises ``RuntimeError``.
    """
    if "jwt_guard" in getattr(app, "extensions", {}):
        raise RuntimeError(
            "JWTGuard is already registered on this app and has read its configuration; "
            "call configure_app(app, issuer) before JWTGuard(app) / init_app(app)"
        )
    config = issuer.flask_config(**options)
    app.config.update(config)
    return config
