"""Local users are matched on issuer and subject (security review, finding 4).

The scenario of the finding: ``ISSUERS`` holds our issuer and a partner's,
``USER_ID_FIELD = "username"``, and a local superuser ``admin`` exists. A
partner token with ``sub="admin"`` must not make ``request.user`` the local
admin (OpenID Connect Core 5.7: a user is ``iss`` and ``sub``). Tokens of an
issuer not in ``USER_ISSUERS`` (by default: none of several ``ISSUERS``)
get a stateless :class:`TokenUser`; the resolver is not called for them.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from jwt_guard_django.checks import check_settings
from tests.factories import ISSUER, KeyRing, claims, public_pem, sign

PARTNER = "https://partner.example"


@pytest.fixture
def two_issuers(configure: Any, keyring: KeyRing) -> Any:
    """``two_issuers(**keys)``: ISSUERS with ours (RS256) and a partner's (ES256)."""

    def _set(**changes: Any) -> None:
        configure(
            ALGORITHMS=["RS256", "ES256"],
            ISSUER=None,
            VERIFYING_KEY=None,
            ISSUERS={
                ISSUER: {
                    "VERIFYING_KEY": {"rsa-1": public_pem(keyring.rsa).decode()},
                    "ALGORITHMS": ["RS256"],
                },
                PARTNER: {
                    "VERIFYING_KEY": {"partner-1": public_pem(keyring.p256).decode()},
                    "ALGORITHMS": ["ES256"],
                },
            },
            **changes,
        )

    return _set


def ours(keyring: KeyRing, **overrides: Any) -> dict[str, str]:
    token = sign({"alg": "RS256", "kid": "rsa-1"}, claims(**overrides), keyring.rsa)
    return {"Authorization": f"Bearer {token}"}


def partners(keyring: KeyRing, **overrides: Any) -> dict[str, str]:
    token = sign(
        {"alg": "ES256", "kid": "partner-1"}, claims(iss=PARTNER, **overrides), keyring.p256
    )
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def admin(django_user_model: Any) -> Any:
    return django_user_model.objects.create_superuser("admin", password="pw-admin-123456")


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/plain/", "/required/", "/drf/me/"])
def test_partner_sub_admin_is_not_the_local_admin_by_default(
    client, two_issuers, keyring, admin, path
):
    two_issuers(USER_ID_FIELD="username")
    response = client.get(path, headers=partners(keyring, sub="admin"))
    assert response.status_code == 200
    assert response.json()["user"] == "TokenUser"
    assert response.json()["sub"] == "admin"


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/plain/", "/required/", "/drf/me/"])
def test_only_issuers_in_user_issuers_map_to_local_users(client, two_issuers, keyring, admin, path):
    two_issuers(USER_ID_FIELD="username", USER_ISSUERS=[ISSUER])
    mine = client.get(path, headers=ours(keyring, sub="admin"))
    assert mine.status_code == 200
    assert mine.json()["user"] == "User"
    assert mine.json()["username"] == "admin"
    theirs = client.get(path, headers=partners(keyring, sub="admin"))
    assert theirs.status_code == 200
    assert theirs.json()["user"] == "TokenUser"


@pytest.mark.django_db(transaction=True)
async def test_partner_token_is_a_token_user_in_async_views(
    async_client, two_issuers, keyring, django_user_model
):
    from asgiref.sync import sync_to_async

    await sync_to_async(django_user_model.objects.create_superuser)(
        "admin", password="pw-admin-123456"
    )
    two_issuers(USER_ID_FIELD="username", USER_ISSUERS=[ISSUER])
    for path in ("/required-async/", "/plain-async/"):
        response = await async_client.get(path, headers=partners(keyring, sub="admin"))
        assert response.status_code == 200
        assert response.json()["user"] == "TokenUser"
        response = await async_client.get(path, headers=ours(keyring, sub="admin"))
        assert response.json()["user"] == "User"


def test_the_resolver_is_not_called_for_an_unmapped_issuer(client, two_issuers, keyring):
    two_issuers(USER_RESOLVER="tests.django.resolvers.by_subject", USER_ISSUERS=[ISSUER])
    theirs = client.get("/required/", headers=partners(keyring, sub="nobody"))
    # by_subject refuses "nobody"; not called, the partner token is a TokenUser.
    assert theirs.status_code == 200
    assert theirs.json()["user"] == "TokenUser"
    mine = client.get("/required/", headers=ours(keyring))
    assert mine.json()["user"] == "ResolvedUser"


@pytest.mark.django_db
def test_one_issuer_still_maps_by_default(client, configure, bearer, admin):
    configure(USER_ID_FIELD="username")  # the default configuration: one ISSUER
    response = client.get("/required/", headers=bearer(sub="admin"))
    assert response.status_code == 200
    assert response.json()["user"] == "User"


@pytest.mark.django_db
def test_single_entry_issuers_maps_its_issuer(client, configure, keyring, admin):
    configure(
        ISSUER=None,
        VERIFYING_KEY=None,
        USER_ID_FIELD="username",
        ISSUERS={ISSUER: {"VERIFYING_KEY": {"rsa-1": public_pem(keyring.rsa).decode()}}},
    )
    response = client.get("/required/", headers=ours(keyring, sub="admin"))
    assert response.json()["user"] == "User"


def test_an_issuer_not_configured_in_user_issuers_is_improperly_configured(
    client, two_issuers, keyring
):
    two_issuers(USER_ID_FIELD="username", USER_ISSUERS=["https://typo.example"])
    assert [m.id for m in check_settings()] == ["jwt_guard.E012"]
    (message,) = check_settings()
    assert "JWT_GUARD['USER_ISSUERS']" in message.msg
    assert "https://typo.example" in message.msg
    with pytest.raises(ImproperlyConfigured, match="USER_ISSUERS"):
        client.get("/required/", headers=ours(keyring))


def test_user_issuers_must_be_a_list(two_issuers):
    two_issuers(USER_ID_FIELD="username", USER_ISSUERS=[ISSUER, 3])
    assert [m.id for m in check_settings()] == ["jwt_guard.E012"]


def test_w009_several_issuers_with_user_id_field_and_no_user_issuers(two_issuers):
    two_issuers(USER_ID_FIELD="username")
    messages = check_settings()
    assert [m.id for m in messages] == ["jwt_guard.W010"]
    assert "USER_ISSUERS" in messages[0].msg


def test_w010_user_id_field_shared_by_several_issuers(two_issuers):
    two_issuers(USER_ID_FIELD="username", USER_ISSUERS=[ISSUER, PARTNER])
    messages = check_settings()
    assert [m.id for m in messages] == ["jwt_guard.W011"]
    assert "5.7" in messages[0].msg
    assert "USER_RESOLVER" in messages[0].hint


def test_a_resolver_matching_issuer_and_subject_may_map_several_issuers(two_issuers):
    two_issuers(USER_RESOLVER="tests.django.resolvers.by_subject", USER_ISSUERS=[ISSUER, PARTNER])
    assert check_settings() == []


def test_one_mapped_issuer_of_several_passes_the_checks(two_issuers):
    two_issuers(USER_ID_FIELD="username", USER_ISSUERS=[ISSUER])
    assert check_settings() == []
