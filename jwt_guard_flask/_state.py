"""What one app's guard was configured with, and how a request finds it."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from flask import current_app

from jwt_guard_core import Verifier
from jwt_guard_core.request_policy import BearerPlan, bearer_plan
from jwt_guard_core.sender import ResourcePolicy
from jwt_guard_core.users import UserMapping

from .config import FlaskSettings

if TYPE_CHECKING:
    from .extension import JWTGuard

__all__ = ["AppState", "current_state"]


@dataclass(frozen=True)
class AppState:
    """What one application's guard was configured with at ``init_app``."""

    guard: JWTGuard
    verifier: Verifier
    settings: FlaskSettings
    resource: ResourcePolicy
    #: Which issuers' tokens the user loader is called for (``JWT_GUARD_USER_ISSUERS``).
    users: UserMapping = field(default_factory=UserMapping)
    #: Whether sessions are on, so verification goes through their rate limit.
    limited: bool = False

    @cached_property
    def plan(self) -> BearerPlan | None:
        """The common bearer request's path under these settings (``None``: the full path)."""
        return bearer_plan(self.settings, self.resource)


def current_state() -> AppState:
    """The guard state of the current app; a RuntimeError when none was registered."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    guard = app.extensions.get("jwt_guard")
    if guard is None:
        raise RuntimeError(
            "jwt-guard is not registered on this app: call JWTGuard(app) or guard.init_app(app)"
        )
    return guard._state_for(app)  # type: ignore[no-any-return]
