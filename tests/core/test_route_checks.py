"""Route demands against the settings (issue 15): the core's decision, plain data in and out."""

from __future__ import annotations

import functools

from jwt_guard_core.route_checks import RouteRequirements, mark, requirements_of, route_findings
from jwt_guard_core.settings import GuardSettings
from jwt_guard_core.step_up import StepUpRequirement

BOUND = RouteRequirements(dpop="required")
STEP_UP = RouteRequirements(step_up=StepUpRequirement("urn:example:mfa", None))


def settings(adapter: str = "django", **given: object) -> GuardSettings:
    return GuardSettings.from_mapping(given, adapter)  # type: ignore[arg-type]


def test_a_dpop_demand_with_dpop_off_is_an_error_naming_the_route_and_the_setting():
    [finding] = route_findings(settings(), [("route '/a'", BOUND), ("route '/b'", STEP_UP)])
    assert finding.code == "route_dpop_off"
    assert finding.error is True
    assert finding.message.startswith(
        "route '/a' requires a DPoP-bound token (dpop='required') but JWT_GUARD['DPOP'] is 'off'"
    )
    assert finding.hint.startswith("Set JWT_GUARD['DPOP'] to 'allowed'")


def test_flask_spelling():
    [finding] = route_findings(settings("flask", JWT_GUARD_DPOP="off"), [("route '/a'", BOUND)])
    assert "JWT_GUARD_DPOP is 'off'" in finding.message


def test_nothing_when_dpop_is_on_or_unreadable():
    assert route_findings(settings(DPOP="allowed"), [("a", BOUND)]) == []
    assert route_findings(settings(DPOP="required"), [("a", BOUND)]) == []
    # A DPOP value that does not read is the settings findings' to report.
    assert route_findings(settings(DPOP="sometimes"), [("a", BOUND)]) == []


def test_marks_survive_outer_decorators_and_combine():
    def view() -> None: ...

    mark(view, dpop="required")

    @functools.wraps(view)
    def outer() -> None: ...

    assert requirements_of(outer) == BOUND
    step_up = StepUpRequirement("urn:example:mfa", None)

    class Permission: ...

    mark(Permission, step_up=step_up)
    assert requirements_of(outer, Permission) == RouteRequirements("required", step_up)


def test_nothing_demanded_leaves_no_mark():
    def view() -> None: ...

    mark(view)
    assert requirements_of(view) is None
