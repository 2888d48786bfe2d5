"""The guarded view both adapters' decorators build: one set of steps, a sync or async wrapper."""

from __future__ import annotations

import asyncio

import pytest

from jwt_guard_core import ConfigurationError
from jwt_guard_core.request_policy import Outcome
from jwt_guard_core.route_checks import requirements_of
from jwt_guard_core.route_guard import guard_view, route_answer, route_decorators
from jwt_guard_core.route_policy import RouteRequirement
from jwt_guard_core.sender import ResourcePolicy
from jwt_guard_core.steps import Io, Steps
from tests.core.dpop_support import issue_token


@pytest.fixture
def token(keyring, make_verifier):
    _, verified = issue_token(keyring, make_verifier(), scope="orders:read", roles=["clerk"])
    return verified


def _steps(answer):
    def steps(*args, **kwargs) -> Steps:
        seen = yield Io(lambda: ("sync", args, kwargs), lambda: _async(args, kwargs))
        calls.append(seen)
        return answer

    calls: list = []
    return steps, calls


async def _async(args, kwargs):
    return ("async", args, kwargs)


def test_a_sync_view_runs_when_its_steps_return_none_and_keeps_its_name():
    steps, calls = _steps(None)

    def listed(request, pk):
        """Lists things."""
        return ("view", request, pk)

    guarded = guard_view(listed, RouteRequirement(), steps, is_async=False)
    assert guarded("req", pk=3) == ("view", "req", 3)
    assert calls == [("sync", ("req",), {"pk": 3})]
    assert (guarded.__name__, guarded.__doc__) == ("listed", "Lists things.")


def test_an_async_view_is_driven_on_the_async_path_and_answered_by_its_steps():
    steps, calls = _steps("refused")

    async def view(request):
        raise AssertionError("the view must not run")

    guarded = guard_view(view, RouteRequirement(), steps, is_async=True)
    assert asyncio.run(guarded("req")) == "refused"
    assert calls == [("async", ("req",), {})]


def test_the_wrapper_records_a_dpop_demand_for_the_start_up_checks():
    steps, _ = _steps(None)
    guarded = guard_view(lambda: None, RouteRequirement(dpop="required"), steps, is_async=False)
    found = requirements_of(guarded)
    assert found is not None
    assert found.dpop == "required"
    assert (
        requirements_of(guard_view(lambda: None, RouteRequirement(), steps, is_async=False)) is None
    )


def test_no_token_is_401_unless_optional():
    route = RouteRequirement()
    assert route_answer(route, Outcome(), ResourcePolicy(), optional=True) is None
    answer = route_answer(route, Outcome(), ResourcePolicy())
    assert answer is not None
    assert answer.status == 401


def test_a_token_short_of_the_route_gets_its_refusal(token):
    policy = ResourcePolicy()
    assert (
        route_answer(RouteRequirement(scopes=("orders:read",)), Outcome(token=token), policy)
        is None
    )
    answer = route_answer(RouteRequirement(scopes=("orders:write",)), Outcome(token=token), policy)
    assert answer is not None
    assert answer.status == 403
    assert 'error="insufficient_scope"' in answer.headers["WWW-Authenticate"]


def test_route_decorators_are_named_for_the_adapter_and_check_their_arguments():
    declared = []

    def guard(view, route):
        declared.append(route)
        return view

    def scopes_route(scopes, any_of):
        return RouteRequirement(scopes=scopes, any_scope=any_of)

    require_scopes, require_roles, require_any_role = route_decorators(
        "adapter.decorators", guard, scopes_route
    )
    assert require_roles.__module__ == "adapter.decorators"
    assert require_any_role.__qualname__ == "require_any_role"

    def view():
        return None

    assert require_scopes("a", "b", any_of=True)(view) is view
    require_any_role("clerk")(view)
    assert declared == [
        RouteRequirement(scopes=("a", "b"), any_scope=True),
        RouteRequirement(roles=("clerk",), any_role=True),
    ]
    with pytest.raises(ConfigurationError) as caught:
        require_roles()
    assert caught.value.setting == "require_roles"
