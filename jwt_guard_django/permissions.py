"""DRF permission classes that check the token's scopes, roles, DPoP binding and step-up.

.. code-block:: python

    class OrderList(APIView):
        permission_classes = [HasScopes]
        required_scopes = {"GET": ["orders:read"], "POST": ["orders:write"]}

``required_scopes`` is a list of scopes, or a dict of HTTP method to list
(``HEAD`` falls back to ``GET``). A method the dict does not name is refused:
a forgotten entry must not open an endpoint. Too few scopes is 403 with
``WWW-Authenticate: Bearer ..., error="insufficient_scope", scope="..."``
(RFC 6750 section 3.1); no token at all is 401.

:class:`HasRoles` and :class:`HasAnyRole` read ``required_roles`` the same
way and check ``VerifiedToken.roles`` (see ``ROLES_CLAIM``); too few roles is
403 with ``error="insufficient_scope"`` and no ``scope`` parameter.

The attributes are read by :mod:`jwt_guard_core.route_attributes` with the
decorators' validation; the system checks ``jwt_guard.E022`` / ``E023`` read
every view of the URLconf the same way at start-up.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from jwt_guard_core import InsufficientScope, TokenError, VerifiedToken
from jwt_guard_core.errors import InsufficientRole
from jwt_guard_core.route_attributes import (
    MethodRequirements,
    RouteAttributeError,
    attribute_example,
    view_roles,
    view_scopes,
    view_step_up,
)
from jwt_guard_core.route_checks import mark
from jwt_guard_core.route_policy import RouteRequirement

from ._auth import authenticate
from .authentication import api_error
from .resource import get_resource

__all__ = [
    "HasAnyRole",
    "HasAnyScope",
    "HasRoles",
    "HasScopes",
    "RequiresAuthLevel",
    "RequiresDPoP",
]

_DPOP = MethodRequirements(every=RouteRequirement(dpop="required"))


class _TokenPermission(BasePermission):
    """A DRF permission over the request's verified token: one route requirement per request.

    :meth:`view_requirements` reads what the view demands from its attributes;
    the start-up check (``jwt_guard.E022`` / ``E023``) calls it for every view
    of the URLconf, so a missing or bad attribute is found before a request.
    """

    @classmethod
    def view_requirements(cls, view: Any) -> MethodRequirements:
        """What ``view`` demands through this permission; a bad attribute raises.

        Raises :class:`~jwt_guard_core.route_attributes.RouteAttributeError`.
        """
        raise NotImplementedError

    def refusal(self) -> TokenError:
        """The answer to a method the view's per-method table does not name."""
        return InsufficientScope(())

    def requirement(self, request: Request, view: Any) -> RouteRequirement:
        try:
            # Read per request, not cached per view class: as_view(**initkwargs)
            # can give one class other attributes on another URL pattern.
            demands = self.view_requirements(view)
        except RouteAttributeError as exc:
            # Django's convention for a configuration error; jwt_guard.E022 /
            # E023 report the same at start-up unless checks were silenced.
            raise ImproperlyConfigured(
                f"{type(view).__name__} uses {type(self).__name__} (jwt-guard) but "
                f"{exc.problem}. Set {attribute_example(exc.setting)} on the view."
            ) from None
        route = demands.for_method(request.method)
        if route is None:
            raise api_error(self.refusal(), request)
        return route

    def has_permission(self, request: Request, view: Any) -> bool:
        token = request.auth
        if not isinstance(token, VerifiedToken):
            # DRF turns this into 401 (with our challenge) for an
            # unauthenticated request.
            return False
        route = self.requirement(request, view)
        # Only a DPoP demand reads what the request's sender checks found.
        sender = authenticate(request._request).sender if route.dpop else None
        try:
            route.check(token, get_resource(), sender)
        except TokenError as exc:
            raise api_error(exc, request, dpop=route.dpop) from None
        return True


class HasScopes(_TokenPermission):
    """The token must carry every scope in the view's ``required_scopes``."""

    any_of = False

    @classmethod
    def view_requirements(cls, view: Any) -> MethodRequirements:
        return view_scopes(getattr(view, "required_scopes", None), any_of=cls.any_of)


class HasAnyScope(HasScopes):
    """The token must carry at least one scope of the view's ``required_scopes``."""

    any_of = True


class HasRoles(_TokenPermission):
    """The token must carry every role in the view's ``required_roles``."""

    any_of = False

    @classmethod
    def view_requirements(cls, view: Any) -> MethodRequirements:
        return view_roles(getattr(view, "required_roles", None), any_of=cls.any_of)

    def refusal(self) -> TokenError:
        return InsufficientRole(())


class HasAnyRole(HasRoles):
    """The token must carry at least one role of the view's ``required_roles``."""

    any_of = True


class RequiresDPoP(_TokenPermission):
    """Only a DPoP-bound token with a valid proof (RFC 9449), whatever else ``DPOP`` allows.

    ``JWT_GUARD["DPOP"]`` must be ``"allowed"`` or ``"required"``. A bearer
    token gets 401 ``invalid_token`` with a ``DPoP`` challenge.
    """

    @classmethod
    def view_requirements(cls, view: Any) -> MethodRequirements:
        return _DPOP


# What the start-up check (jwt_guard.E015) reads from a view's permission_classes.
mark(RequiresDPoP, dpop="required")


class RequiresAuthLevel(_TokenPermission):
    """Step-up (RFC 9470): the view's ``required_acr_values`` and/or ``required_max_age``.

    .. code-block:: python

        class Payments(APIView):
            permission_classes = [IsAuthenticated, RequiresAuthLevel]
            required_acr_values = ["urn:example:mfa"]
            required_max_age = 300

    A token whose ``acr`` is not listed, or whose ``auth_time`` is older
    than ``required_max_age`` seconds, gets 401
    ``insufficient_user_authentication`` with ``acr_values`` and
    ``max_age`` in the challenge.
    """

    @classmethod
    def view_requirements(cls, view: Any) -> MethodRequirements:
        return view_step_up(
            getattr(view, "required_acr_values", None), getattr(view, "required_max_age", None)
        )
