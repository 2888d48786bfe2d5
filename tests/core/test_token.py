"""VerifiedToken: immutable, and its convenience views read what was verified."""

from __future__ import annotations

import copy
import dataclasses
import json
import pickle
from datetime import datetime, timezone

import pytest

from jwt_guard_core import MissingClaim, VerifiedToken
from jwt_guard_core.token import InvalidScope, ReadOnlyDict, scopes_from_claims
from tests.factories import AUDIENCE, ISSUER, NOW, claims, sign

T = int(NOW)


@pytest.fixture
def verified(make_verifier, keyring):
    def _verified(header: dict | None = None, **overrides) -> VerifiedToken:
        token = sign(
            {"alg": "RS256", "kid": "rsa-1", **(header or {})}, claims(**overrides), keyring.rsa
        )
        return make_verifier().verify(token)

    return _verified


def test_fields_describe_the_verified_token(verified):
    token = verified()
    assert token.issuer == ISSUER
    assert token.subject == "user-1"
    assert token.kid == "rsa-1"
    assert token.algorithm == "RS256"
    assert token.header == {"alg": "RS256", "kid": "rsa-1"}
    assert dict(token.claims) == claims()


def test_expires_at_is_an_aware_utc_datetime_of_exp(verified):
    token = verified(exp=T + 600)
    assert token.expires_at == datetime.fromtimestamp(T + 600, tz=timezone.utc)
    assert token.expires_at.tzinfo is timezone.utc


def test_expires_at_keeps_fractional_seconds(verified):
    assert verified(exp=NOW + 600.25).expires_at.microsecond == 250000


def test_a_token_without_exp_is_never_verified_so_expires_at_is_always_set(make_verifier, keyring):
    token = sign({"alg": "RS256", "kid": "rsa-1"}, claims(exp=None), keyring.rsa)
    with pytest.raises(MissingClaim):
        make_verifier(required_claims=["sub"], optional_claims=["iat"]).verify(token)


def test_token_is_frozen(verified):
    token = verified()
    for name in (
        "claims",
        "header",
        "kid",
        "issuer",
        "subject",
        "scopes",
        "expires_at",
        "algorithm",
    ):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(token, name, None)


@pytest.mark.parametrize(
    "change",
    [
        lambda m: m.__setitem__("sub", "admin"),
        lambda m: m.__delitem__("sub"),
        lambda m: m.update(sub="admin"),
        lambda m: m.setdefault("admin", True),
        lambda m: m.pop("sub"),
        lambda m: m.popitem(),
        lambda m: m.clear(),
        lambda m: m.__ior__({"sub": "admin"}),
    ],
)
def test_claims_and_header_are_read_only(verified, change):
    token = verified()
    with pytest.raises(TypeError, match="read-only"):
        change(token.claims)
    with pytest.raises(TypeError, match="read-only"):
        change(token.header)
    assert token.claims["sub"] == "user-1"
    assert token.header["alg"] == "RS256"


def test_claims_serialise_as_json_and_copy_into_plain_dicts(verified):
    token = verified(groups=["staff"], realm_access={"roles": ["admin"]})
    assert json.loads(json.dumps(token.claims)) == claims(
        groups=["staff"], realm_access={"roles": ["admin"]}
    )
    mutable = token.claims.copy()
    mutable["sub"] = "other"
    assert type(mutable) is dict
    assert token.claims["sub"] == "user-1"
    for clone in (copy.copy(token.claims), copy.deepcopy(token.claims)):
        assert clone == token.claims
        assert isinstance(clone, ReadOnlyDict)
    assert pickle.loads(pickle.dumps(token.claims)) == token.claims


def test_nested_claims_are_read_only_all_the_way_down(verified):
    token = verified(
        aud=[AUDIENCE, "https://other.example"],
        groups=["staff"],
        realm_access={"roles": ["admin"], "meta": {"level": 1}},
    )
    assert token.claims["aud"] == (AUDIENCE, "https://other.example")
    assert token.claims["groups"] == ("staff",)
    assert isinstance(token.claims["realm_access"], ReadOnlyDict)
    with pytest.raises(AttributeError):
        token.claims["groups"].append("admin")
    with pytest.raises(TypeError):
        token.claims["realm_access"]["roles"] = ["root"]
    with pytest.raises(TypeError):
        token.claims["realm_access"]["meta"]["level"] = 9
    assert token.audience == (AUDIENCE, "https://other.example")


def test_nested_header_values_are_read_only_and_not_shared_between_tokens(make_verifier, keyring):
    verifier = make_verifier()
    header = {"alg": "RS256", "kid": "rsa-1", "ext": {"trace": ["a"]}}
    first = verifier.verify(sign(header, claims(), keyring.rsa))
    with pytest.raises(AttributeError):
        first.header["ext"]["trace"].append("b")
    second = verifier.verify(sign(header, claims(jti="jti-2"), keyring.rsa))
    assert second.header["ext"] == {"trace": ("a",)}


def test_a_token_built_from_plain_dicts_is_frozen_too():
    token = VerifiedToken(
        claims={"sub": "u", "aud": ["a"], "scope": "x"},
        header={"alg": "ES256"},
        kid=None,
        issuer="i",
        subject="u",
        scopes={"x"},  # type: ignore[arg-type]
        expires_at=None,
        algorithm="ES256",
    )
    assert isinstance(token.claims, ReadOnlyDict)
    assert isinstance(token.header, ReadOnlyDict)
    assert token.claims["aud"] == ("a",)
    assert isinstance(token.scopes, frozenset)


def test_scopes_is_a_frozenset(verified):
    scopes = verified(scope="a b").scopes
    assert scopes == frozenset({"a", "b"})
    with pytest.raises(AttributeError):
        scopes.add("admin")  # type: ignore[attr-defined]


@pytest.mark.parametrize(("jti", "expected"), [("abc", "abc"), (None, None)])
def test_jti_is_the_tokens_jti(verified, jti, expected):
    assert verified(jti=jti).jti == expected


@pytest.mark.parametrize(
    ("aud", "expected"),
    [(AUDIENCE, (AUDIENCE,)), ([AUDIENCE], (AUDIENCE,)), (["x", AUDIENCE], ("x", AUDIENCE))],
)
def test_audience_is_always_a_tuple(verified, aud, expected):
    assert verified(aud=aud).audience == expected


def test_audience_is_empty_without_aud(make_verifier, keyring):
    token = sign({"alg": "RS256", "kid": "rsa-1"}, claims(aud=None), keyring.rsa)
    result = make_verifier(audience=None, verify_audience=False).verify(token)
    assert result.audience == ()


def test_has_scopes_needs_every_scope(verified):
    token = verified(scope="orders:read orders:write profile")
    assert token.has_scopes()
    assert token.has_scopes("orders:read")
    assert token.has_scopes("orders:read", "profile")
    assert not token.has_scopes("orders:read", "admin")
    assert not token.has_scopes("orders")  # no prefix matching
    assert not token.has_scopes("ORDERS:READ")  # scopes are case-sensitive


def test_repr_shows_no_claims_or_header(verified):
    text = repr(verified(secret_claim="hunter2-value"))
    assert "hunter2-value" not in text
    assert "user-1" in text  # the subject is shown, the claim set is not


@pytest.mark.parametrize(
    ("claim_set", "expected"),
    [
        ({"scope": "a b"}, {"a", "b"}),
        ({"scp": ["a", "b"]}, {"a", "b"}),
        ({"scp": "a b"}, {"a", "b"}),
        ({"scp": ("a",)}, {"a"}),
        ({"scope": "a", "scp": ["b"]}, {"a", "b"}),
        ({}, set()),
        ({"scope": ""}, set()),
        ({"scope": "!#[]~"}, {"!#[]~"}),
    ],
)
def test_scopes_from_claims_reads_scope_and_scp(claim_set, expected):
    assert scopes_from_claims(claim_set) == frozenset(expected)


@pytest.mark.parametrize(
    "claim_set",
    [
        {"scope": 1, "scp": 2},
        {"scope": None},
        {"scp": 2},
        {"scp": ["a", 1]},
        {"scope": " a"},
        {"scope": "a "},
        {"scope": "a  b"},
        {"scope": "a\tb"},
        {"scope": 'a"b'},
        {"scope": "a\\b"},
        {"scope": "caf\u00e9"},
        {"scp": "a\u00a0b"},
        {"scp": ["a b"]},
        {"scp": [""]},
    ],
)
def test_scopes_from_claims_refuses_values_outside_rfc_6749(claim_set):
    with pytest.raises(InvalidScope):
        scopes_from_claims(claim_set)
