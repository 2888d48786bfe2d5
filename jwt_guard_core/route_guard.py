"""A guarded view: the wrapper both adapters' decorators put around a sync or async view.

The adapter writes what runs before the view once, as :mod:`~jwt_guard_core.steps`
(authenticate, check the route's :class:`~jwt_guard_core.route_policy.RouteRequirement`,
look the user up); :func:`guard_view` drives them with :func:`~jwt_guard_core.steps.drive`
for a sync view and :func:`~jwt_guard_core.steps.adrive` for an ``async def`` one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from .errors import TokenError
from .http import ErrorResponse
from .request_policy import Outcome
from .route_checks import mark
from .route_policy import RouteRequirement
from .sender import ResourcePolicy
from .steps import Steps, adrive, drive

__all__ = ["guard_view", "route_answer"]

View = TypeVar("View", bound=Callable[..., Any])


def guard_view(
    view: View, route: RouteRequirement, steps: Callable[..., Steps[Any]], *, is_async: bool
) -> View:
    """``view`` behind ``steps``, which get the view's arguments and return ``None`` to run it.

    Anything else ``steps`` return is answered instead of the view's response.
    The wrapper records the route's DPoP and step-up demands for the start-up
    route checks (:func:`~jwt_guard_core.route_checks.mark`).
    """
    wrapper: Callable[..., Any]
    if is_async:

        @functools.wraps(view)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            refused = await adrive(steps(*args, **kwargs))
            return refused if refused is not None else await view(*args, **kwargs)

        wrapper = async_wrapper
    else:

        @functools.wraps(view)
        def sync_wrapper(*args: Any, **kwargs: Any) -> Any:
            refused = drive(steps(*args, **kwargs))
            return refused if refused is not None else view(*args, **kwargs)

        wrapper = sync_wrapper
    mark(wrapper, dpop=route.dpop, step_up=route.step_up)
    return wrapper  # type: ignore[return-value]


def route_answer(
    route: RouteRequirement, outcome: Outcome, policy: ResourcePolicy, *, optional: bool = False
) -> ErrorResponse | None:
    """The refusal of a request whose credentials came to ``outcome``, or ``None`` to go on.

    ``outcome``'s own refusal (a bad token, a CSRF failure) is the caller's to
    answer first. No token is 401 unless ``optional``; a token short of
    ``route`` gets that demand's refusal, with a ``DPoP`` challenge when the
    route demands DPoP.
    """
    token = outcome.token
    if token is None:
        return None if optional else outcome.answer(None, dpop=route.dpop)
    try:
        route.check(token, policy, outcome.sender)
    except TokenError as exc:
        return outcome.answer(exc, dpop=route.dpop)
    return None
