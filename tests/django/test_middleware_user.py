"""Behind the middleware, a token whose user is unknown or inactive is refused.

Security review ("also noticed"): a plain view behind ``JWTGuardMiddleware``
saw ``request.auth`` for a deactivated or deleted account, while the
decorators and DRF refused it. The middleware now answers as they do:
401 ``invalid_token``, reason ``user_not_found``, so no view acts for a
disabled account.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.django.bodies import INVALID_TOKEN_BODY
from tests.factories import named

CHALLENGE = 'Bearer realm="api", error="invalid_token"'


def _refused(response: Any) -> None:
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == CHALLENGE
    assert response.json() == INVALID_TOKEN_BODY


@pytest.mark.django_db
def test_unknown_user_is_refused_behind_the_middleware(
    client, configure, bearer, rejected_reasons, recorded_events
):
    configure(USER_ID_FIELD="username")
    _refused(client.get("/plain/", headers=bearer(sub="ghost")))
    assert rejected_reasons == ["user_not_found"]
    (event,) = named(recorded_events, "token_rejected")
    assert event.reason == "user_not_found"


@pytest.mark.django_db
def test_inactive_user_is_refused_behind_the_middleware(
    client, configure, bearer, django_user_model, rejected_reasons
):
    django_user_model.objects.create_user("user-1", password="pw-123456", is_active=False)
    configure(USER_ID_FIELD="username")
    _refused(client.get("/plain/", headers=bearer()))
    assert rejected_reasons == ["user_not_found"]


@pytest.mark.django_db
def test_the_decorators_and_drf_answer_the_same_for_an_inactive_user(
    client, configure, bearer, django_user_model, rejected_reasons
):
    django_user_model.objects.create_user("user-1", password="pw-123456", is_active=False)
    configure(USER_ID_FIELD="username")
    paths = ("/plain/", "/required/", "/optional/", "/drf/me/")
    for path in paths:
        _refused(client.get(path, headers=bearer()))
    assert rejected_reasons == ["user_not_found"] * len(paths)


def test_a_resolver_returning_none_is_refused_behind_the_middleware(
    client, configure, bearer, rejected_reasons
):
    configure(USER_RESOLVER="tests.django.resolvers.by_subject")
    _refused(client.get("/plain/", headers=bearer(sub="nobody")))
    assert rejected_reasons == ["user_not_found"]
    response = client.get("/plain/", headers=bearer())
    assert response.status_code == 200
    assert response.json()["username"] == "resolved:user-1"


@pytest.mark.django_db(transaction=True)
async def test_inactive_user_is_refused_behind_the_async_middleware(
    async_client, configure, bearer, django_user_model, recorded_events
):
    from asgiref.sync import sync_to_async

    await sync_to_async(django_user_model.objects.create_user)(
        "user-1", password="pw-123456", is_active=False
    )
    configure(USER_ID_FIELD="username")
    response = await async_client.get("/plain-async/", headers=bearer())
    _refused(response)
    (event,) = named(recorded_events, "token_rejected")
    assert event.reason == "user_not_found"


@pytest.mark.django_db
def test_an_active_user_is_request_user_behind_the_middleware(
    client, configure, bearer, django_user_model
):
    django_user_model.objects.create_user("user-1", password="pw-123456")
    configure(USER_ID_FIELD="username")
    response = client.get("/plain/", headers=bearer())
    assert response.status_code == 200
    assert response.json()["user"] == "User"
    assert response.json()["sub"] == "user-1"
