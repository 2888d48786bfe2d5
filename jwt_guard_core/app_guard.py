"""One application's guard: its :class:`~jwt_guard_core.served.Served`, built at start-up
(Flask's ``init_app``), and what a request reads from it as plain attributes: the verifier,
the request settings, the resource policy, whose tokens reach the user loader, and the
common bearer request's :class:`~jwt_guard_core.request_policy.BearerPlan`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from .request_policy import BearerPlan
from .sender import ResourcePolicy
from .served import Served
from .settings import GuardSettings, RequestSettings
from .settings.schema import Adapter
from .users import UserMapping
from .verifier import Verifier

if TYPE_CHECKING:
    from .serving import ServedSessions
    from .signing.settings import Issuing

_G = TypeVar("_G", bound="AppGuard")


def _no_sessions(settings: GuardSettings) -> ServedSessions:
    raise RuntimeError("this guard was built without a session side")


@dataclass(frozen=True)
class AppGuard:
    """What one application's guard was configured with, read once from its :class:`Served`."""

    served: Served[Any] = field(repr=False)
    verifier: Verifier
    settings: RequestSettings
    resource: ResourcePolicy
    #: Which issuers' tokens the user loader is called for (``USER_ISSUERS``).
    users: UserMapping
    #: Whether sessions are on, so verification goes through their rate limit.
    limited: bool
    #: The common bearer request's path under these settings (``None``: the full path).
    plan: BearerPlan | None

    @classmethod
    def build(
        cls: type[_G],
        config: Mapping[str, Any],
        adapter: Adapter,
        logger: logging.Logger,
        *,
        open_sessions: Callable[[GuardSettings], ServedSessions] = _no_sessions,
        issuing: Callable[[], Issuing] | None = None,
        **extra: Any,
    ) -> _G:
        """Validate ``config`` (raises naming the key), log its risky settings, build the guard.

        ``open_sessions(settings)`` opens the session side when it is
        configured (their revocation is the verifier's unless ``REVOCATION``
        is set, and verification goes through their rate limit); ``issuing``
        as for :class:`Served`; ``extra`` are the adapter's own fields.
        """
        parsed = GuardSettings.from_mapping(config, adapter)
        served: Served[Any] = Served(
            lambda: parsed, lambda: open_sessions(parsed), logger=logger, issuing=issuing
        )
        served.start()
        plan, verify = served.request_plan()
        return cls(
            served=served,
            verifier=served.verifier(),
            settings=plan.settings,
            resource=plan.policy,
            users=parsed.users,
            limited=verify is None,
            plan=plan.bearer,
            **extra,
        )

    def warn_unreached_loader(self, loader: object, app: str, logger: logging.Logger) -> None:
        """Warn that ``loader``, when set, is called for no token (Django's jwt_guard.W010)."""
        if loader is not None and self.users.issuers == frozenset():
            logger.warning(
                "jwt-guard: JWT_GUARD_ISSUERS has several issuers and JWT_GUARD_USER_ISSUERS "
                "is not set on app %r: the user loader is called for no token (current_user "
                "is None); list the issuers whose subjects are your users",
                app,
                extra={"jwt_guard_event": "risky_setting"},
            )
