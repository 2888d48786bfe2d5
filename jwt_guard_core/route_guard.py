"""A guarded view: the wrapper both adapters' decorators put around a sync or async view.

The adapter writes what runs before the view once, as :mod:`~jwt_guard_core.steps`
(authenticate, check the route's :class:`~jwt_guard_core.route_policy.RouteRequirement`,
look the user up); :func:`guard_view` drives them with :func:`~jwt_guard_core.steps.drive`
for a sync view and :func:`~jwt_guard_core.steps.adrive` for an ``async def`` one.
:func:`route_decorators` makes ``require_scopes``, ``require_roles`` and
``require_any_role`` once for both adapters, over the adapter's guard.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from .claims_policy import role_list
from .errors import TokenError
from .http import ErrorResponse
from .request_policy import Outcome
from .route_checks import mark
from .route_policy import RouteRequirement
from .sender import ResourcePolicy
from .steps import Steps, adrive, drive

__all__ = ["Decorator", "guard_view", "route_answer", "route_decorators"]

View = TypeVar("View", bound=Callable[..., Any])


class Decorator(Protocol):
    """A view decorator: the view comes back guarded, with its own type."""

    def __call__(self, view: View, /) -> View: ...


class _RequireScopes(Protocol):
    def __call__(self, *scopes: str, any_of: bool = False) -> Decorator: ...


class _RequireRoles(Protocol):
    def __call__(self, *roles: str) -> Decorator: ...


def guard_view(
    view: View,
    route: RouteRequirement,
    steps: Callable[..., Steps[Any]],
    *,
    is_async: bool,
    sync: Callable[..., Any] | None = None,
) -> View:
    """``view`` behind ``steps``, which get the view's arguments and return ``None`` to run it.

    Anything else ``steps`` return is answered instead of the view's response.
    ``sync``, when given, is the same decision written out for a sync view (the
    per-request path then builds no generator). The wrapper records the route's
    DPoP and step-up demands for the start-up route checks
    (:func:`~jwt_guard_core.route_checks.mark`).
    """
    wrapper: Callable[..., Any]
    if is_async:

        @functools.wraps(view)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            refused = await adrive(steps(*args, **kwargs))
            return refused if refused is not None else await view(*args, **kwargs)

        wrapper = async_wrapper
    else:
        decide = sync if sync is not None else (lambda *a, **k: drive(steps(*a, **k)))

        @functools.wraps(view)
        def sync_wrapper(*args: Any, **kwargs: Any) -> Any:
            refused = decide(*args, **kwargs)
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


def route_decorators(
    module: str,
    guard: Callable[[Any, RouteRequirement], Any],
    scopes_route: Callable[[tuple[str, ...], bool], RouteRequirement],
) -> tuple[_RequireScopes, _RequireRoles, _RequireRoles]:
    """An adapter's ``require_scopes``, ``require_roles`` and ``require_any_role``.

    ``guard(view, route)`` puts a view behind a requirement;
    ``scopes_route(scopes, any_of)`` reads ``require_scopes``' arguments the
    adapter's way (its errors are the adapter's documented ones). Every
    argument is checked when the view is declared, never per request.
    """

    def require_scopes(*scopes: str, any_of: bool = False) -> Decorator:
        """The view needs a valid token with every scope in ``scopes`` (one, with ``any_of``).

        Too few is 403 ``insufficient_scope`` naming them (RFC 6750 section
        3.1); a name outside RFC 6749's grammar (``"a b"``, a tab) is refused
        when the view is declared.
        """
        route = scopes_route(scopes, any_of)
        return lambda view: guard(view, route)

    def require_roles(*roles: str) -> Decorator:
        """The view needs a valid token with every role in ``roles`` (``VerifiedToken.roles``).

        Too few is 403 ``error="insufficient_scope"`` without a ``scope``
        parameter (RFC 6750 section 3.1: the request needs higher privileges
        than the token grants); the reason ``insufficient_role`` is logged.
        """
        route = RouteRequirement(roles=role_list("require_roles", roles))
        return lambda view: guard(view, route)

    def require_any_role(*roles: str) -> Decorator:
        """Like ``require_roles``, but one of ``roles`` is enough."""
        route = RouteRequirement(roles=role_list("require_any_role", roles), any_role=True)
        return lambda view: guard(view, route)

    for made in (require_scopes, require_roles, require_any_role):
        made.__module__ = module
        made.__qualname__ = made.__name__
    return require_scopes, require_roles, require_any_role
