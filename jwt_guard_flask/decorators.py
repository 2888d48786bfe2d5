"""``@jwt_required``, ``@require_scopes`` and ``@require_roles`` for sync and async views.

Both work on plain view functions, ``async def`` views, the methods of a
``MethodView`` and in its ``decorators`` list. A whole blueprint is
protected with :meth:`JWTGuard.protect <jwt_guard_flask.JWTGuard.protect>`.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable
from typing import Any, TypeVar, overload

from jwt_guard_core.claims_policy import role_list
from jwt_guard_core.route_checks import mark
from jwt_guard_core.route_policy import RouteRequirement, route_scopes

from ._request import EXEMPT_ATTRIBUTE, aauthenticate, authenticate, enforce, normalize_locations

__all__ = [
    "jwt_exempt",
    "jwt_required",
    "normalize_scopes",
    "require_any_role",
    "require_roles",
    "require_scopes",
]

F = TypeVar("F", bound=Callable[..., Any])


def normalize_scopes(scopes: Iterable[str] | str) -> tuple[str, ...]:
    """Scopes as a tuple; a string is split like the ``scope`` claim (RFC 6749 3.3).

    The core's grammar (:func:`jwt_guard_core.route_policy.route_scopes`):
    names separated by one U+0020, each printable ASCII without ``"`` or
    ``\\``, so a required scope is spelled the way a token's scopes are read
    (a tab or a doubled space is refused at decoration time with a
    ``ValueError``).
    """
    return route_scopes(scopes)


def declare_route(
    scopes: Iterable[str] | str,
    any_scope: bool,
    locations: Iterable[str] | str | None,
    dpop: str | None,
    acr_values: Iterable[str] | str,
    max_age: int | None,
) -> tuple[RouteRequirement, tuple[str, ...] | None]:
    """``jwt_required``'s and ``protect``'s arguments, checked when the route is declared."""
    needed = normalize_scopes(scopes)
    where = normalize_locations(locations)
    route = RouteRequirement.declare(
        scopes=needed, any_scope=any_scope, dpop=dpop, acr_values=acr_values, max_age=max_age
    )
    return route, where


def guard_view(
    view: F, route: RouteRequirement, *, optional: bool = False, locations: tuple[str, ...] | None
) -> F:
    """``view`` behind authentication (``optional``, ``locations``) and ``route``'s demands."""
    dpop = route.dpop
    if inspect.iscoroutinefunction(view):

        @functools.wraps(view)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            token = await aauthenticate(optional=optional, locations=locations, dpop=dpop)
            if token is not None:
                enforce(token, route)
            return await view(*args, **kwargs)

        # What the start-up route check reads.
        mark(async_wrapper, dpop=route.dpop, step_up=route.step_up)
        return async_wrapper  # type: ignore[return-value]

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        token = authenticate(optional=optional, locations=locations, dpop=dpop)
        if token is not None:
            enforce(token, route)
        return view(*args, **kwargs)

    mark(wrapper, dpop=route.dpop, step_up=route.step_up)
    return wrapper  # type: ignore[return-value]


@overload
def jwt_required(view: F, /) -> F: ...


@overload
def jwt_required(
    view: None = None,
    /,
    *,
    optional: bool = False,
    scopes: Iterable[str] | str = (),
    any_scope: bool = False,
    locations: Iterable[str] | str | None = None,
    dpop: str | None = None,
    acr_values: Iterable[str] | str = (),
    max_age: int | None = None,
) -> Callable[[F], F]: ...


def jwt_required(
    view: F | None = None,
    /,
    *,
    optional: bool = False,
    scopes: Iterable[str] | str = (),
    any_scope: bool = False,
    locations: Iterable[str] | str | None = None,
    dpop: str | None = None,
    acr_values: Iterable[str] | str = (),
    max_age: int | None = None,
) -> F | Callable[[F], F]:
    """Require a valid token for the view (``@jwt_required`` or ``@jwt_required(...)``).

    Args:
        optional: let requests *without* a token through (``current_token``
            is then ``None``); a token that is present but invalid is still
            refused.
        scopes: scopes the token must carry (all of them, or one with
            ``any_scope=True``); otherwise 403 ``insufficient_scope``.
        locations: override ``JWT_GUARD_TOKEN_LOCATION`` for this view, e.g.
            ``["cookie"]``.
        dpop: ``"required"``: only a DPoP-bound token with a valid proof
            (``JWT_GUARD_DPOP`` must be ``"allowed"`` or ``"required"``).
        acr_values, max_age: step-up (RFC 9470): the token's ``acr`` must
            be one of ``acr_values`` and its ``auth_time`` no older than
            ``max_age`` seconds; otherwise 401
            ``insufficient_user_authentication`` naming both.

    Refusals: 401 ``invalid_token`` (or no token), 400 ``invalid_request``,
    403 ``insufficient_scope`` or CSRF failure, 503 with ``Retry-After``
    when the key source is down.
    """
    route, where = declare_route(scopes, any_scope, locations, dpop, acr_values, max_age)

    def decorate(fn: F) -> F:
        return guard_view(fn, route, optional=optional, locations=where)

    if view is not None:
        if not callable(view):
            raise TypeError("jwt_required takes keyword arguments: @jwt_required(optional=True)")
        return decorate(view)
    return decorate


def require_scopes(*scopes: str, any_of: bool = False) -> Callable[[F], F]:
    """Require a valid token carrying ``scopes`` (all, or one with ``any_of=True``).

    ``@require_scopes("orders:write")`` alone is enough: it authenticates
    the request if nothing did before (the result is shared, the token is
    verified once).
    """
    needed = normalize_scopes(scopes)
    if not needed:
        raise ValueError("require_scopes needs at least one scope")
    route = RouteRequirement(scopes=needed, any_scope=any_of)
    return lambda fn: guard_view(fn, route, locations=None)


def require_roles(*roles: str) -> Callable[[F], F]:
    """Require a valid token carrying every role in ``roles`` (``current_token.roles``).

    Too few roles is 403 with ``WWW-Authenticate: Bearer realm="...",
    error="insufficient_scope"`` (RFC 6750 section 3.1: the request needs
    higher privileges than the token grants) and no ``scope`` parameter;
    the exception's ``reason`` is ``insufficient_role``.
    """
    route = RouteRequirement(roles=role_list("require_roles", roles))
    return lambda fn: guard_view(fn, route, locations=None)


def require_any_role(*roles: str) -> Callable[[F], F]:
    """Like :func:`require_roles`, but one of ``roles`` is enough."""
    route = RouteRequirement(roles=role_list("require_any_role", roles), any_role=True)
    return lambda fn: guard_view(fn, route, locations=None)


def jwt_exempt(view: F) -> F:
    """Let ``view`` run whatever state the access-token *cookie* is in.

    Where the view (or a :meth:`JWTGuard.protect
    <jwt_guard_flask.JWTGuard.protect>` guard) authenticates with
    ``optional=True``, an access cookie that fails verification (revoked,
    expired, signed by a retired key) counts as no token instead of a 401;
    :func:`jwt_guard_flask._request.deferred_cookie_error` tells why. A bad
    ``Authorization`` header, or a cookie without CSRF proof, is refused as
    everywhere. The session routes use it: after "log out everywhere" on
    another device, the browser's revoked access cookie must not keep it
    from logging out and clearing its cookies.
    """
    setattr(view, EXEMPT_ATTRIBUTE, True)
    return view
