"""Expired, not yet valid, issued in the future, too old, too long-lived.

RFC 7519 sections 4.1.4-4.1.6 with a leeway for clock skew (default 10 s,
``leeway=``). Time comes from the injected clock; the boundaries are tested
to the second on both sides so an off-by-one or a missing leeway shows.
"""

from __future__ import annotations

import pytest

from jwt_guard_core import (
    BadSignature,
    ConfigurationError,
    InvalidClaim,
    IssuedInFuture,
    NotYetValid,
    TokenExpired,
    TokenTooOld,
)
from tests.factories import NOW, claims, sign

T = int(NOW)
LEEWAY = 10


def _token(keyring, **overrides: object) -> str:
    return sign({"alg": "RS256", "kid": "rsa-1"}, claims(**overrides), keyring.rsa)


def test_current_token_is_accepted(make_verifier, keyring, rejects):
    result = rejects.accepts(make_verifier(), _token(keyring))
    assert result.expires_at is not None
    assert result.expires_at.timestamp() == T + 600


@pytest.mark.parametrize("exp", [T - LEEWAY, T - LEEWAY - 1, T - 3600, 0, 1])
def test_expired_token_is_rejected_with_token_expired(make_verifier, keyring, rejects, exp):
    token = _token(keyring, exp=exp, iat=0, nbf=0)
    rejects(make_verifier(), token, TokenExpired, "token_expired", alg="RS256", kid="rsa-1")


@pytest.mark.parametrize("exp", [T, T - LEEWAY + 1, T - LEEWAY + 0.5])
def test_token_expired_within_the_leeway_is_accepted(make_verifier, keyring, rejects, exp):
    assert rejects.accepts(make_verifier(), _token(keyring, exp=exp))


def test_token_expires_as_the_clock_moves(make_verifier, keyring, clock, rejects):
    verifier = make_verifier()
    token = _token(keyring, exp=T + 5)
    assert rejects.accepts(verifier, token)
    clock.advance(5 + LEEWAY - 1)
    assert rejects.accepts(verifier, token)
    # RFC 7519 section 4.1.4: not accepted "on or after" exp (plus leeway).
    clock.advance(1)
    rejects(verifier, token, TokenExpired, "token_expired")


def test_zero_leeway_rejects_a_token_at_its_exp_second(make_verifier, keyring, rejects):
    rejects(make_verifier(leeway=0), _token(keyring, exp=T), TokenExpired, "token_expired")
    assert rejects.accepts(make_verifier(leeway=0), _token(keyring, exp=T + 1))


def test_expired_token_is_rejected_before_the_signature_is_checked(make_verifier, keyring, rejects):
    # Cheapest checks first (DESIGN.md step 3): an expired token never costs
    # a key lookup or a signature verification.
    token = _token(keyring, exp=T - 3600)
    head, payload, sig = token.split(".")
    tampered = f"{head}.{payload}.{'A' * len(sig)}"
    rejects(make_verifier(), tampered, TokenExpired, "token_expired")


def test_expired_token_with_an_unknown_kid_is_rejected_before_the_key_lookup(
    make_verifier, keyring, rejects
):
    token = sign({"alg": "RS256", "kid": "nope"}, claims(exp=T - 3600), keyring.rsa)
    rejects(make_verifier(), token, TokenExpired, "token_expired", kid="nope")


def test_valid_looking_unexpired_token_with_a_bad_signature_is_a_bad_signature(
    make_verifier, keyring, rejects
):
    # The counterpart: a time check never stands in for the signature.
    token = _token(keyring)
    head, payload, sig = token.split(".")
    rejects(make_verifier(), f"{head}.{payload}.{'A' * len(sig)}", BadSignature, "bad_signature")


@pytest.mark.parametrize("nbf", [T + LEEWAY + 1, T + 3600, 253402300799])
def test_token_not_yet_valid_is_rejected_with_not_yet_valid(make_verifier, keyring, rejects, nbf):
    rejects(make_verifier(), _token(keyring, nbf=nbf), NotYetValid, "not_yet_valid")


@pytest.mark.parametrize("nbf", [T, T + LEEWAY])
def test_nbf_within_the_leeway_is_accepted(make_verifier, keyring, rejects, nbf):
    assert rejects.accepts(make_verifier(), _token(keyring, nbf=nbf, iat=T))


@pytest.mark.parametrize("iat", [T + LEEWAY + 1, T + 86400])
def test_token_issued_in_the_future_is_rejected_with_issued_in_future(
    make_verifier, keyring, rejects, iat
):
    token = _token(keyring, iat=iat, nbf=None)
    rejects(make_verifier(), token, IssuedInFuture, "issued_in_future")


def test_iat_within_the_leeway_is_accepted(make_verifier, keyring, rejects):
    assert rejects.accepts(make_verifier(), _token(keyring, iat=T + LEEWAY, nbf=None))


def test_token_older_than_max_token_age_is_rejected_with_token_too_old(
    make_verifier, keyring, rejects
):
    verifier = make_verifier(max_token_age=300)
    assert rejects.accepts(verifier, _token(keyring, iat=T - 300 - LEEWAY))
    rejects(verifier, _token(keyring, iat=T - 300 - LEEWAY - 1), TokenTooOld, "token_too_old")


def test_token_living_longer_than_max_lifetime_is_rejected_with_lifetime_too_long(
    make_verifier, keyring, rejects
):
    verifier = make_verifier(max_lifetime=3600)
    assert rejects.accepts(verifier, _token(keyring, iat=T - 60, exp=T - 60 + 3600))
    token = _token(keyring, iat=T - 60, exp=T - 60 + 3601)
    result = rejects(verifier, token, InvalidClaim, "lifetime_too_long")
    assert result.error.detail == "the token's lifetime is over the maximum"


def test_token_valid_until_year_9999_is_refused_under_max_lifetime(make_verifier, keyring, rejects):
    token = _token(keyring, exp=253402300799)
    rejects(make_verifier(max_lifetime=86400), token, InvalidClaim, "lifetime_too_long")


@pytest.mark.parametrize("leeway", [-1, 301, float("inf"), float("nan"), "10", True])
def test_unreasonable_leeway_is_a_configuration_error(make_verifier, leeway):
    with pytest.raises(ConfigurationError) as info:
        make_verifier(leeway=leeway)
    assert info.value.setting == "leeway"
