"""Roles and scopes from configurable claim paths; VerifiedToken.roles; check_roles."""

from __future__ import annotations

from typing import Any

import pytest

from jwt_guard_core import ConfigurationError, InvalidClaim, TokenError
from jwt_guard_core.claims_policy import check_roles, claim_paths
from jwt_guard_core.errors import InsufficientRole
from jwt_guard_core.http import error_response
from tests.factories import claims, sign


@pytest.fixture
def token_for(keyring):
    def _token(**overrides: Any) -> str:
        return sign({"alg": "RS256", "kid": "rsa-1"}, claims(**overrides), keyring.rsa)

    return _token


def test_roles_default_to_the_roles_claim(make_verifier, token_for):
    assert make_verifier().verify(token_for(roles=["admin", "ops"])).roles == {"admin", "ops"}
    assert make_verifier().verify(token_for()).roles == frozenset()


def test_a_url_claim_name_is_one_claim_never_split_on_dots(make_verifier, token_for):
    verifier = make_verifier(roles_claim="https://example.com/roles")
    token = token_for(**{"https://example.com/roles": ["editor"]})
    assert verifier.verify(token).roles == {"editor"}


def test_a_dotted_name_is_a_literal_claim(make_verifier, token_for):
    verifier = make_verifier(roles_claim="realm_access.roles")
    assert verifier.verify(token_for(realm_access={"roles": ["x"]})).roles == frozenset()
    assert verifier.verify(token_for(**{"realm_access.roles": ["y"]})).roles == {"y"}


def test_segments_reach_nested_claims(make_verifier, token_for):
    verifier = make_verifier(roles_claim=["resource_access", "my.client", "roles"])
    token = token_for(resource_access={"my.client": {"roles": ["reader"]}, "other": {}})
    assert verifier.verify(token).roles == {"reader"}


def test_several_paths_are_merged(make_verifier, token_for):
    verifier = make_verifier(
        roles_claim=[["realm_access", "roles"], ["resource_access", "api", "roles"], "groups"]
    )
    token = token_for(
        realm_access={"roles": ["a"]}, resource_access={"api": {"roles": ["b"]}}, groups=["c"]
    )
    assert verifier.verify(token).roles == {"a", "b", "c"}


def test_object_keys_are_roles_zitadel_shape(make_verifier, token_for):
    verifier = make_verifier(roles_claim="urn:zitadel:iam:org:project:roles")
    token = token_for(
        **{"urn:zitadel:iam:org:project:roles": {"admin": {"123": "acme.example"}, "x": "y"}}
    )
    assert verifier.verify(token).roles == {"admin"}


def test_boolean_roles_only_with_the_setting(make_verifier, token_for):
    token = token_for(roles={"admin": True, "editor": False, "viewer": {"1": "a"}})
    assert make_verifier().verify(token).roles == {"viewer"}
    assert make_verifier(roles_booleans=True).verify(token).roles == {"admin", "viewer"}


def test_a_single_string_role_is_one_role(make_verifier, token_for):
    assert make_verifier().verify(token_for(roles="admin ops")).roles == {"admin ops"}


@pytest.mark.parametrize("value", [1, True, ["a", 1], ["a", ""], [["a"]]])
def test_roles_of_another_shape_refuse_the_token(make_verifier, keyring, value):
    token = sign({"alg": "RS256", "kid": "rsa-1"}, {**claims(), "roles": value}, keyring.rsa)
    with pytest.raises(InvalidClaim) as info:
        make_verifier().verify(token)
    assert info.value.reason == "invalid_claim"


def test_scopes_from_custom_paths_split_on_spaces_only(make_verifier, token_for):
    verifier = make_verifier(scopes_claim=[["permissions"], "scope"])
    token = token_for(permissions=["read:orders"], scope="a b")
    assert verifier.verify(token).scopes == {"read:orders", "a", "b"}
    with pytest.raises(InvalidClaim):
        verifier.verify(token_for(scope="a\tb"))
    with pytest.raises(InvalidClaim):
        verifier.verify(token_for(permissions=["a b"]))


def test_default_scopes_stay_scope_and_scp(make_verifier, token_for):
    verifier = make_verifier()
    assert verifier.verify(token_for(scope="a", scp=["b"])).scopes == {"a", "b"}


@pytest.mark.parametrize("value", ["", [], [""], 5, ["a", 1], [["a"], []], {"a": 1}])
def test_bad_claim_paths_are_a_configuration_error(value):
    with pytest.raises(ConfigurationError) as info:
        claim_paths("roles_claim", value)
    assert info.value.setting.startswith("roles_claim")


def test_claim_paths_forms():
    assert claim_paths("r", "a.b") == (("a.b",),)
    assert claim_paths("r", ["a", "b"]) == (("a", "b"),)
    assert claim_paths("r", [["a", "b"], "c"]) == (("a", "b"), ("c",))


def test_check_roles(make_verifier, token_for):
    token = make_verifier().verify(token_for(roles=["a", "b"]))
    check_roles(token, ["a", "b"])
    check_roles(token, ["a", "z"], any_of=True)
    with pytest.raises(InsufficientRole) as info:
        check_roles(token, ["a", "z"])
    error: TokenError = info.value
    assert error.reason == "insufficient_role"
    assert error.status == 403
    response = error_response(error)
    assert response.status == 403
    assert response.headers["WWW-Authenticate"] == (
        'Bearer realm="api", error="insufficient_scope"'
    )
    with pytest.raises(InsufficientRole):
        check_roles(token, ["y", "z"], any_of=True)
