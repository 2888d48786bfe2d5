"""Start-up findings about routes: a view that demands what the settings turned off (issue 15).

A view decorated ``dpop="required"`` (or a DRF view with ``RequiresDPoP``)
while ``DPOP`` is ``"off"`` cannot accept any token: without this check
the first request with a token finds it (a ``ConfigurationError``, a 500).
The decorators and permission classes of both adapters record what a view
demands with :func:`mark`; each adapter walks its routes (Django: the URL
resolver; Flask: ``app.url_map`` and blueprint guards) and hands
``(route label, requirements)`` pairs to :func:`route_findings`, which
decides without I/O.

A class-based view whose permission class reads an attribute (DRF's
``HasScopes`` and ``required_scopes``) the view lacks or spells wrong fails
on its first request the same way: :func:`attribute_findings` reports it,
from what :mod:`jwt_guard_core.route_attributes` raised for the view.

Certificate binding (RFC 8705) has no per-route demand, so no route can
need ``MTLS_CERTIFICATE_HEADER``; step-up (``acr_values``, ``max_age``)
needs no setting.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import ConfigurationError
from .route_attributes import RouteAttributeError, attribute_example
from .settings.audit import Finding

if TYPE_CHECKING:
    from .settings.loaded import GuardSettings
    from .step_up import StepUpRequirement

__all__ = [
    "MARKER",
    "RouteRequirements",
    "attribute_findings",
    "mark",
    "requirements_of",
    "route_findings",
]

#: The attribute that carries a view's :class:`RouteRequirements`.
#: ``functools.wraps`` copies it to any decorator applied outside ours.
MARKER = "jwt_guard_requirements"


@dataclass(frozen=True)
class RouteRequirements:
    """What one view demands beyond a valid token: DPoP (``"required"``), step-up."""

    dpop: str | None = None
    step_up: StepUpRequirement | None = None

    def __or__(self, other: RouteRequirements) -> RouteRequirements:
        """Both demands (a decorated view behind a DRF permission, say)."""
        return RouteRequirements(self.dpop or other.dpop, self.step_up or other.step_up)


def mark(target: Any, *, dpop: str | None = None, step_up: StepUpRequirement | None = None) -> None:
    """Record on ``target`` (a view, a blueprint guard) what it demands; nothing when nothing."""
    if dpop is not None or step_up is not None:
        setattr(target, MARKER, RouteRequirements(dpop, step_up))


def requirements_of(*targets: Any) -> RouteRequirements | None:
    """The demands recorded on any of ``targets`` (views, permission classes), combined."""
    found = [getattr(t, MARKER, None) for t in targets]
    marked = [r for r in found if isinstance(r, RouteRequirements)]
    if not marked:
        return None
    combined = marked[0]
    for more in marked[1:]:
        combined = combined | more
    return combined


def route_findings(
    settings: GuardSettings, routes: Iterable[tuple[str, RouteRequirements]]
) -> list[Finding]:
    """``route_dpop_off`` (an error) for each route demanding DPoP while ``DPOP`` is off.

    ``routes`` are ``(label, requirements)``: the label names the route as
    its framework does (``URL pattern 'orders/' (name 'orders')``, ``route
    /orders (endpoint 'orders')``). A ``DPOP`` value that does not read is
    left to the settings findings.
    """
    try:
        mode = settings.read("dpop")
    except ConfigurationError:
        return []
    if mode != "off":
        return []
    name = settings.name("dpop")
    return [
        Finding(
            "route_dpop_off",
            True,
            f"{label} requires a DPoP-bound token (dpop='required') but {name} is 'off': "
            "no token can satisfy it, and every request to it with a token fails with a "
            "ConfigurationError (500).",
            f"Set {name} to 'allowed' (bearer and DPoP-bound tokens) or 'required', or drop "
            "the route's DPoP demand.",
        )
        for label, requirements in routes
        if requirements.dpop == "required"
    ]


def attribute_findings(problems: Iterable[tuple[str, str, RouteAttributeError]]) -> list[Finding]:
    """An error for each view whose permission class reads an attribute it lacks or spells wrong.

    ``problems`` are ``(label, permission, error)``: the route's label (as
    for :func:`route_findings`), the permission class's name, and what
    :mod:`jwt_guard_core.route_attributes` raised reading the view.
    ``route_attribute_missing`` when the attribute is not set,
    ``route_attribute_invalid`` when its value is wrong.
    """
    return [
        Finding(
            "route_attribute_missing" if error.missing else "route_attribute_invalid",
            True,
            f"{label} uses {permission} but {error.problem}. Every request to it with a "
            "token fails with a configuration error (500).",
            f"Set {attribute_example(error.setting)} on the view, or drop {permission} "
            "from its permission_classes.",
        )
        for label, permission, error in problems
    ]
