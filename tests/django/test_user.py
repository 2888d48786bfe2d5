"""request.user: TokenUser by default, a Django user by claim and field, or a resolver."""

from __future__ import annotations

import pytest

from jwt_guard_django.user import TokenUser, resolve_user
from jwt_guard_django.verifier import get_verifier
from tests.django.bodies import INVALID_TOKEN_BODY


def _verified(make_token, **claims):
    return get_verifier().verify(make_token(**claims))


def test_token_user_takes_identity_scopes_and_roles_from_claims(make_token):
    token = _verified(make_token, roles=["admin", "ops"])
    user = TokenUser(token)
    assert user.is_authenticated is True
    assert user.is_anonymous is False
    assert user.pk == user.id == "user-1"
    assert user.username == user.get_username() == "user-1"
    assert str(user) == "TokenUser user-1"
    assert user.scopes == frozenset({"orders:read", "profile"})
    assert user.roles == frozenset({"admin", "ops"})
    assert user.has_role("admin")
    assert not user.has_role("root")
    assert user.has_scopes("profile")
    assert not user.has_scopes("admin")
    assert user.claims["jti"] == "jti-1"
    assert not user.has_perm("auth.add_user")
    assert not user.has_perms(["auth.add_user"])
    assert not user.has_module_perms("auth")
    assert user.get_all_permissions() == set()
    assert user == TokenUser(token)
    assert hash(user) == hash(TokenUser(token))


def test_token_user_cannot_be_saved(make_token):
    user = TokenUser(_verified(make_token))
    with pytest.raises(NotImplementedError):
        user.save()
    with pytest.raises(NotImplementedError):
        user.delete()


def test_roles_claim_can_be_a_nested_path(configure, make_token):
    configure(ROLES_CLAIM=["realm_access", "roles"])
    user = resolve_user(_verified(make_token, realm_access={"roles": ["reader"]}))
    assert user.roles == frozenset({"reader"})


def test_user_id_claim_picks_the_username(client, configure, bearer):
    configure(USER_ID_CLAIM="email")
    response = client.get("/plain/", headers=bearer(email="ann@example.com"))
    assert response.json()["username"] == "ann@example.com"


@pytest.mark.django_db
def test_user_id_field_looks_up_the_django_user(client, configure, bearer, django_user_model):
    django_user_model.objects.create_user(username="user-1", password="pw-user-1-123")
    configure(USER_ID_FIELD="username")
    response = client.get("/required/", headers=bearer())
    assert response.status_code == 200
    assert response.json()["user"] == "User"
    assert response.json()["username"] == "user-1"


@pytest.mark.django_db
def test_unknown_django_user_is_401_for_a_protected_view(client, configure, bearer):
    configure(USER_ID_FIELD="username")
    response = client.get("/required/", headers=bearer(sub="ghost"))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'
    assert response.json() == INVALID_TOKEN_BODY
    response = client.get("/drf/me/", headers=bearer(sub="ghost"))
    assert response.status_code == 401
    assert response.json() == INVALID_TOKEN_BODY


@pytest.mark.django_db
def test_inactive_django_user_is_refused(client, configure, bearer, django_user_model):
    django_user_model.objects.create_user(username="user-1", password="x-123456", is_active=False)
    configure(USER_ID_FIELD="username")
    response = client.get("/drf/me/", headers=bearer())
    assert response.status_code == 401
    assert response.json() == INVALID_TOKEN_BODY


@pytest.mark.django_db
def test_claim_of_the_wrong_shape_for_the_field_is_401_not_500(client, configure, bearer):
    configure(USER_ID_FIELD="id")
    response = client.get("/required/", headers=bearer(sub="not-a-number"))
    assert response.status_code == 401


@pytest.mark.django_db(transaction=True)
async def test_django_user_lookup_in_an_async_view(
    async_client, configure, bearer, django_user_model
):
    from asgiref.sync import sync_to_async

    await sync_to_async(django_user_model.objects.create_user)(
        username="user-1", password="pw-123456"
    )
    configure(USER_ID_FIELD="username")
    response = await async_client.get("/required-async/", headers=bearer())
    assert response.status_code == 200
    assert response.json()["user"] == "User"
    response = await async_client.get("/plain-async/", headers=bearer())
    assert response.json()["username"] == "user-1"
    response = await async_client.get("/required-async/", headers=bearer(sub="ghost"))
    assert response.status_code == 401


def test_user_resolver_by_dotted_path(client, configure, bearer):
    configure(USER_RESOLVER="tests.django.resolvers.by_subject")
    response = client.get("/required/", headers=bearer())
    assert response.status_code == 200
    assert response.json()["user"] == "ResolvedUser"
    assert response.json()["username"] == "resolved:user-1"
    response = client.get("/required/", headers=bearer(sub="nobody"))
    assert response.status_code == 401


async def test_async_user_resolver_in_an_async_view(async_client, configure, bearer):
    configure(USER_RESOLVER="tests.django.resolvers.async_by_subject")
    response = await async_client.get("/required-async/", headers=bearer())
    assert response.status_code == 200
    assert response.json()["username"] == "async:user-1"


def test_user_is_resolved_lazily(client, configure, bearer):
    from jwt_guard_django.signals import token_verified

    configure(USER_RESOLVER="tests.django.resolvers.by_subject")
    seen = []

    def receiver(sender, request, **kwargs):
        # The middleware has verified the token but not yet looked the user up.
        seen.append(request.__dict__.get("_jwt_guard_user", "unresolved"))

    token_verified.connect(receiver)
    try:
        assert client.get("/plain/", headers=bearer()).status_code == 200
    finally:
        token_verified.disconnect(receiver)
    assert seen == ["unresolved"]


def test_unimportable_resolver_is_improperly_configured(configure, make_token):
    from django.core.exceptions import ImproperlyConfigured

    configure(USER_RESOLVER="tests.django.resolvers.missing")
    with pytest.raises(ImproperlyConfigured, match="USER_RESOLVER"):
        resolve_user(_verified(make_token))
