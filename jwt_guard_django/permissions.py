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
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from jwt_guard_core import ConfigurationError, InsufficientScope, TokenError, VerifiedToken
from jwt_guard_core.errors import InsufficientRole
from jwt_guard_core.route_checks import mark
from jwt_guard_core.route_policy import RouteRequirement
from jwt_guard_core.step_up import StepUpRequirement

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

_DPOP = RouteRequirement(dpop="required")


def _required(
    request: Request, view: Any, attribute: str = "required_scopes"
) -> tuple[str, ...] | None:
    required = getattr(view, attribute, None)
    if required is None:
        what = "scope" if attribute == "required_scopes" else "role"
        raise ImproperlyConfigured(
            f"{type(view).__name__} uses a jwt-guard {what} permission but sets no {attribute}"
        )
    if isinstance(required, Mapping):
        method = (request.method or "GET").upper()
        chosen = required.get(method)
        if chosen is None and method == "HEAD":
            chosen = required.get("GET")
        if chosen is None:
            return None
        required = chosen
    if isinstance(required, str) or not isinstance(required, Sequence):
        what = "scopes" if attribute == "required_scopes" else "roles"
        raise ImproperlyConfigured(
            f"{type(view).__name__}.{attribute} must be a list of {what} or a dict of "
            "method to list"
        )
    return tuple(required)


class _TokenPermission(BasePermission):
    """A DRF permission over the request's verified token: one route requirement per request."""

    def requirement(self, request: Request, view: Any) -> RouteRequirement:
        raise NotImplementedError

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

    def requirement(self, request: Request, view: Any) -> RouteRequirement:
        required = _required(request, view)
        if required is None:
            raise api_error(InsufficientScope(()), request)
        return RouteRequirement(scopes=required, any_scope=self.any_of)


class HasAnyScope(HasScopes):
    """The token must carry at least one scope of the view's ``required_scopes``."""

    any_of = True


class HasRoles(_TokenPermission):
    """The token must carry every role in the view's ``required_roles``."""

    any_of = False

    def requirement(self, request: Request, view: Any) -> RouteRequirement:
        required = _required(request, view, "required_roles")
        if required is None:
            raise api_error(InsufficientRole(()), request)
        return RouteRequirement(roles=required, any_role=self.any_of)


class HasAnyRole(HasRoles):
    """The token must carry at least one role of the view's ``required_roles``."""

    any_of = True


class RequiresDPoP(_TokenPermission):
    """Only a DPoP-bound token with a valid proof (RFC 9449), whatever else ``DPOP`` allows.

    ``JWT_GUARD["DPOP"]`` must be ``"allowed"`` or ``"required"``. A bearer
    token gets 401 ``invalid_token`` with a ``DPoP`` challenge.
    """

    def requirement(self, request: Request, view: Any) -> RouteRequirement:
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

    def requirement(self, request: Request, view: Any) -> RouteRequirement:
        acr_values = getattr(view, "required_acr_values", ())
        max_age = getattr(view, "required_max_age", None)
        try:
            requirement = StepUpRequirement(acr_values, max_age)
        except ConfigurationError as exc:
            raise ImproperlyConfigured(f"{type(view).__name__}: {exc}") from None
        if not requirement.acr_values and requirement.max_age is None:
            raise ImproperlyConfigured(
                f"{type(view).__name__} uses RequiresAuthLevel but sets neither "
                "required_acr_values nor required_max_age"
            )
        return RouteRequirement(step_up=requirement)
