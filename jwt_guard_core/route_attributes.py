"""A class-based view's requirement, read from its attributes: ``required_scopes`` and friends.

DRF's permission classes (``HasScopes``, ``HasRoles``, ``RequiresAuthLevel``)
find what a view demands on the view itself, not in decorator arguments. The
functions here read those attributes with the validation the decorators use
(:func:`~jwt_guard_core.route_policy.route_scopes`,
:func:`~jwt_guard_core.claims_policy.role_list`,
:func:`~jwt_guard_core.sender.route_step_up`), so one answer serves both
ends: the start-up route check (Django ``jwt_guard.E022`` / ``E023``) reports
a view whose attribute is missing or wrong, and the permission refuses to
guess per request. A bad attribute raises :class:`RouteAttributeError`.
Each permission class names one :class:`ViewDemand` (:data:`SCOPES`,
:data:`ROLES`, :data:`DPOP`, :data:`STEP_UP` ...): what it reads, and how it
refuses a method the view's per-method table leaves out.

Beyond the decorators' grammar, an attribute that demands nothing (an empty
list, an empty dict) is refused: the permission class in
``permission_classes`` says the view is protected, and an empty
``required_scopes`` would let every token through.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .claims_policy import role_list
from .errors import ConfigurationError, InsufficientRole, InsufficientScope, TokenError
from .route_policy import RouteRequirement, route_scopes
from .sender import ResourcePolicy, SenderResult, route_step_up
from .token import VerifiedToken

__all__ = [
    "ANY_ROLE",
    "ANY_SCOPE",
    "DPOP",
    "ROLES",
    "SCOPES",
    "STEP_UP",
    "MethodRequirements",
    "RouteAttributeError",
    "ViewDemand",
    "attribute_example",
    "view_roles",
    "view_scopes",
    "view_step_up",
]

#: How each attribute is spelt when right: the fix a finding or an error suggests.
_EXAMPLES = {
    "required_scopes": "required_scopes = ['orders:read'] "
    "(or per method: {'GET': ['orders:read'], 'POST': ['orders:write']})",
    "required_roles": "required_roles = ['admin'] "
    "(or per method: {'GET': ['reader'], 'POST': ['admin']})",
    "required_acr_values": "required_acr_values = ['urn:example:mfa'] "
    "and/or required_max_age = 300",
    "required_max_age": "required_max_age = 300 (whole seconds since the user authenticated)",
}


class RouteAttributeError(ConfigurationError):
    """A view attribute a permission reads is missing (``missing``) or holds a bad value.

    ``setting`` is the attribute's name, ``problem`` what is wrong with it, in
    words that follow "the view ..." (``sets no required_scopes``).
    """

    def __init__(self, attribute: str, problem: str, *, missing: bool = False) -> None:
        super().__init__(attribute, problem)
        self.problem = problem
        self.missing = missing

    def for_view(self, view: object, permission: object) -> str:
        """The error message for the instance ``view`` behind the instance ``permission``."""
        return (
            f"{type(view).__name__} uses {type(permission).__name__} (jwt-guard) but "
            f"{self.problem}. Set {attribute_example(self.setting)} on the view."
        )


def attribute_example(attribute: str) -> str:
    """The attribute spelt right, for a hint: ``required_scopes = ['orders:read'] ...``."""
    return _EXAMPLES.get(attribute, attribute)


@dataclass(frozen=True)
class MethodRequirements:
    """A view's requirement: one for every HTTP method, or one per method name.

    ``methods`` pairs upper-case method names with their requirement; a
    method not named there gets ``None`` from :meth:`for_method` (refused:
    a forgotten entry must not open an endpoint), ``HEAD`` falling back to
    ``GET``.
    """

    every: RouteRequirement | None = None
    methods: tuple[tuple[str, RouteRequirement], ...] = ()

    def for_method(self, method: str | None) -> RouteRequirement | None:
        """The requirement of a request with ``method``, or ``None``: not allowed at all."""
        if self.every is not None:
            return self.every
        table = dict(self.methods)
        name = (method or "GET").upper()
        found = table.get(name)
        if found is None and name == "HEAD":
            found = table.get("GET")
        return found


def _per_method(
    attribute: str, value: object, what: str, build: Callable[[Sequence[Any]], RouteRequirement]
) -> MethodRequirements:
    """``value``: a list for every method, or a dict of method to list; ``build`` reads a list."""
    if value is None:
        raise RouteAttributeError(attribute, f"sets no {attribute}", missing=True)
    if isinstance(value, Mapping):
        if not value:
            raise RouteAttributeError(
                attribute, f"sets {attribute} to an empty dict: every method would be refused"
            )
        methods = []
        for method, names in value.items():
            if not isinstance(method, str) or not method.isupper() or not method.isalpha():
                raise RouteAttributeError(
                    attribute,
                    f"sets {attribute} with the key {method!r}, which is not an HTTP method "
                    "in upper case ('GET', 'POST', ...): no request would ever match it",
                )
            methods.append((method, _list(attribute, f"{attribute}[{method!r}]", names, what)))
        return MethodRequirements(methods=tuple((m, build(n)) for m, n in methods))
    return MethodRequirements(every=build(_list(attribute, attribute, value, what)))


def _list(attribute: str, where: str, value: object, what: str) -> Sequence[Any]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise RouteAttributeError(
            attribute,
            f"sets {where} to {value!r}, which is not a list of {what} "
            "(or, at the top, a dict of method to list)",
        )
    if not value:
        raise RouteAttributeError(
            attribute, f"sets {where} to an empty list, which would let every token through"
        )
    return value


def _renamed(attribute: str, exc: ConfigurationError) -> RouteAttributeError:
    detail = str(exc).removeprefix(f"{exc.setting}: ")
    return RouteAttributeError(attribute, f"sets a bad {attribute}: {detail}")


def view_scopes(
    value: object, *, any_of: bool = False, attribute: str = "required_scopes"
) -> MethodRequirements:
    """A view's ``required_scopes``: a list of scope names, or a dict of method to list.

    Each name is checked as the decorators check theirs (RFC 6749 section
    3.3: no space, tab, ``"`` or ``\\``); ``None`` (not set), an empty list
    or dict, a string, or a lower-case method key raises
    :class:`RouteAttributeError`.
    """

    def build(names: Sequence[Any]) -> RouteRequirement:
        try:
            return RouteRequirement(scopes=route_scopes(names), any_scope=any_of)
        except ConfigurationError as exc:
            raise _renamed(attribute, exc) from None

    return _per_method(attribute, value, "scope names", build)


def view_roles(
    value: object, *, any_of: bool = False, attribute: str = "required_roles"
) -> MethodRequirements:
    """A view's ``required_roles``, read like :func:`view_scopes`; role names are non-empty."""

    def build(names: Sequence[Any]) -> RouteRequirement:
        try:
            return RouteRequirement(roles=role_list(attribute, names), any_role=any_of)
        except ConfigurationError as exc:
            raise _renamed(attribute, exc) from None

    return _per_method(attribute, value, "role names", build)


def view_step_up(acr_values: object, max_age: object) -> MethodRequirements:
    """A view's ``required_acr_values`` and ``required_max_age`` (RFC 9470 step-up).

    At least one must be set (``None`` is not set) and together they must
    demand something; each is checked as the decorators' ``acr_values`` and
    ``max_age`` are.
    """
    if acr_values is None and max_age is None:
        raise RouteAttributeError(
            "required_acr_values",
            "sets neither required_acr_values nor required_max_age",
            missing=True,
        )
    try:
        step_up = route_step_up(() if acr_values is None else acr_values, max_age)  # type: ignore[arg-type]
    except ConfigurationError as exc:
        raise _renamed(f"required_{exc.setting}", exc) from None
    if step_up is None:
        raise RouteAttributeError(
            "required_acr_values",
            "sets an empty required_acr_values and no required_max_age: it demands no step-up",
        )
    return MethodRequirements(every=RouteRequirement(step_up=step_up))


@dataclass(frozen=True)
class ViewDemand:
    """What a permission class reads on a view: ``required_scopes``, ``required_roles`` ...

    ``read`` gives the view's :class:`MethodRequirements` (a bad attribute
    raises :class:`RouteAttributeError`); ``refusal`` is the error for a
    method its per-method table does not name; ``dpop`` is its routes' DPoP
    demand.
    """

    read: Callable[[Any], MethodRequirements]
    refusal: Callable[[], TokenError] = InsufficientScope
    dpop: str | None = None

    def route(self, view: Any, method: str | None) -> RouteRequirement:
        """The requirement of a ``method`` request to ``view``; an unnamed method is refused."""
        route = self.read(view).for_method(method)
        if route is None:
            # A forgotten entry must not open an endpoint.
            raise self.refusal()
        return route

    def check(
        self,
        view: Any,
        method: str | None,
        token: VerifiedToken,
        policy: ResourcePolicy,
        sender: Callable[[], SenderResult | None],
    ) -> None:
        """Refuse ``token`` on a ``method`` request to ``view`` (a :class:`TokenError`).

        A bad attribute raises :class:`RouteAttributeError`; ``sender()``, what
        the request's sender checks found, is asked only when the route demands
        DPoP.
        """
        route = self.route(view, method)
        route.check(token, policy, sender() if route.dpop else None)


SCOPES = ViewDemand(lambda view: view_scopes(getattr(view, "required_scopes", None)))
ANY_SCOPE = ViewDemand(
    lambda view: view_scopes(getattr(view, "required_scopes", None), any_of=True)
)
ROLES = ViewDemand(lambda view: view_roles(getattr(view, "required_roles", None)), InsufficientRole)
ANY_ROLE = ViewDemand(
    lambda view: view_roles(getattr(view, "required_roles", None), any_of=True), InsufficientRole
)
_DPOP = MethodRequirements(every=RouteRequirement(dpop="required"))
DPOP = ViewDemand(lambda view: _DPOP, dpop="required")
STEP_UP = ViewDemand(
    lambda view: view_step_up(
        getattr(view, "required_acr_values", None), getattr(view, "required_max_age", None)
    )
)
