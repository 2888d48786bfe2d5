"""Django: require_roles / require_any_role, HasRoles / HasAnyRole, TokenUser permissions,
and the claims policy through the adapter (status and WWW-Authenticate)."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.http import HttpRequest, JsonResponse
from django.urls import path
from rest_framework.permissions import DjangoModelPermissions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from jwt_guard_core import InvalidClaim, VerifiedToken
from jwt_guard_django import HasAnyRole, HasRoles, require_any_role, require_roles
from jwt_guard_django.user import TokenUser
from jwt_guard_django.verifier import get_verifier

pytestmark = pytest.mark.urls(__name__)

ROLE_REFUSAL = 'Bearer realm="api", error="insufficient_scope"'
INVALID = 'Bearer realm="api", error="invalid_token"'


@require_roles("admin", "ops")
def admin_ops(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"roles": sorted(request.auth.roles)})


@require_any_role("admin", "staff")
async def staff(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"roles": sorted(request.auth.roles)})


class DrfAdmin(APIView):
    permission_classes = (HasRoles,)
    required_roles: ClassVar = {"GET": ["reader"], "POST": ["admin"]}

    def get(self, request: Request) -> Response:
        return Response({"ok": True})

    def post(self, request: Request) -> Response:
        return Response({"ok": True}, status=201)


class DrfAnyRole(APIView):
    permission_classes = (HasAnyRole,)
    required_roles: ClassVar = ["admin", "staff"]

    def get(self, request: Request) -> Response:
        return Response({"ok": True})


class DrfModel(APIView):
    permission_classes = (DjangoModelPermissions,)
    queryset = get_user_model().objects.none()

    def get(self, request: Request) -> Response:
        return Response({"ok": True})

    def post(self, request: Request) -> Response:
        return Response({"ok": True}, status=201)


def paid_only(token: VerifiedToken) -> None:
    if token.claims.get("plan") != "paid":
        raise InvalidClaim("the plan is not paid", reason="unpaid")


async def apaid_only(token: VerifiedToken) -> None:
    paid_only(token)


urlpatterns = [
    path("admin-ops/", admin_ops),
    path("staff/", staff),
    path("drf/admin/", DrfAdmin.as_view()),
    path("drf/any-role/", DrfAnyRole.as_view()),
    path("drf/model/", DrfModel.as_view()),
]


def _refused(response: Any, status: int, challenge: str, error: str) -> None:
    assert response.status_code == status
    assert response["WWW-Authenticate"] == challenge
    assert response.json()["error"] == error
    assert "reason" not in response.json()


def test_require_roles_passes_with_every_role(client, bearer):
    response = client.get("/admin-ops/", headers=bearer(roles=["admin", "ops"]))
    assert response.json() == {"roles": ["admin", "ops"]}


def test_require_roles_without_one_is_403(client, bearer):
    response = client.get("/admin-ops/", headers=bearer(roles=["admin"]))
    _refused(response, 403, ROLE_REFUSAL, "insufficient_scope")


def test_require_any_role_in_an_async_view(async_client, bearer):
    import asyncio

    async def run() -> None:
        ok = await async_client.get("/staff/", headers=bearer(roles=["staff"]))
        assert ok.json() == {"roles": ["staff"]}
        refused = await async_client.get("/staff/", headers=bearer(roles=["guest"]))
        _refused(refused, 403, ROLE_REFUSAL, "insufficient_scope")

    asyncio.run(run())


def test_no_token_is_401(client):
    response = client.get("/admin-ops/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_drf_has_roles_by_method(client, bearer):
    assert client.get("/drf/admin/", headers=bearer(roles=["reader"])).status_code == 200
    response = client.post("/drf/admin/", headers=bearer(roles=["reader"]))
    _refused(response, 403, ROLE_REFUSAL, "insufficient_scope")
    assert client.post("/drf/admin/", headers=bearer(roles=["admin"])).status_code == 201
    response = client.delete("/drf/admin/", headers=bearer(roles=["admin"]))
    _refused(response, 403, ROLE_REFUSAL, "insufficient_scope")


def test_drf_has_any_role(client, bearer):
    assert client.get("/drf/any-role/", headers=bearer(roles=["staff"])).status_code == 200
    response = client.get("/drf/any-role/", headers=bearer(roles=["guest"]))
    _refused(response, 403, ROLE_REFUSAL, "insufficient_scope")


def test_roles_claim_paths_from_jwt_guard(client, bearer, configure):
    configure(ROLES_CLAIM=[["resource_access", "api.example", "roles"], "https://x.example/r"])
    headers = bearer(
        resource_access={"api.example": {"roles": ["admin"]}}, **{"https://x.example/r": ["ops"]}
    )
    assert client.get("/admin-ops/", headers=headers).status_code == 200


# -- TokenUser permissions


def test_token_user_answers_permission_questions_like_django_users(configure, make_token):
    configure(ROLE_PERMISSIONS={"admin": ["auth.add_user", "auth.view_user"]})
    user = TokenUser(get_verifier().verify(make_token(roles=["admin"])))
    assert user.has_perms([]) is True
    assert user.has_perm("auth.add_user")
    assert not user.has_perm("auth.delete_user")
    assert not user.has_perm("auth.add_user", obj=object())
    assert user.has_perms(["auth.add_user", "auth.view_user"])
    assert not user.has_perms(["auth.add_user", "auth.delete_user"])
    assert user.has_module_perms("auth")
    assert not user.has_module_perms("sessions")
    assert user.get_all_permissions() == {"auth.add_user", "auth.view_user"}
    assert user.get_group_permissions() == {"auth.add_user", "auth.view_user"}
    with pytest.raises(ValueError, match="iterable"):
        user.has_perms("auth.add_user")


def test_token_user_without_mapped_roles_has_no_permissions(make_token):
    user = TokenUser(get_verifier().verify(make_token(roles=["admin"])))
    assert not user.has_perm("auth.add_user")
    assert user.has_perms([])
    assert user.get_all_permissions() == set()


def test_drf_model_permissions_let_a_read_through_and_check_a_write(client, bearer, configure):
    configure(ROLE_PERMISSIONS={"admin": ["auth.add_user"]})
    assert client.get("/drf/model/", headers=bearer(roles=[])).status_code == 200
    assert client.post("/drf/model/", headers=bearer(roles=["guest"])).status_code == 403
    assert client.post("/drf/model/", headers=bearer(roles=["admin"])).status_code == 201


@pytest.mark.parametrize("value", [["admin"], {"admin": "add_user"}, {"": ["a.b"]}])
def test_bad_role_permissions_are_refused(configure, make_token, value):
    from django.core.exceptions import ImproperlyConfigured

    configure(ROLE_PERMISSIONS=value)
    user = TokenUser(get_verifier().verify(make_token(roles=["admin"])))
    with pytest.raises(ImproperlyConfigured):
        user.has_perm("auth.add_user")


# -- the claims policy through Django


@pytest.mark.parametrize(
    ("settings_", "overrides"),
    [
        ({"REQUIRED_CLAIMS": ["client_id", "token_use"]}, {"exp": None}),
        ({"CLAIM_VALUES": {"tenant": ["acme", "globex"]}}, {"tenant": "other"}),
        ({"CLAIM_VALUES": {"tenant": "acme"}}, {}),
        ({"AUTHORIZED_PARTIES": ["spa"]}, {"azp": "evil"}),
        ({}, {"token_use": "id"}),
        ({}, {"typ": "ID"}),
        ({"CLAIMS_CHECK": "tests.django.test_roles.paid_only"}, {}),
    ],
)
def test_claims_policy_refusals_are_401_invalid_token(
    client, bearer, configure, settings_, overrides
):
    configure(**settings_)
    claims = {"roles": ["admin", "ops"], "client_id": "spa", "token_use": "access", **overrides}
    response = client.get("/admin-ops/", headers=bearer(**claims))
    _refused(response, 401, INVALID, "invalid_token")


def test_drf_refuses_the_same_way(client, bearer, configure):
    configure(CLAIMS_CHECK="tests.django.test_roles.paid_only")
    response = client.get("/drf/any-role/", headers=bearer(roles=["admin"]))
    _refused(response, 401, INVALID, "invalid_token")
    ok = client.get("/drf/any-role/", headers=bearer(roles=["admin"], plan="paid"))
    assert ok.status_code == 200


def test_an_async_claims_check_is_awaited_on_async_requests(async_client, bearer, configure):
    import asyncio

    configure(CLAIMS_CHECK="tests.django.test_roles.apaid_only")

    async def run() -> None:
        ok = await async_client.get("/staff/", headers=bearer(roles=["staff"], plan="paid"))
        assert ok.status_code == 200
        refused = await async_client.get("/staff/", headers=bearer(roles=["staff"]))
        _refused(refused, 401, INVALID, "invalid_token")

    asyncio.run(run())


def test_authorized_parties_without_audience_pass_the_checks(client, bearer, configure):
    configure(AUDIENCE=None, AUTHORIZED_PARTIES=["app"])
    call_command("check")
    headers = bearer(aud=None, client_id="app", token_use="access", roles=["admin", "ops"])
    assert client.get("/admin-ops/", headers=headers).status_code == 200


def test_optional_claims_are_a_check_warning(configure, capsys):
    configure(OPTIONAL_CLAIMS=["iat"])
    call_command("check")
    assert "jwt_guard.W030" in capsys.readouterr().err


def test_token_kind_any_is_a_check_warning(configure, capsys):
    configure(TOKEN_KIND="any")
    call_command("check")
    assert "jwt_guard.W031" in capsys.readouterr().err


def test_an_async_claims_check_is_a_check_warning(configure, capsys):
    configure(CLAIMS_CHECK="tests.django.test_roles.apaid_only")
    call_command("check")
    assert "jwt_guard.W032" in capsys.readouterr().err


def test_an_invalid_claims_policy_setting_fails_the_checks(configure):
    configure(TOKEN_KIND="id")
    with pytest.raises(SystemCheckError) as info:
        call_command("check")
    assert "jwt_guard.E007" in str(info.value)
