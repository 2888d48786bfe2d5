"""What one app's guard was configured with, and how a request finds it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import current_app

from jwt_guard_core.app_guard import AppGuard

if TYPE_CHECKING:
    from .extension import JWTGuard


@dataclass(frozen=True, kw_only=True)
class AppState(AppGuard):
    """The core's :class:`~jwt_guard_core.app_guard.AppGuard` of one app, and its extension."""

    guard: JWTGuard


def current_state() -> AppState:
    """The guard state of the current app; a RuntimeError when none was registered."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    guard = app.extensions.get("jwt_guard")
    if guard is None:
        raise RuntimeError(
            "jwt-guard is not registered on this app: call JWTGuard(app) or guard.init_app(app)"
        )
    return guard._state_for(app)  # type: ignore[no-any-return]
