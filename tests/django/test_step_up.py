"""Step-up authentication (RFC 9470) in Django: decorator arguments and ``RequiresAuthLevel``."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from jwt_guard_core import ConfigurationError
from jwt_guard_django.decorators import jwt_required
from tests.django.dpop_urls import HWK, MFA
from tests.factories import NOW, named
from tests.sender_support import METADATA, METADATA_URL

pytestmark = pytest.mark.urls("tests.django.dpop_urls")

STEP_UP = 'Bearer realm="api", error="insufficient_user_authentication"'
BODY = {
    "error": "insufficient_user_authentication",
    "error_description": "A stronger or more recent authentication is required.",
}
FALLING_SHORT = [
    ({"auth_time": int(NOW) - 10}, "acr_missing"),
    ({"acr": "urn:example:pwd", "auth_time": int(NOW) - 10}, "acr_not_accepted"),
    ({"acr": MFA}, "auth_time_missing"),
    ({"acr": MFA, "auth_time": int(NOW) - 3600}, "auth_time_too_old"),
    ({"acr": MFA, "auth_time": int(NOW) + 3600}, "auth_time_invalid"),
    ({"acr": MFA, "auth_time": True}, "auth_time_invalid"),
]


def _reasons(events: list[Any]) -> list[str | None]:
    return [e.reason for e in named(events, "step_up_required")]


def test_a_token_meeting_the_demand_is_accepted(client, bearer, middleware_mode):
    response = client.get("/pay", headers=bearer(acr=HWK, auth_time=int(NOW) - 10))
    assert response.status_code == 200


@pytest.mark.parametrize(("claims", "reason"), FALLING_SHORT)
def test_a_decorated_view_refuses_naming_what_would_do(
    client, bearer, recorded_events, middleware_mode, claims, reason
):
    response = client.get("/pay", headers=bearer(**claims))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == f'{STEP_UP}, acr_values="{MFA} {HWK}", max_age="300"'
    assert response.json() == BODY
    assert _reasons(recorded_events) == [reason]


async def test_an_async_view_refuses_naming_acr_values(async_client, bearer, recorded_events):
    ok = await async_client.get("/pay-async", headers=bearer(acr=MFA))
    assert ok.status_code == 200
    response = await async_client.get("/pay-async", headers=bearer(acr=HWK))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == f'{STEP_UP}, acr_values="{MFA}"'
    assert _reasons(recorded_events) == ["acr_not_accepted"]


@pytest.mark.parametrize(("claims", "reason"), FALLING_SHORT)
def test_drf_requires_auth_level(client, bearer, recorded_events, middleware_mode, claims, reason):
    assert client.get("/drf/pay", headers=bearer(acr=MFA, auth_time=int(NOW))).status_code == 200
    response = client.get("/drf/pay", headers=bearer(**claims))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == f'{STEP_UP}, acr_values="{MFA}", max_age="300"'
    assert response.json() == BODY
    assert _reasons(recorded_events) == [reason]


def test_the_challenge_names_the_metadata_when_configured(client, configure, bearer):
    configure(RESOURCE_METADATA=METADATA)
    response = client.get("/drf/pay", headers=bearer())
    assert response["WWW-Authenticate"] == (
        f'{STEP_UP}, acr_values="{MFA}", max_age="300", resource_metadata="{METADATA_URL}"'
    )


@pytest.mark.urls("tests.django.test_checks_views")  # its views fail the checks (E022)
def test_a_drf_view_without_requirements_is_improperly_configured(client, bearer):
    with pytest.raises(ImproperlyConfigured, match="required_acr_values"):
        client.get("/bad/no-level", headers=bearer())


@pytest.mark.parametrize(
    "kwargs", [{"max_age": -1}, {"max_age": 1.5}, {"acr_values": [""]}, {"dpop": "allowed"}]
)
def test_bad_decorator_arguments_fail_at_decoration(kwargs):
    with pytest.raises(ConfigurationError):
        jwt_required(**kwargs)
