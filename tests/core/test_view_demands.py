"""The demands DRF-style permission classes read on a view (route_attributes.ViewDemand)."""

from __future__ import annotations

import pytest

from jwt_guard_core.errors import InsufficientRole, InsufficientScope
from jwt_guard_core.route_attributes import (
    ANY_ROLE,
    DPOP,
    SCOPES,
    STEP_UP,
    RouteAttributeError,
)


class View:
    required_scopes = {"GET": ["orders:read"]}  # noqa: RUF012
    required_roles = {"POST": ["admin"]}  # noqa: RUF012
    required_max_age = 300


def test_a_method_the_table_names_gets_its_requirement_head_falling_back_to_get():
    assert SCOPES.route(View(), "GET").scopes == ("orders:read",)
    assert SCOPES.route(View(), "HEAD").scopes == ("orders:read",)


def test_a_method_the_table_does_not_name_is_refused_with_the_demand_s_error():
    with pytest.raises(InsufficientScope):
        SCOPES.route(View(), "DELETE")
    with pytest.raises(InsufficientRole):
        ANY_ROLE.route(View(), "GET")
    assert ANY_ROLE.route(View(), "POST").any_role is True


def test_dpop_and_step_up_demand_the_same_of_every_method():
    assert DPOP.dpop == "required"
    assert DPOP.route(object(), "PATCH").dpop == "required"
    step_up = STEP_UP.route(View(), "GET").step_up
    assert step_up is not None
    assert step_up.max_age == 300


def test_a_missing_attribute_raises_and_names_the_fix_for_the_view():
    with pytest.raises(RouteAttributeError) as caught:
        SCOPES.route(object(), "GET")
    assert caught.value.missing is True
    message = caught.value.for_view(object(), View())
    assert message.startswith("object uses View (jwt-guard) but sets no required_scopes. ")
    assert "Set required_scopes = ['orders:read']" in message
