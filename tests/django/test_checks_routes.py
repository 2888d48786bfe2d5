"""System check jwt_guard.E015 (issue 15): a view demanding DPoP while DPOP is off.

The views of ``tests.django.dpop_urls``: decorated function views (sync and
async) and a DRF view with ``RequiresDPoP``; step-up views need no setting
and are not reported.
"""

from __future__ import annotations

import pytest
from django.core import checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.urls import include, path
from rest_framework.permissions import IsAuthenticated
from rest_framework.views import APIView

from jwt_guard_django.checks import check_routes
from jwt_guard_django.decorators import jwt_required, require_scopes
from jwt_guard_django.permissions import RequiresDPoP

pytestmark = pytest.mark.urls("tests.django.dpop_urls")


@require_scopes("orders:read")
@jwt_required(dpop="required")
def wrapped_twice(request):  # pragma: no cover - never called
    raise AssertionError


class Plain(APIView):
    def get(self, request):  # pragma: no cover - never called
        raise AssertionError


urlpatterns = [
    path("api/", include(([path("bound", wrapped_twice, name="bound")], "api"))),
    path("drf", Plain.as_view(permission_classes=[IsAuthenticated, RequiresDPoP])),
    path("composed", Plain.as_view(permission_classes=[IsAuthenticated & RequiresDPoP])),
]


def test_e015_names_every_view_that_demands_dpop_while_dpop_is_off():
    messages = check_routes()
    assert {m.id for m in messages} == {"jwt_guard.E015"}
    assert all(isinstance(m, checks.Error) for m in messages)
    assert [m.msg.split(",")[0] for m in messages] == [
        "URL pattern 'bound-only'",
        "URL pattern 'bound-only-async'",
        "URL pattern 'drf/bound-only'",
    ]
    first = messages[0].msg
    assert first.startswith(
        "URL pattern 'bound-only', view tests.django.dpop_urls.bound_only, requires a "
        "DPoP-bound token (dpop='required') but JWT_GUARD['DPOP'] is 'off'"
    )
    assert "ConfigurationError (500)" in first
    assert messages[0].hint.startswith("Set JWT_GUARD['DPOP'] to 'allowed'")
    assert "view tests.django.dpop_urls.DrfBoundOnly," in messages[2].msg


@pytest.mark.parametrize("mode", ["allowed", "required"])
def test_no_message_when_dpop_is_on(configure, mode):
    configure(DPOP=mode)
    assert check_routes() == []


@pytest.mark.urls("tests.django.test_checks_routes")
def test_a_namespaced_view_and_as_view_permission_classes_are_found():
    first, second, composed = check_routes()
    assert first.id == second.id == composed.id == "jwt_guard.E015"
    assert composed.msg.startswith("URL pattern 'composed', view ")
    assert first.msg.startswith(
        "URL pattern 'api/bound' (name 'api:bound'), view "
        "tests.django.test_checks_routes.wrapped_twice, requires"
    )
    assert second.msg.startswith(
        "URL pattern 'drf', view tests.django.test_checks_routes.Plain, requires"
    )


@pytest.mark.urls("tests.django.urls")
def test_the_default_urlconf_demands_nothing_dpop_cannot_give():
    assert check_routes() == []


def test_manage_py_check_fails_on_it():
    with pytest.raises(SystemCheckError, match=r"jwt_guard\.E015"):
        call_command("check")
