"""View decorators for plain Django views, sync or async.

.. code-block:: python

    @jwt_required
    def me(request): ...

    @require_scopes("orders:write")
    async def create_order(request): ...

    @require_roles("admin")
    def admin_only(request): ...

They work with or without the middleware (with it, the token is verified
once). On success ``request.auth`` is the
:class:`~jwt_guard_core.VerifiedToken` and ``request.user`` the resolved user.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any, TypeVar, overload

from asgiref.sync import iscoroutinefunction
from django.http import HttpRequest, HttpResponseBase

from jwt_guard_core import TokenError
from jwt_guard_core.claims_policy import role_list
from jwt_guard_core.request_policy import Outcome, user_not_found
from jwt_guard_core.route_checks import mark
from jwt_guard_core.route_policy import RouteRequirement
from jwt_guard_core.steps import Steps, adrive, drive

from ._auth import admit, authenticate_steps, to_response, user_steps
from .resource import get_resource

__all__ = ["jwt_optional", "jwt_required", "require_any_role", "require_roles", "require_scopes"]

View = TypeVar("View", bound=Callable[..., Any])
_ANY = RouteRequirement()  # a valid token, nothing more


def _decide(
    request: HttpRequest, outcome: Outcome, optional: bool, route: RouteRequirement
) -> HttpResponseBase | None:
    """Every decision on the outcome, bar the user lookup."""
    refused = admit(request, outcome, dpop=route.dpop)
    if refused is not None:
        return refused
    token = outcome.token
    if token is None:
        return None if optional else to_response(outcome.answer(None, dpop=route.dpop))
    try:
        route.check(token, get_resource(), outcome.sender)
    except TokenError as exc:
        return to_response(outcome.answer(exc, dpop=route.dpop))
    return None


def _refusal_steps(
    request: HttpRequest, optional: bool, route: RouteRequirement
) -> Steps[HttpResponseBase | None]:
    """What the sync and async wrappers share: the refusal, or ``None`` to run the view."""
    outcome = yield from authenticate_steps(request)
    refused = _decide(request, outcome, optional, route)
    if refused is not None or outcome.token is None:
        return refused
    user = yield from user_steps(request, outcome.token)
    if user is None:
        return to_response(outcome.answer(user_not_found()))
    request.user = user
    return None


def _guard(view: View, route: RouteRequirement, *, optional: bool = False) -> View:
    if iscoroutinefunction(view):

        @functools.wraps(view)
        async def async_wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            refused = await adrive(_refusal_steps(request, optional, route))
            if refused is not None:
                return refused
            return await view(request, *args, **kwargs)

        # What the start-up check (jwt_guard.E015) reads.
        mark(async_wrapper, dpop=route.dpop, step_up=route.step_up)
        return async_wrapper  # type: ignore[return-value]

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        refused = drive(_refusal_steps(request, optional, route))
        if refused is not None:
            return refused
        return view(request, *args, **kwargs)

    mark(wrapper, dpop=route.dpop, step_up=route.step_up)
    return wrapper  # type: ignore[return-value]


@overload
def jwt_required(view: View) -> View: ...
@overload
def jwt_required(
    view: None = None,
    *,
    dpop: str | None = None,
    acr_values: Iterable[str] | str = (),
    max_age: int | None = None,
) -> Callable[[View], View]: ...


def jwt_required(
    view: View | None = None,
    *,
    dpop: str | None = None,
    acr_values: Iterable[str] | str = (),
    max_age: int | None = None,
) -> View | Callable[[View], View]:
    """The view needs a valid token: 401 without one, 401/400/503 for a bad one.

    ``@jwt_required(dpop="required")``: only a DPoP-bound token with a valid
    proof (``DPOP`` must be ``"allowed"`` or ``"required"``).
    ``@jwt_required(acr_values=[...], max_age=300)``: step-up (RFC 9470);
    a token whose ``acr`` is not listed, or whose ``auth_time`` is older,
    gets 401 ``insufficient_user_authentication`` naming both.
    """
    route = RouteRequirement.declare(dpop=dpop, acr_values=acr_values, max_age=max_age)

    def decorate(v: View) -> View:
        return _guard(v, route)

    return decorate if view is None else decorate(view)


@overload
def jwt_optional(view: View) -> View: ...
@overload
def jwt_optional(view: None = None) -> Callable[[View], View]: ...


def jwt_optional(view: View | None = None) -> View | Callable[[View], View]:
    """A token is optional, but one that is sent must be valid.

    Without a token the view runs with ``request.auth = None``.
    """
    if view is None:
        return lambda v: _guard(v, _ANY, optional=True)
    return _guard(view, _ANY, optional=True)


def require_scopes(*scopes: str, any_of: bool = False) -> Callable[[View], View]:
    """The view needs a valid token with every scope in ``scopes`` (one, with ``any_of``).

    Too few scopes is 403 with ``error="insufficient_scope"`` and the
    ``scope`` parameter listing what is needed (RFC 6750 section 3.1). A
    name outside RFC 6749's grammar (``"a b"``, a tab) raises
    :class:`~jwt_guard_core.ConfigurationError` here, not per request.
    """
    if not scopes or not all(isinstance(s, str) and s for s in scopes):
        raise TypeError("require_scopes needs one or more scope names")
    route = RouteRequirement.declare(scopes=scopes, any_scope=any_of)
    return lambda view: _guard(view, route)


def require_roles(*roles: str) -> Callable[[View], View]:
    """The view needs a valid token with every role in ``roles`` (``VerifiedToken.roles``).

    Too few roles is 403 with ``WWW-Authenticate: Bearer realm="...",
    error="insufficient_scope"`` (RFC 6750 section 3.1: the request needs
    higher privileges than the token grants) and no ``scope`` parameter; the
    reason ``insufficient_role`` is logged.
    """
    route = RouteRequirement(roles=role_list("require_roles", roles))
    return lambda view: _guard(view, route)


def require_any_role(*roles: str) -> Callable[[View], View]:
    """Like :func:`require_roles`, but one of ``roles`` is enough."""
    route = RouteRequirement(roles=role_list("require_any_role", roles), any_role=True)
    return lambda view: _guard(view, route)
