"""What one route demands of a verified token, as both adapters' decorators declare it."""

from __future__ import annotations

import pytest

from jwt_guard_core import ConfigurationError
from jwt_guard_core.dpop import DPoPPolicy
from jwt_guard_core.errors import InsufficientRole, InsufficientScope, TokenError
from jwt_guard_core.route_policy import RouteRequirement, route_locations, route_scopes
from jwt_guard_core.sender import ResourcePolicy, SenderResult
from jwt_guard_core.step_up import InsufficientUserAuthentication
from tests.core.dpop_support import issue_token
from tests.factories import NOW, named


@pytest.fixture
def token(keyring, make_verifier):
    _, verified = issue_token(
        keyring, make_verifier(), scope="orders:read", roles=["clerk"], acr="pwd", auth_time=NOW
    )
    return verified


def _refused(route: RouteRequirement, token, policy=None, sender=None) -> TokenError:
    with pytest.raises(TokenError) as info:
        route.check(token, policy or ResourcePolicy(), sender)
    return info.value


def test_a_route_without_demands_accepts_any_verified_token(token):
    route = RouteRequirement()
    assert not route.demands
    route.check(token, ResourcePolicy(), None)


def test_a_missing_scope_is_403_insufficient_scope_and_an_event(token, recorded_events):
    error = _refused(RouteRequirement(scopes=("orders:write",)), token)
    assert isinstance(error, InsufficientScope)
    assert (error.status, error.error, error.required) == (
        403,
        "insufficient_scope",
        ("orders:write",),
    )
    assert [e.reason for e in named(recorded_events, "token_rejected")] == ["insufficient_scope"]


def test_one_scope_is_enough_with_any_scope(token):
    RouteRequirement(scopes=("orders:write", "orders:read"), any_scope=True).check(
        token, ResourcePolicy(), None
    )


def test_a_missing_role_is_403_insufficient_role(token, recorded_events):
    error = _refused(RouteRequirement(roles=("admin",)), token)
    assert isinstance(error, InsufficientRole)
    assert (error.status, error.reason) == (403, "insufficient_role")
    assert [e.reason for e in named(recorded_events, "token_rejected")] == ["insufficient_role"]
    RouteRequirement(roles=("admin", "clerk"), any_role=True).check(token, ResourcePolicy(), None)


def test_dpop_required_refuses_an_unbound_request(token):
    route = RouteRequirement.declare(dpop="required")
    policy = ResourcePolicy(dpop=DPoPPolicy(mode="allowed"))
    error = _refused(route, token, policy, SenderResult())
    assert (error.status, error.reason) == (401, "dpop_required")
    route.check(token, policy, SenderResult(dpop_bound=True, jkt="x"))


def test_dpop_required_with_dpop_off_is_a_configuration_error(token):
    with pytest.raises(ConfigurationError):
        RouteRequirement.declare(dpop="required").check(token, ResourcePolicy(), None)


def test_step_up_is_checked_before_scopes(token, clock):
    route = RouteRequirement.declare(scopes=("orders:write",), acr_values=["mfa"], max_age=60)
    error = _refused(route, token, ResourcePolicy(clock=clock))
    assert isinstance(error, InsufficientUserAuthentication)
    assert (error.reason, error.acr_values, error.max_age) == ("acr_not_accepted", ("mfa",), 60)


@pytest.mark.parametrize(
    "arguments", [{"dpop": "allowed"}, {"acr_values": ["a b"]}, {"max_age": -1}]
)
def test_bad_route_arguments_fail_when_the_route_is_declared(arguments):
    with pytest.raises(ConfigurationError):
        RouteRequirement.declare(**arguments)


def test_route_scopes_split_a_string_like_the_scope_claim():
    assert route_scopes("orders:read orders:write") == ("orders:read", "orders:write")
    assert route_scopes(["orders:read", "a~b"]) == ("orders:read", "a~b")
    assert route_scopes("") == ()


@pytest.mark.parametrize(
    "scopes", ["a\tb", "a  b", " a", "a\u00a0b", ["a b"], ["caf\u00e9"], [""], [3]]
)
def test_route_scopes_outside_the_grammar_fail_when_declared(scopes):
    with pytest.raises(ConfigurationError) as info:
        RouteRequirement.declare(scopes=scopes)
    assert info.value.setting == "scopes"


def test_route_locations_read_like_the_setting():
    assert route_locations(None) is None
    assert route_locations("Cookie") == ("cookie",)
    assert route_locations(["header", "cookie", "header"]) == ("header", "cookie")


@pytest.mark.parametrize("locations", [["query"], [], [3]])
def test_route_locations_with_a_typo_fail_when_declared(locations):
    with pytest.raises(ConfigurationError) as info:
        route_locations(locations)
    assert info.value.setting == "locations"


@pytest.mark.parametrize(
    "route",
    [
        RouteRequirement(),
        RouteRequirement(scopes=("orders:read",)),
        RouteRequirement(scopes=("orders:write",)),
        RouteRequirement(scopes=("orders:write", "orders:read"), any_scope=True),
        RouteRequirement(scopes=("orders:write", "orders:read")),
        RouteRequirement(roles=("clerk",)),
        RouteRequirement(roles=("admin",)),
        RouteRequirement(roles=("admin", "clerk"), any_role=True),
        RouteRequirement(scopes=("orders:read",), roles=("admin",)),
    ],
)
def test_allows_decides_scopes_and_roles_as_check(token, route):
    # allows() is the per-request shortcut; check() stays the one that refuses.
    try:
        route.check(token, ResourcePolicy(), None)
    except TokenError:
        assert not route.allows(token)
    else:
        assert route.allows(token)


@pytest.mark.parametrize(
    "route",
    [
        RouteRequirement(dpop="required"),
        RouteRequirement.declare(acr_values="pwd"),
        RouteRequirement(scopes="orders:read"),  # type: ignore[arg-type]
        RouteRequirement(scopes=("orders read",)),
    ],
    ids=["dpop", "step-up", "string-scopes", "bad-scope-name"],
)
def test_allows_leaves_every_other_demand_to_check(token, route):
    assert not route.allows(token)
