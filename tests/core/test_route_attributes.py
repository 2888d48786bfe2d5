"""A class-based view's demands read from its attributes: the core reader and its findings."""

from __future__ import annotations

import pytest

from jwt_guard_core import ConfigurationError
from jwt_guard_core.route_attributes import (
    RouteAttributeError,
    view_roles,
    view_scopes,
    view_step_up,
)
from jwt_guard_core.route_checks import attribute_findings
from jwt_guard_core.route_policy import RouteRequirement, route_locations, route_scopes
from jwt_guard_core.step_up import StepUpRequirement


def test_a_list_demands_the_same_of_every_method():
    demands = view_scopes(["orders:read", "admin"], any_of=True)
    expected = RouteRequirement(scopes=("orders:read", "admin"), any_scope=True)
    assert demands.for_method("DELETE") == expected
    assert demands.for_method(None) == expected


def test_a_dict_names_methods_head_reads_get_and_an_unnamed_method_is_refused():
    demands = view_roles({"GET": ["reader"], "POST": ["admin"]})
    assert demands.for_method("get") == RouteRequirement(roles=("reader",))
    assert demands.for_method("HEAD") == RouteRequirement(roles=("reader",))
    assert demands.for_method("POST") == RouteRequirement(roles=("admin",))
    assert demands.for_method("DELETE") is None


def test_step_up_reads_either_attribute():
    demands = view_step_up(None, 300)
    assert demands.for_method("GET") == RouteRequirement(step_up=StepUpRequirement((), 300))


@pytest.mark.parametrize(
    ("read", "attribute"),
    [
        (lambda: view_scopes(None), "required_scopes"),
        (lambda: view_roles(None), "required_roles"),
        (lambda: view_step_up(None, None), "required_acr_values"),
    ],
)
def test_an_unset_attribute_is_missing(read, attribute):
    with pytest.raises(RouteAttributeError) as caught:
        read()
    assert caught.value.missing is True
    assert caught.value.setting == attribute


@pytest.mark.parametrize(
    ("read", "attribute", "problem"),
    [
        (lambda: view_scopes(["a b"]), "required_scopes", "'a b' is not a scope name"),
        (lambda: view_scopes({"GET": ["a\tb"]}), "required_scopes", "'a\\tb' is not a scope"),
        (lambda: view_scopes([]), "required_scopes", "empty list"),
        (lambda: view_scopes({}), "required_scopes", "empty dict"),
        (lambda: view_scopes({"GET": []}), "required_scopes", "required_scopes['GET']"),
        (lambda: view_scopes({"get": ["a"]}), "required_scopes", "the key 'get'"),
        (lambda: view_scopes("orders:read"), "required_scopes", "not a list of scope names"),
        (lambda: view_scopes(5), "required_scopes", "5, which is not a list"),
        (lambda: view_roles([""]), "required_roles", "not one or more role names"),
        (lambda: view_roles([None]), "required_roles", "not one or more role names"),
        (lambda: view_step_up(None, "300"), "required_max_age", "'300' is not whole seconds"),
        (lambda: view_step_up(None, True), "required_max_age", "True is not whole seconds"),
        (lambda: view_step_up(["urn:a b"], None), "required_acr_values", "without spaces"),
        (lambda: view_step_up(5, None), "required_acr_values", "without spaces"),
        (lambda: view_step_up([], None), "required_acr_values", "demands no step-up"),
    ],
)
def test_a_bad_value_is_invalid_naming_the_attribute(read, attribute, problem):
    with pytest.raises(RouteAttributeError) as caught:
        read()
    assert caught.value.missing is False
    assert caught.value.setting == attribute
    assert problem in caught.value.problem


def test_findings_are_errors_with_a_code_per_kind_and_a_hint_spelling_the_attribute():
    missing = RouteAttributeError("required_roles", "sets no required_roles", missing=True)
    bad = RouteAttributeError("required_max_age", "sets a bad required_max_age: ...")
    first, second = attribute_findings(
        [("route 'a',", "HasRoles", missing), ("route 'b',", "RequiresAuthLevel", bad)]
    )
    assert (first.code, first.error) == ("route_attribute_missing", True)
    assert (second.code, second.error) == ("route_attribute_invalid", True)
    assert first.message.startswith("route 'a', uses HasRoles but sets no required_roles. ")
    assert first.hint.startswith("Set required_roles = ['admin']")
    assert second.hint.startswith("Set required_max_age = 300")


@pytest.mark.parametrize(
    ("declare", "setting"),
    [
        (lambda: route_scopes(5), "scopes"),  # type: ignore[arg-type]
        (lambda: route_locations(5), "locations"),  # type: ignore[arg-type]
        (lambda: StepUpRequirement(5), "acr_values"),  # type: ignore[arg-type]
    ],
)
def test_a_decorator_argument_of_the_wrong_shape_is_a_configuration_error(declare, setting):
    with pytest.raises(ConfigurationError) as caught:
        declare()
    assert caught.value.setting == setting
