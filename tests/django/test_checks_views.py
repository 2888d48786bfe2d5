"""System checks jwt_guard.E022 / E023: a DRF view lacking what its jwt-guard permission reads.

Before these checks, each view below passed ``manage.py check`` and failed
on its first request with a token: a missing attribute or a bad step-up
value raised ``ImproperlyConfigured`` (a 500), and a bad scope name or an
empty list were worse, read without validation (a scope with a space, or a
lower-case method key, refused every token: 403; an empty list let every
token through: 200). Now the checks name each view at start-up, and a view
that slipped past them (checks silenced) answers with an
``ImproperlyConfigured`` naming the view, the permission class and the
attribute.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.urls import include, path
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIClient
from rest_framework.views import APIView

from jwt_guard_django.checks import check_routes
from jwt_guard_django.permissions import (
    HasAnyRole,
    HasAnyScope,
    HasRoles,
    HasScopes,
    RequiresAuthLevel,
)

pytestmark = pytest.mark.urls("tests.django.test_checks_views")

MFA = "urn:example:mfa"


class _View(APIView):
    def get(self, request: Request) -> Response:
        return Response({"sub": request.auth.subject})


class NoScopes(_View):
    permission_classes: ClassVar[list[Any]] = [HasScopes]


class SpacedScope(_View):
    permission_classes: ClassVar[list[Any]] = [HasAnyScope]
    required_scopes: ClassVar[list[str]] = ["orders read"]


class TabbedScope(_View):
    permission_classes: ClassVar[list[Any]] = [HasScopes]
    required_scopes: ClassVar[dict[str, list[str]]] = {"GET": ["orders:\tread"]}


class EmptyScopes(_View):
    permission_classes: ClassVar[list[Any]] = [HasScopes]
    required_scopes: ClassVar[list[str]] = []


class LowerCaseMethod(_View):
    permission_classes: ClassVar[list[Any]] = [HasScopes]
    required_scopes: ClassVar[dict[str, list[str]]] = {"get": ["orders:read"]}


class NoRoles(_View):
    permission_classes: ClassVar[list[Any]] = [IsAuthenticated, HasRoles]


class EmptyRoleName(_View):
    permission_classes: ClassVar[list[Any]] = [HasAnyRole]
    required_roles: ClassVar[list[str]] = ["admin", ""]


class NoAuthLevel(_View):
    permission_classes: ClassVar[list[Any]] = [RequiresAuthLevel]


class TextMaxAge(_View):
    permission_classes: ClassVar[list[Any]] = [RequiresAuthLevel]
    required_max_age = "300"


class Scoped(_View):
    permission_classes: ClassVar[list[Any]] = [HasScopes]
    required_scopes: ClassVar[list[str]] = ["orders:read"]


class Bare(_View):
    pass


class ScopesByProperty(_View):
    """Computed per request: the checks leave it to the permission."""

    permission_classes: ClassVar[list[Any]] = [HasScopes]

    @property
    def required_scopes(self) -> list[str]:
        return ["orders:read"]


class SetByAsView(_View):
    permission_classes: ClassVar[list[Any]] = [HasScopes]
    required_scopes: ClassVar[Any] = None  # as_view() accepts only existing attributes


#: (path, view, permission, attribute, check id, what the message says is wrong)
BAD = [
    (
        "no-scopes",
        NoScopes.as_view(),
        "HasScopes",
        "required_scopes",
        "E022",
        "sets no required_scopes",
    ),
    (
        "spaced",
        SpacedScope.as_view(),
        "HasAnyScope",
        "required_scopes",
        "E023",
        "'orders read' is not a scope",
    ),
    (
        "tabbed",
        TabbedScope.as_view(),
        "HasScopes",
        "required_scopes",
        "E023",
        "'orders:\\tread' is not a scope",
    ),
    ("empty", EmptyScopes.as_view(), "HasScopes", "required_scopes", "E023", "an empty list"),
    ("lower", LowerCaseMethod.as_view(), "HasScopes", "required_scopes", "E023", "the key 'get'"),
    ("no-roles", NoRoles.as_view(), "HasRoles", "required_roles", "E022", "sets no required_roles"),
    (
        "empty-role",
        EmptyRoleName.as_view(),
        "HasAnyRole",
        "required_roles",
        "E023",
        "not one or more role",
    ),
    (
        "no-level",
        NoAuthLevel.as_view(),
        "RequiresAuthLevel",
        "required_acr_values",
        "E022",
        "sets neither required_acr_values nor required_max_age",
    ),
    (
        "text-age",
        TextMaxAge.as_view(),
        "RequiresAuthLevel",
        "required_max_age",
        "E023",
        "'300' is not whole seconds",
    ),
    # as_view() keyword arguments override the class's attributes, for the
    # checks as for requests.
    (
        "override",
        Scoped.as_view(required_scopes=["orders  read"]),
        "HasScopes",
        "required_scopes",
        "E023",
        "'orders  read' is not a scope",
    ),
    # Composed permissions (DRF's & | ~) are read too.
    (
        "composed",
        Bare.as_view(permission_classes=[IsAuthenticated & HasRoles]),
        "HasRoles",
        "required_roles",
        "E022",
        "sets no required_roles",
    ),
]

urlpatterns = [
    path("bad/", include(([path(p, v, name=p) for p, v, *_ in BAD], "bad"))),
    path("good", Scoped.as_view()),
    path("good-by-as-view", SetByAsView.as_view(required_scopes=["a"])),
    path("plain", Bare.as_view()),
    path("by-property", ScopesByProperty.as_view()),
]

#: A token that meets every sound demand above.
EVERYTHING = {"scope": "orders:read a", "roles": ["admin"], "acr": MFA}


@pytest.fixture
def api() -> APIClient:
    return APIClient()


def test_each_bad_view_is_one_error_naming_the_pattern_the_view_and_the_fix():
    messages = check_routes()
    assert all(isinstance(m, checks.Error) for m in messages)
    assert [m.id for m in messages] == [f"jwt_guard.{check_id}" for *_, check_id, _ in BAD]
    for message, (name, view, permission, attribute, _, problem) in zip(messages, BAD, strict=True):
        assert message.msg.startswith(
            f"URL pattern 'bad/{name}' (name 'bad:{name}'), view "
            f"tests.django.test_checks_views.{view.cls.__name__}, uses {permission} but "
        )
        assert problem in message.msg
        assert attribute in message.msg
        assert message.msg.endswith("fails with a configuration error (500).")
        assert message.hint.startswith(f"Set {attribute} = ")


def test_the_message_names_the_permission_class_and_the_hint_how_to_spell_the_attribute():
    first = check_routes()[0]
    assert first.msg == (
        "URL pattern 'bad/no-scopes' (name 'bad:no-scopes'), view "
        "tests.django.test_checks_views.NoScopes, uses HasScopes but sets no required_scopes. "
        "Every request to it with a token fails with a configuration error (500)."
    )
    assert first.hint == (
        "Set required_scopes = ['orders:read'] (or per method: {'GET': ['orders:read'], "
        "'POST': ['orders:write']}) on the view, or drop HasScopes from its permission_classes."
    )


def test_manage_py_check_fails_on_them():
    with pytest.raises(SystemCheckError, match=r"jwt_guard\.E022") as caught:
        call_command("check")
    assert "jwt_guard.E023" in str(caught.value)


@pytest.mark.urls("tests.django.urls")
def test_the_default_urlconf_has_no_bad_view():
    assert check_routes() == []


@pytest.mark.parametrize(("name", "view", "permission", "attribute", "check_id", "problem"), BAD)
def test_a_request_to_a_bad_view_is_improperly_configured_naming_view_class_and_attribute(
    api, bearer, settings, name, view, permission, attribute, check_id, problem
):
    # As if the checks had been silenced: the request still says what is wrong.
    settings.SILENCED_SYSTEM_CHECKS = [f"jwt_guard.{check_id}"]
    with pytest.raises(ImproperlyConfigured) as caught:
        api.get(f"/bad/{name}", headers=bearer(**EVERYTHING))
    text = str(caught.value)
    assert text.startswith(f"{view.cls.__name__} uses {permission} (jwt-guard) but ")
    assert problem in text
    assert f"Set {attribute} = " in text


def test_a_bad_view_answers_500_without_raising_into_the_server(bearer):
    response = APIClient(raise_request_exception=False).get(
        "/bad/spaced", headers=bearer(**EVERYTHING)
    )
    assert response.status_code == 500


def test_a_bad_view_without_a_token_is_still_401(api):
    response = api.get("/bad/no-scopes")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_sound_views_are_not_reported_and_serve_requests(api, bearer):
    assert api.get("/good", headers=bearer(**EVERYTHING)).status_code == 200
    assert api.get("/good-by-as-view", headers=bearer(**EVERYTHING)).status_code == 200
    assert api.get("/plain", headers=bearer()).status_code == 200
    assert api.get("/by-property", headers=bearer(**EVERYTHING)).status_code == 200
    assert api.get("/by-property", headers=bearer(scope="other")).status_code == 403
    response = api.get("/good", headers=bearer(scope="other"))
    assert response.status_code == 403
    assert response["WWW-Authenticate"] == (
        'Bearer realm="api", error="insufficient_scope", scope="orders:read"'
    )
