"""View decorators for plain Django views, sync or async (see docs/django.md, "Decorators")."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, overload

from asgiref.sync import iscoroutinefunction
from django.http import HttpRequest, HttpResponseBase

from jwt_guard_core.request_policy import user_not_found
from jwt_guard_core.route_guard import View, guard_view, route_answer, route_decorators
from jwt_guard_core.route_policy import RouteRequirement
from jwt_guard_core.steps import Steps

from ._auth import admit, authenticate_steps, to_response, user_steps
from .conf import served

__all__ = ["jwt_optional", "jwt_required", "require_any_role", "require_roles", "require_scopes"]


def _guard(view: View, route: RouteRequirement, optional: bool = False) -> View:
    """``view`` behind ``route``; it runs with ``request.auth`` (token) and ``request.user`` set."""

    def steps(request: HttpRequest, *args: Any, **kwargs: Any) -> Steps[HttpResponseBase | None]:
        outcome = yield from authenticate_steps(request)
        refused = admit(request, outcome, dpop=route.dpop)
        if refused is not None:
            return refused
        answer = route_answer(route, outcome, served.resource(), optional=optional)
        if answer is not None:
            return to_response(answer)
        if outcome.token is not None:
            user = yield from user_steps(request, outcome.token)
            if user is None:
                return to_response(outcome.answer(user_not_found()))
            request.user = user
        return None

    return guard_view(view, route, steps, is_async=iscoroutinefunction(view))


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

    ``dpop="required"``: a DPoP-bound token with its proof; ``acr_values``/``max_age``:
    step-up (RFC 9470), else 401 ``insufficient_user_authentication`` naming both.
    """
    route = RouteRequirement.declare(dpop=dpop, acr_values=acr_values, max_age=max_age)
    return (lambda v: _guard(v, route)) if view is None else _guard(view, route)


@overload
def jwt_optional(view: View) -> View: ...
@overload
def jwt_optional(view: None = None) -> Callable[[View], View]: ...


def jwt_optional(view: View | None = None) -> View | Callable[[View], View]:
    """A token is optional (``request.auth = None`` without one), but one sent must be valid."""
    route = RouteRequirement()
    return (lambda v: _guard(v, route, True)) if view is None else _guard(view, route, True)


def _scopes(scopes: tuple[str, ...], any_of: bool) -> RouteRequirement:
    if not scopes or not all(isinstance(s, str) and s for s in scopes):
        raise TypeError("require_scopes needs one or more scope names")
    return RouteRequirement.declare(scopes=scopes, any_scope=any_of)


require_scopes, require_roles, require_any_role = route_decorators(__name__, _guard, _scopes)
