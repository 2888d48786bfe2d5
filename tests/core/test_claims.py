"""Claim checks at the exact boundaries, with the fake clock (default leeway 10 s)."""

from __future__ import annotations

from typing import Any

import pytest

from jwt_guard_core import (
    BadAudience,
    BadType,
    InvalidClaim,
    IssuedInFuture,
    MissingClaim,
    NotYetValid,
    TokenError,
    TokenExpired,
    TokenTooOld,
    VerifiedToken,
    Verifier,
)
from jwt_guard_core.http import error_response
from tests.factories import AUDIENCE, NOW, claims, sign

T = int(NOW)


@pytest.fixture
def token_for(keyring):
    def _token(header: dict[str, Any] | None = None, **overrides: Any) -> str:
        return sign(
            {"alg": "RS256", "kid": "rsa-1", **(header or {})}, claims(**overrides), keyring.rsa
        )

    return _token


def rejected(verifier: Verifier, token: str, cls: type[TokenError], reason: str) -> TokenError:
    """Assert the rejection's class, reason, RFC 6750 code, status and WWW-Authenticate."""
    with pytest.raises(TokenError) as info:
        verifier.verify(token)
    error = info.value
    assert type(error) is cls
    assert error.reason == reason
    assert error.error == "invalid_token"
    assert error.status == 401
    response = error_response(error)
    assert response.status == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'
    return error


def accepted(verifier: Verifier, token: str) -> VerifiedToken:
    result = verifier.verify(token)
    assert isinstance(result, VerifiedToken)
    return result


# -- exp


def test_token_within_its_lifetime_is_accepted(make_verifier, token_for):
    result = accepted(make_verifier(), token_for())
    assert result.subject == "user-1"


def test_expired_token_inside_the_leeway_is_accepted(make_verifier, token_for):
    accepted(make_verifier(), token_for(exp=T - 9))


def test_expired_token_is_rejected_with_token_expired_exactly_at_exp_plus_leeway(
    make_verifier, token_for
):
    rejected(make_verifier(), token_for(exp=T - 10), TokenExpired, "token_expired")


def test_expired_token_is_rejected_a_fraction_past_the_boundary(make_verifier, token_for):
    verifier = make_verifier()
    accepted(verifier, token_for(exp=NOW - 9.999))
    rejected(verifier, token_for(exp=NOW - 10.001), TokenExpired, "token_expired")


def test_token_expires_when_the_clock_moves_past_exp_plus_leeway(make_verifier, token_for, clock):
    verifier = make_verifier()
    token = token_for(exp=T + 600)
    clock.advance(609)
    accepted(verifier, token)
    clock.advance(1)
    rejected(verifier, token, TokenExpired, "token_expired")


def test_with_zero_leeway_a_token_is_expired_at_exp(make_verifier, token_for):
    verifier = make_verifier(leeway=0)
    accepted(verifier, token_for(exp=T + 1))
    rejected(verifier, token_for(exp=T), TokenExpired, "token_expired")


def test_a_larger_leeway_moves_the_expiry_boundary(make_verifier, token_for):
    verifier = make_verifier(leeway=120)
    accepted(verifier, token_for(exp=T - 119))
    rejected(verifier, token_for(exp=T - 120), TokenExpired, "token_expired")


# -- nbf


def test_not_yet_valid_token_inside_the_leeway_is_accepted(make_verifier, token_for):
    accepted(make_verifier(), token_for(nbf=T + 10))


def test_not_yet_valid_token_is_rejected_with_not_yet_valid_past_the_leeway(
    make_verifier, token_for
):
    verifier = make_verifier()
    rejected(verifier, token_for(nbf=T + 11), NotYetValid, "not_yet_valid")
    rejected(verifier, token_for(nbf=NOW + 10.5), NotYetValid, "not_yet_valid")


def test_not_yet_valid_token_becomes_valid_as_the_clock_moves(make_verifier, token_for, clock):
    verifier = make_verifier()
    token = token_for(nbf=T + 100, iat=T - 60)
    rejected(verifier, token, NotYetValid, "not_yet_valid")
    clock.advance(90)
    accepted(verifier, token)


def test_nbf_is_optional(make_verifier, token_for):
    accepted(make_verifier(), token_for(nbf=None))


# -- iat


def test_iat_in_the_future_inside_the_leeway_is_accepted(make_verifier, token_for):
    accepted(make_verifier(), token_for(iat=T + 10, nbf=None))


def test_iat_in_the_future_is_rejected_with_issued_in_future(make_verifier, token_for):
    verifier = make_verifier()
    rejected(verifier, token_for(iat=T + 11, nbf=None), IssuedInFuture, "issued_in_future")


# -- max_token_age and max_lifetime


def test_token_at_the_maximum_age_plus_leeway_is_accepted(make_verifier, token_for):
    verifier = make_verifier(max_token_age=3600)
    accepted(verifier, token_for(iat=T - 3610, nbf=None))


def test_token_older_than_the_maximum_age_is_rejected_with_token_too_old(make_verifier, token_for):
    verifier = make_verifier(max_token_age=3600)
    rejected(verifier, token_for(iat=T - 3611, nbf=None), TokenTooOld, "token_too_old")


def test_token_ages_past_the_maximum_as_the_clock_moves(make_verifier, token_for, clock):
    verifier = make_verifier(max_token_age=300)
    token = token_for(iat=T, nbf=None, exp=T + 3600)
    clock.advance(310)
    accepted(verifier, token)
    clock.advance(1)
    rejected(verifier, token, TokenTooOld, "token_too_old")


def test_max_token_age_requires_iat(make_verifier, token_for):
    verifier = make_verifier(required_claims=["sub"], max_token_age=3600)
    error = rejected(verifier, token_for(iat=None), MissingClaim, "missing_claim")
    assert "iat" in error.detail


def test_lifetime_equal_to_the_maximum_is_accepted(make_verifier, token_for):
    verifier = make_verifier(max_lifetime=900)
    accepted(verifier, token_for(iat=T - 60, exp=T - 60 + 900))


def test_lifetime_over_the_maximum_is_rejected_with_lifetime_too_long(make_verifier, token_for):
    verifier = make_verifier(max_lifetime=900)
    rejected(verifier, token_for(iat=T - 60, exp=T - 60 + 901), InvalidClaim, "lifetime_too_long")


def test_max_lifetime_requires_exp_and_iat(make_verifier, token_for):
    verifier = make_verifier(optional_claims=["iat", "sub"], max_lifetime=900)
    rejected(verifier, token_for(exp=None), MissingClaim, "missing_claim")
    rejected(verifier, token_for(iat=None), MissingClaim, "missing_claim")


# -- NumericDate shape


@pytest.mark.parametrize("name", ["exp", "nbf", "iat"])
@pytest.mark.parametrize("value", [str(T + 600), True, None, [T], {"t": T}, -1, 10**20])
def test_a_date_claim_that_is_not_a_numeric_date_is_rejected_with_invalid_claim(
    make_verifier, keyring, name, value
):
    # Written out rather than through claims(), which drops None values.
    payload = {**claims(), name: value}
    token = sign({"alg": "RS256", "kid": "rsa-1"}, payload, keyring.rsa)
    rejected(make_verifier(), token, InvalidClaim, "invalid_claim")


# -- required claims


@pytest.mark.parametrize("name", ["exp", "iat", "sub", "iss", "aud"])
def test_each_default_required_claim_missing_is_rejected_with_missing_claim(
    make_verifier, token_for, name
):
    error = rejected(make_verifier(), token_for(**{name: None}), MissingClaim, "missing_claim")
    assert name in error.detail


def test_configured_required_claims_are_enforced(make_verifier, token_for):
    verifier = make_verifier(required_claims=["exp", "jti", "tenant"])
    accepted(verifier, token_for(tenant="t-1"))
    error = rejected(verifier, token_for(), MissingClaim, "missing_claim")
    assert "tenant" in error.detail


def test_claims_outside_the_required_set_may_be_absent(make_verifier, token_for):
    verifier = make_verifier(optional_claims=["iat", "sub"])
    result = accepted(verifier, token_for(sub=None, iat=None, nbf=None, jti=None, scope=None))
    assert result.subject is None
    assert result.jti is None
    assert result.scopes == frozenset()


# -- aud


def test_aud_as_a_string_matching_the_audience_is_accepted(make_verifier, token_for):
    assert accepted(make_verifier(), token_for(aud=AUDIENCE)).audience == (AUDIENCE,)


def test_aud_as_a_list_containing_the_audience_is_accepted(make_verifier, token_for):
    result = accepted(make_verifier(), token_for(aud=["https://other.example", AUDIENCE]))
    assert result.audience == ("https://other.example", AUDIENCE)


def test_any_configured_audience_may_match(make_verifier, token_for):
    verifier = make_verifier(audience=["https://a.example", "https://b.example"])
    accepted(verifier, token_for(aud="https://b.example"))
    accepted(verifier, token_for(aud=["https://x.example", "https://a.example"]))
    rejected(verifier, token_for(aud=AUDIENCE), BadAudience, "bad_audience")


@pytest.mark.parametrize(
    "aud",
    [
        "https://api.example/",
        "https://api.example.evil",
        "https://api.exampl",
        "HTTPS://API.EXAMPLE",
        " https://api.example",
        "https://api.example ",
        "https://api.example\x00",
        "https://evil.example",
        ["https://evil.example"],
        [AUDIENCE + "/v2"],
    ],
)
def test_aud_must_match_exactly_or_is_rejected_with_bad_audience(make_verifier, token_for, aud):
    rejected(make_verifier(), token_for(aud=aud), BadAudience, "bad_audience")


@pytest.mark.parametrize("aud", [[], 1, {"aud": AUDIENCE}, [AUDIENCE, 1], [AUDIENCE, None], True])
def test_aud_of_the_wrong_shape_is_rejected_with_invalid_claim(make_verifier, token_for, aud):
    rejected(make_verifier(), token_for(aud=aud), InvalidClaim, "invalid_claim")


def test_aud_is_not_checked_when_verify_audience_is_false(make_verifier, token_for):
    verifier = make_verifier(audience=None, verify_audience=False)
    accepted(verifier, token_for(aud="https://anyone.example"))
    accepted(verifier, token_for(aud=None))


# -- sub


@pytest.mark.parametrize("sub", ["", 42, ["user-1"], {"id": 1}, True])
def test_sub_that_is_not_a_non_empty_string_is_rejected_with_invalid_claim(
    make_verifier, token_for, sub
):
    rejected(make_verifier(), token_for(sub=sub), InvalidClaim, "invalid_claim")


def test_sub_null_is_rejected_with_invalid_claim(make_verifier, keyring):
    payload = claims()
    payload["sub"] = None
    token = sign({"alg": "RS256", "kid": "rsa-1"}, payload, keyring.rsa)
    rejected(make_verifier(), token, InvalidClaim, "invalid_claim")


def test_jti_that_is_not_a_string_is_rejected_with_invalid_claim(make_verifier, keyring):
    for jti in (1, None, ["a"]):
        payload = {**claims(), "jti": jti}
        token = sign({"alg": "RS256", "kid": "rsa-1"}, payload, keyring.rsa)
        rejected(make_verifier(), token, InvalidClaim, "invalid_claim")


# -- scope / scp


@pytest.mark.parametrize(
    ("overrides", "scopes"),
    [
        ({"scope": "orders:read profile"}, {"orders:read", "profile"}),
        ({"scope": "a b c"}, {"a", "b", "c"}),
        ({"scope": ""}, set()),
        ({"scope": None, "scp": ["orders:read", "orders:write"]}, {"orders:read", "orders:write"}),
        ({"scope": None, "scp": "User.Read Mail.Send"}, {"User.Read", "Mail.Send"}),
        ({"scope": None, "scp": []}, set()),
        ({"scope": "a b", "scp": ["c"]}, {"a", "b", "c"}),
        ({"scope": None}, set()),
    ],
)
def test_scopes_are_read_from_scope_and_scp(make_verifier, token_for, overrides, scopes):
    result = accepted(make_verifier(), token_for(**overrides))
    assert result.scopes == frozenset(scopes)
    assert isinstance(result.scopes, frozenset)


@pytest.mark.parametrize(
    "overrides",
    [
        {"scope": ["a", "b"]},
        {"scope": 1},
        {"scp": 1},
        {"scp": ["a", 1]},
        {"scp": {"a": True}},
        {"scp": [["a"]]},
        {"scope": "  a   b\tc  "},
        {"scope": None, "scp": ["a b"]},
    ],
)
def test_scopes_of_the_wrong_shape_are_rejected_with_invalid_claim(
    make_verifier, token_for, overrides
):
    rejected(make_verifier(), token_for(**overrides), InvalidClaim, "invalid_claim")


# -- typ


@pytest.mark.parametrize(
    "typ", ["at+jwt", "AT+JWT", "At+Jwt", "application/at+jwt", "Application/AT+JWT"]
)
def test_expected_at_jwt_type_matches_case_insensitively_with_or_without_application(
    make_verifier, token_for, typ
):
    accepted(make_verifier(expected_type="at+jwt"), token_for({"typ": typ}))
    accepted(make_verifier(expected_type="application/at+jwt"), token_for({"typ": typ}))


@pytest.mark.parametrize(
    "typ",
    [
        "JWT",
        "jwt",
        "at+jwt ",
        " at+jwt",
        "application/jwt",
        "text/at+jwt",
        "application/application/at+jwt",
        "at-jwt",
        "",
        1,
        ["at+jwt"],
        None,
    ],
)
def test_wrong_type_is_rejected_with_bad_type(make_verifier, token_for, typ):
    header = {"typ": typ} if typ is not None else {}
    rejected(make_verifier(expected_type="at+jwt"), token_for(header), BadType, "bad_type")


def test_typ_is_not_checked_when_no_type_is_expected(make_verifier, token_for):
    accepted(make_verifier(), token_for({"typ": "anything"}))
