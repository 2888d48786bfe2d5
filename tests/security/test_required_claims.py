"""Required claims: missing ones are refused, never assumed.

By default ``exp``, ``iat`` and ``sub`` are required, plus ``iss`` and
``aud`` when they are verified (RFC 8725 section 3.8-3.9, RFC 9068 section
2.2); ``max_token_age`` adds ``iat`` and ``max_lifetime`` adds ``iat`` and
``exp``. A token without ``exp`` would otherwise never expire.
"""

from __future__ import annotations

import pytest

from jwt_guard_core import ConfigurationError, InvalidClaim, MissingClaim
from tests.factories import claims, sign


def _token(keyring, **overrides: object) -> str:
    return sign({"alg": "RS256", "kid": "rsa-1"}, claims(**overrides), keyring.rsa)


def test_token_with_every_required_claim_is_accepted(make_verifier, keyring, rejects):
    assert rejects.accepts(make_verifier(), _token(keyring)).subject == "user-1"


def test_default_required_claims(make_verifier):
    assert make_verifier().config.required == {"exp", "iat", "sub", "iss", "aud"}


@pytest.mark.parametrize("name", ["exp", "iat", "sub", "iss", "aud"])
def test_missing_default_claim_is_rejected_with_missing_claim(
    make_verifier, keyring, rejects, name
):
    result = rejects(
        make_verifier(), _token(keyring, **{name: None}), MissingClaim, "missing_claim"
    )
    assert name in result.error.detail


def test_token_with_no_claims_at_all_is_rejected_with_missing_claim(
    make_verifier, keyring, rejects
):
    token = sign({"alg": "RS256", "kid": "rsa-1"}, {}, keyring.rsa)
    rejects(make_verifier(), token, MissingClaim, "missing_claim")


def test_configured_extra_claim_is_required(make_verifier, keyring, rejects):
    verifier = make_verifier(required_claims=["exp", "jti", "client_id"])
    assert rejects.accepts(verifier, _token(keyring, client_id="app-1"))
    rejects(verifier, _token(keyring), MissingClaim, "missing_claim")
    rejects(verifier, _token(keyring, jti=None, client_id="app-1"), MissingClaim, "missing_claim")


def test_empty_required_claims_keep_the_minimum(make_verifier, keyring, rejects):
    verifier = make_verifier(required_claims=[])
    assert verifier.config.required == {"exp", "iat", "sub", "iss", "aud"}
    rejects(verifier, _token(keyring, exp=None), MissingClaim, "missing_claim")
    rejects(verifier, _token(keyring, aud=None), MissingClaim, "missing_claim")


def test_required_claims_naming_other_claims_never_drop_exp(make_verifier, keyring, rejects):
    # The reported hole: REQUIRED_CLAIMS=["client_id", "token_use"] used to
    # replace the defaults, and a token without exp was accepted.
    verifier = make_verifier(required_claims=["client_id", "token_use"])
    assert {"exp", "client_id", "token_use"} <= verifier.config.required
    token = _token(keyring, exp=None, client_id="app", token_use="access")
    result = rejects(verifier, token, MissingClaim, "missing_claim")
    assert "exp" in result.error.detail


def test_optional_claims_relax_iat_and_sub_only(make_verifier, keyring, rejects):
    verifier = make_verifier(optional_claims=["iat", "sub"])
    assert verifier.config.required == {"exp", "iss", "aud"}
    assert rejects.accepts(verifier, _token(keyring, iat=None, sub=None))
    rejects(verifier, _token(keyring, exp=None), MissingClaim, "missing_claim")


@pytest.mark.parametrize("name", ["exp", "iss", "aud", "jti"])
def test_optional_claims_cannot_relax_exp_or_another_claim(make_verifier, name):
    with pytest.raises(ConfigurationError) as info:
        make_verifier(optional_claims=[name])
    assert info.value.setting == "optional_claims"
    assert name in str(info.value)


def test_a_claim_both_required_and_optional_is_a_configuration_error(make_verifier):
    with pytest.raises(ConfigurationError) as info:
        make_verifier(required_claims=["sub"], optional_claims=["sub"])
    assert info.value.setting == "optional_claims"


@pytest.mark.parametrize(("options", "name"), [({"max_token_age": 300}, "iat")])
def test_age_limit_requires_iat_even_when_optional(make_verifier, keyring, rejects, options, name):
    verifier = make_verifier(optional_claims=["iat"], **options)
    rejects(verifier, _token(keyring, **{name: None}), MissingClaim, "missing_claim")


@pytest.mark.parametrize(
    ("options", "name"),
    [
        ({"max_token_age": 300}, "iat"),
        ({"max_lifetime": 3600}, "iat"),
        ({"max_lifetime": 3600}, "exp"),
    ],
)
def test_age_and_lifetime_limits_make_their_claims_required(
    make_verifier, keyring, rejects, options, name
):
    verifier = make_verifier(optional_claims=["iat"], **options)
    rejects(verifier, _token(keyring, **{name: None}), MissingClaim, "missing_claim")


def test_required_claim_present_with_null_value_is_not_missing_but_checked(
    make_verifier, keyring, rejects
):
    token = sign({"alg": "RS256", "kid": "rsa-1"}, {**claims(), "sub": None}, keyring.rsa)
    rejects(make_verifier(), token, InvalidClaim, "invalid_claim")


@pytest.mark.parametrize("sub", ["", 1, True, ["user-1"], {"id": "user-1"}])
def test_sub_that_is_not_a_non_empty_string_is_rejected_with_invalid_claim(
    make_verifier, keyring, rejects, sub
):
    rejects(make_verifier(), _token(keyring, sub=sub), InvalidClaim, "invalid_claim")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("jti", 1),
        ("jti", ["a"]),
        ("scope", ["orders:read"]),
        ("scope", 1),
        ("scp", [1]),
        ("scp", 1),
    ],
)
def test_claims_the_result_exposes_must_have_their_type(
    make_verifier, keyring, rejects, name, value
):
    rejects(make_verifier(), _token(keyring, **{name: value}), InvalidClaim, "invalid_claim")


def test_required_claims_given_as_a_string_is_a_configuration_error(make_verifier):
    with pytest.raises(ConfigurationError) as info:
        make_verifier(required_claims="exp")
    assert info.value.setting == "required_claims"
