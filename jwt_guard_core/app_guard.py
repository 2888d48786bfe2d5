"""One application's guard, built once at start-up from its settings (Flask's ``init_app``).

The adapter keeps it per app and reads it on every request: the verifier, the
request settings, the resource policy, whose tokens reach the user loader, and
the common bearer request's :class:`~jwt_guard_core.request_policy.BearerPlan`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from .request_policy import BearerPlan, bearer_plan
from .sender import ResourcePolicy
from .settings import GuardSettings, RequestSettings
from .settings.cached import load
from .settings.resource import resource_policy
from .settings.schema import Adapter
from .startup import key_set_findings, log_findings
from .users import UserMapping
from .verifier import Verifier

if TYPE_CHECKING:
    from .serving import ServedSessions

_G = TypeVar("_G", bound="AppGuard")

_RISKY = {"jwt_guard_event": "risky_setting"}


@dataclass(frozen=True)
class AppGuard:
    """What one application's guard was configured with."""

    verifier: Verifier
    settings: RequestSettings
    resource: ResourcePolicy
    #: The settings read, for the start-up checks.
    parsed: GuardSettings = field(repr=False)
    #: Which issuers' tokens the user loader is called for (``USER_ISSUERS``).
    users: UserMapping = field(default_factory=UserMapping)
    #: Whether sessions are on, so verification goes through their rate limit.
    limited: bool = False

    @classmethod
    def build(
        cls: type[_G],
        config: Mapping[str, Any],
        adapter: Adapter,
        logger: logging.Logger,
        *,
        sessions: ServedSessions | None = None,
        **extra: Any,
    ) -> _G:
        """Validate ``config`` (raises naming the key), log its risky settings, build the guard.

        With ``sessions``, their revocation check is the verifier's (unless
        ``REVOCATION`` is set) and verification goes through their rate limit.
        ``extra`` are the adapter's own fields.
        """
        revocation = sessions.revocation if sessions is not None else None
        loaded = load(config, adapter, revocation=revocation)
        for text in loaded.warnings:
            logger.warning("jwt-guard: %s", text, extra=_RISKY)
        parsed = loaded.parsed
        resource = resource_policy(parsed)
        return cls(
            verifier=Verifier(loaded.config),
            settings=loaded.settings,
            resource=resource,
            parsed=parsed,
            users=parsed.users,
            limited=sessions is not None,
            **extra,
        )

    @cached_property
    def plan(self) -> BearerPlan | None:
        """The common bearer request's path under these settings (``None``: the full path)."""
        return bearer_plan(self.settings, self.resource)

    def warm_up(self, logger: logging.Logger) -> None:
        """With ``WARM_ON_STARTUP``: fetch every remote key set, log what failed naming its key."""
        if self.settings.warm_on_startup:
            log_findings(key_set_findings(self.parsed, self.verifier.config), logger)

    def warn_unreached_loader(self, loader: object, app: str, logger: logging.Logger) -> None:
        """Warn that ``loader``, when set, is called for no token (Django's jwt_guard.W010)."""
        if loader is not None and self.users.issuers == frozenset():
            logger.warning(
                "jwt-guard: JWT_GUARD_ISSUERS has several issuers and JWT_GUARD_USER_ISSUERS "
                "is not set on app %r: the user loader is called for no token (current_user "
                "is None); list the issuers whose subjects are your users",
                app,
                extra=_RISKY,
            )
