"""``@jwt_required``, ``@require_scopes``, ``@require_roles`` for sync and async views
(where they go and what they refuse: docs/flask.md, "Protecting views")."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any, TypeVar, overload

from jwt_guard_core.route_checks import mark
from jwt_guard_core.route_guard import guard_view as _guarded
from jwt_guard_core.route_guard import route_decorators
from jwt_guard_core.route_policy import RouteRequirement, declare_route
from jwt_guard_core.route_policy import route_scopes as normalize_scopes
from jwt_guard_core.steps import Io, Steps

from ._request import EXEMPT_ATTRIBUTE, aauthenticate, authenticate, enforce

__all__ = [
    "jwt_exempt",
    "jwt_required",
    "normalize_scopes",
    "require_any_role",
    "require_roles",
    "require_scopes",
]

F = TypeVar("F", bound=Callable[..., Any])


def route_check(
    route: RouteRequirement, *, optional: bool = False, locations: tuple[str, ...] | None = None
) -> Callable[..., None]:
    """Authenticate the request, then ``route``'s demands: a sync view's or a blueprint's check
    (written out: no generator per request), marked for the start-up route checks."""
    dpop = route.dpop

    def check(*args: Any, **kwargs: Any) -> None:
        token = authenticate(optional=optional, locations=locations, dpop=dpop)
        if token is not None:
            enforce(token, route)

    mark(check, dpop=route.dpop, step_up=route.step_up)
    return check


def guard_view(
    view: F,
    route: RouteRequirement,
    *,
    optional: bool = False,
    locations: tuple[str, ...] | None = None,
) -> F:
    """``view`` behind authentication (``optional``, ``locations``) and ``route``'s demands."""
    how: dict[str, Any] = {"optional": optional, "locations": locations, "dpop": route.dpop}
    authentication = Io(partial(authenticate, **how), partial(aauthenticate, **how))

    def steps(*args: Any, **kwargs: Any) -> Steps[None]:
        token = yield authentication
        if token is not None:
            enforce(token, route)

    sync = route_check(route, optional=optional, locations=locations)
    return _guarded(view, route, steps, is_async=inspect.iscoroutinefunction(view), sync=sync)


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

    ``optional`` lets requests without a token through; ``scopes`` (one of
    them with ``any_scope``), ``dpop="required"`` and the step-up
    ``acr_values``/``max_age`` are demands on the token; ``locations``
    overrides ``JWT_GUARD_TOKEN_LOCATION``. Arguments and refusals: docs/flask.md.
    """
    route, where = declare_route(scopes, any_scope, locations, dpop, acr_values, max_age)
    if view is None:
        return lambda fn: guard_view(fn, route, optional=optional, locations=where)
    if not callable(view):
        raise TypeError("jwt_required takes keyword arguments: @jwt_required(optional=True)")
    return guard_view(view, route, optional=optional, locations=where)


def _scopes(scopes: tuple[str, ...], any_of: bool) -> RouteRequirement:
    needed = normalize_scopes(scopes)
    if not needed:
        raise ValueError("require_scopes needs at least one scope")
    return RouteRequirement(scopes=needed, any_scope=any_of)


require_scopes, require_roles, require_any_role = route_decorators(__name__, guard_view, _scopes)


def jwt_exempt(view: F) -> F:
    """Let ``view`` run, with ``optional=True``, whatever state the access *cookie* is in.

    A cookie that fails verification counts as no token (docs/flask.md).
    """
    setattr(view, EXEMPT_ATTRIBUTE, True)
    return view
