"""What one route demands of a verified token: DPoP, step-up, scopes, roles.

The Django decorators and DRF permissions, the Flask decorators and
``JWTGuard.protect`` declare a :class:`RouteRequirement` when the view is
declared (a bad argument fails at import; Flask's arguments through
:func:`declare_route`) and call :meth:`RouteRequirement.check` per request;
the adapter only turns the raised :class:`~jwt_guard_core.errors.TokenError`
into its response.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from . import events
from .claims_policy import check_roles
from .errors import ConfigurationError, TokenError
from .http import check_scopes
from .sender import ResourcePolicy, SenderResult, route_dpop, route_step_up
from .settings.schema import LOCATION_ALIASES
from .step_up import StepUpRequirement
from .token import InvalidScope, VerifiedToken, is_scope_name, parse_scope

__all__ = ["RouteRequirement", "declare_route", "route_locations", "route_scopes"]


def route_locations(locations: Iterable[str] | str | None) -> tuple[str, ...] | None:
    """A route's own token locations (``"header"``, ``"cookie"``), or ``None``: the settings'.

    Spelled as ``TOKEN_LOCATIONS`` is; a typo raises
    :class:`~jwt_guard_core.errors.ConfigurationError` (``locations``) when
    the route is declared.
    """
    if locations is None:
        return None
    if isinstance(locations, str) or not isinstance(locations, Iterable):
        items: tuple[object, ...] = (locations,)  # a non-list is named below
    else:
        items = tuple(locations)
    found: list[str] = []
    for item in items:
        location = LOCATION_ALIASES.get(item.lower()) if isinstance(item, str) else None
        if location is None:
            raise ConfigurationError(
                "locations", f"unknown token location {item!r}; use 'header' and/or 'cookie'"
            )
        if location not in found:
            found.append(location)
    if not found:
        raise ConfigurationError("locations", "locations is empty; give 'header' and/or 'cookie'")
    return tuple(found)


def route_scopes(scopes: Iterable[str] | str) -> tuple[str, ...]:
    """A route's required scopes, spelled the way a token's ``scope`` claim is read.

    A string is split on single U+0020 spaces (RFC 6749 section 3.3: a tab,
    a doubled space or another space character is refused); a list gives
    one scope name per item. Anything else raises
    :class:`~jwt_guard_core.errors.ConfigurationError` (``scopes``) when the
    route is declared, so a route no token could ever pass fails at import.
    """
    if isinstance(scopes, str):
        try:
            return parse_scope(scopes, name="scopes")
        except InvalidScope as exc:
            raise ConfigurationError("scopes", f"{scopes!r}: {exc}") from None
    names = tuple(scopes) if isinstance(scopes, Iterable) else (scopes,)
    for name in names:
        if not is_scope_name(name):
            raise ConfigurationError(
                "scopes", f"{name!r} is not a scope name (RFC 6749 section 3.3)"
            )
    return names


@dataclass(frozen=True)
class RouteRequirement:
    """A route's own demands, checked in order: DPoP, step-up, scopes, roles.

    Args:
        scopes: scope names the token must carry (all, or one with ``any_scope``).
        roles: role names (``VerifiedToken.roles``), all or one with ``any_role``.
        dpop: ``"required"``: only a DPoP-bound token with a valid proof.
        step_up: the RFC 9470 ``acr_values`` / ``max_age`` demand.
    """

    scopes: tuple[str, ...] = ()
    any_scope: bool = False
    roles: tuple[str, ...] = ()
    any_role: bool = False
    dpop: str | None = None
    step_up: StepUpRequirement | None = None
    # Decided once: whether the demands are scopes and roles only, as sets.
    _plain: bool = field(init=False, repr=False, compare=False)
    _scope_set: frozenset[str] = field(init=False, repr=False, compare=False)
    _role_set: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # A string, or a name outside the scope grammar, is for check to refuse.
        plain = self.dpop is None and self.step_up is None and not isinstance(self.scopes, str)
        object.__setattr__(self, "_plain", plain and all(map(is_scope_name, self.scopes)))
        object.__setattr__(self, "_scope_set", frozenset(self.scopes))
        object.__setattr__(self, "_role_set", frozenset(self.roles))

    @classmethod
    def declare(
        cls,
        *,
        scopes: Iterable[str] | str = (),
        any_scope: bool = False,
        roles: tuple[str, ...] = (),
        any_role: bool = False,
        dpop: str | None = None,
        acr_values: Iterable[str] | str = (),
        max_age: int | None = None,
    ) -> RouteRequirement:
        """The requirement of a decorator's arguments, checked when the route is declared.

        A bad ``scopes`` (see :func:`route_scopes`), ``dpop``, ``acr_values``
        or ``max_age`` raises :class:`~jwt_guard_core.errors.ConfigurationError`
        naming it.
        """
        return cls(
            scopes=route_scopes(scopes),
            any_scope=any_scope,
            roles=roles,
            any_role=any_role,
            dpop=route_dpop(dpop),
            step_up=route_step_up(acr_values, max_age),
        )

    @property
    def demands(self) -> bool:
        """Whether a verified token can fail this requirement at all."""
        return bool(self.scopes or self.roles or self.dpop or self.step_up)

    def allows(self, token: VerifiedToken) -> bool:
        """Whether ``token`` meets every demand with nothing more to read; decided on sets.

        ``False`` is no refusal: a DPoP or step-up demand, or a scope or
        role missing, is for :meth:`check` to decide and report.
        """
        if not self._plain:
            return False
        scopes = self._scope_set
        if scopes and not (
            not scopes.isdisjoint(token.scopes) if self.any_scope else scopes <= token.scopes
        ):
            return False
        roles = self._role_set
        return not roles or (
            not roles.isdisjoint(token.roles) if self.any_role else roles <= token.roles
        )

    def check(
        self, token: VerifiedToken, policy: ResourcePolicy, sender: SenderResult | None
    ) -> None:
        """Raise the :class:`~jwt_guard_core.errors.TokenError` of the first demand not met.

        ``sender`` is what the request's DPoP and certificate checks found.
        DPoP and step-up refusals are reported by the policy; a missing scope
        or role is a ``token_rejected`` security event here.
        """
        # A route's own demands: DPoP (RFC 9449), step-up (RFC 9470).
        if self.dpop is not None:
            policy.require_dpop(sender)
        if self.step_up is not None:
            policy.step_up(token, self.step_up)
        try:
            check_scopes(token, self.scopes, any_of=self.any_scope)
            check_roles(token, self.roles, any_of=self.any_role)
        except TokenError as exc:
            events.emit("token_rejected", reason=exc.reason, status=exc.status)
            raise


def declare_route(
    scopes: Iterable[str] | str,
    any_scope: bool,
    locations: Iterable[str] | str | None,
    dpop: str | None,
    acr_values: Iterable[str] | str,
    max_age: int | None,
) -> tuple[RouteRequirement, tuple[str, ...] | None]:
    """A route's demands and its own token locations, checked when the route is declared."""
    needed = route_scopes(scopes)
    where = route_locations(locations)
    route = RouteRequirement.declare(
        scopes=needed, any_scope=any_scope, dpop=dpop, acr_values=acr_values, max_age=max_age
    )
    return route, where
