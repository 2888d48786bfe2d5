"""DRF permission classes over the token's scopes, roles, DPoP and step-up (docs/django.md)."""

from __future__ import annotations

from functools import partial
from typing import Any, ClassVar

from django.core.exceptions import ImproperlyConfigured
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from jwt_guard_core import TokenError, VerifiedToken
from jwt_guard_core import route_attributes as demands
from jwt_guard_core.route_checks import mark

from ._auth import authenticate
from .authentication import api_error
from .conf import served

__all__ = [
    "HasAnyRole",
    "HasAnyScope",
    "HasRoles",
    "HasScopes",
    "RequiresAuthLevel",
    "RequiresDPoP",
]


class _TokenPermission(BasePermission):
    """A DRF permission over the request's verified token and what ``demand`` reads on the view."""

    demand: ClassVar[demands.ViewDemand]

    def __init_subclass__(cls, demand: demands.ViewDemand | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if demand is not None:
            cls.demand = demand
            mark(cls, dpop=demand.dpop)  # what the start-up check (jwt_guard.E015) reads

    @classmethod
    def view_requirements(cls, view: Any) -> demands.MethodRequirements:
        """What ``view`` demands here; raises ``RouteAttributeError`` (checks E022, E023)."""
        return cls.demand.read(view)

    def has_permission(self, request: Request, view: Any) -> bool:
        token = request.auth
        if not isinstance(token, VerifiedToken):
            return False  # DRF answers 401 (with our challenge) without a token
        outcome = partial(authenticate, request._request)
        try:
            # Read per request: as_view(**initkwargs) can give one class other attributes.
            self.demand.check(
                view, request.method, token, served.resource(), lambda: outcome().sender
            )
        except demands.RouteAttributeError as exc:
            # Django's convention for a configuration error (jwt_guard.E022/E023 at start-up).
            raise ImproperlyConfigured(exc.for_view(view, self)) from None
        except TokenError as exc:
            raise api_error(exc, request, dpop=self.demand.dpop) from None
        return True


class HasScopes(_TokenPermission, demand=demands.SCOPES):
    """The token must carry every scope in the view's ``required_scopes``."""


class HasAnyScope(HasScopes, demand=demands.ANY_SCOPE):
    """The token must carry at least one scope of the view's ``required_scopes``."""


class HasRoles(_TokenPermission, demand=demands.ROLES):
    """The token must carry every role in the view's ``required_roles``."""


class HasAnyRole(HasRoles, demand=demands.ANY_ROLE):
    """The token must carry at least one role of the view's ``required_roles``."""


class RequiresDPoP(_TokenPermission, demand=demands.DPOP):
    """Only a DPoP-bound token with a valid proof (RFC 9449): see docs/dpop.md."""


class RequiresAuthLevel(_TokenPermission, demand=demands.STEP_UP):
    """Step-up (RFC 9470): the view's ``required_acr_values``/``required_max_age`` (step-up.md)."""
