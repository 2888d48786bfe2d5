"""``typ`` checking (RFC 8725 section 3.11, RFC 9068 section 2.1).

Explicit typing stops one kind of JWT (an ID token, a logout token, a token
for another protocol) from being replayed as an access token. With
``expected_type="at+jwt"`` the header must say so, compared case-insensitively
with or without the ``application/`` prefix (RFC 7515 section 4.1.9) and
nothing looser.
"""

from __future__ import annotations

import pytest

from jwt_guard_core import BadType
from tests.factories import claims, sign


@pytest.fixture
def at_verifier(make_verifier):
    return make_verifier(expected_type="at+jwt")


@pytest.mark.parametrize(
    "typ", ["at+jwt", "AT+JWT", "At+Jwt", "application/at+jwt", "Application/AT+JWT"]
)
def test_expected_type_in_any_allowed_spelling_is_accepted(at_verifier, keyring, rejects, typ):
    token = sign({"alg": "RS256", "kid": "rsa-1", "typ": typ}, claims(), keyring.rsa)
    assert rejects.accepts(at_verifier, token).header["typ"] == typ


@pytest.mark.parametrize(
    "typ",
    [
        "JWT",
        "jwt",
        "application/jwt",
        "id_token+jwt",  # an ID token replayed as an access token
        "logout+jwt",
        "secevent+jwt",
        "at+jwt ",
        " at+jwt",
        "at+jwt\x00",
        "at+jwt; charset=utf-8",
        "application/at+jwt+jwt",
        "xapplication/at+jwt",
        "at+jwtx",
        "application/application/at+jwt",
        "",
    ],
)
def test_wrong_typ_is_rejected_with_bad_type(at_verifier, keyring, rejects, typ):
    token = sign({"alg": "RS256", "kid": "rsa-1", "typ": typ}, claims(), keyring.rsa)
    rejects(at_verifier, token, BadType, "bad_type", alg="RS256", kid="rsa-1")


def test_missing_typ_is_rejected_with_bad_type(at_verifier, keyring, rejects):
    token = sign({"alg": "RS256", "kid": "rsa-1"}, claims(), keyring.rsa)
    rejects(at_verifier, token, BadType, "bad_type")


@pytest.mark.parametrize("typ", [None, 1, True, ["at+jwt"], {"typ": "at+jwt"}])
def test_typ_that_is_not_a_string_is_rejected_with_bad_type(at_verifier, keyring, rejects, typ):
    token = sign({"alg": "RS256", "kid": "rsa-1", "typ": typ}, claims(), keyring.rsa)
    rejects(at_verifier, token, BadType, "bad_type")


def test_typ_is_checked_before_the_key_lookup(at_verifier, keyring, rejects):
    # A wrong typ with an unknown kid is reported as bad_type: header checks
    # come before anything that could reach a key source.
    token = sign({"alg": "RS256", "kid": "nope", "typ": "JWT"}, claims(), keyring.rsa)
    rejects(at_verifier, token, BadType, "bad_type")


def test_typ_is_not_checked_when_no_type_is_configured(make_verifier, keyring, rejects):
    token = sign({"alg": "RS256", "kid": "rsa-1", "typ": "anything"}, claims(), keyring.rsa)
    assert rejects.accepts(make_verifier(), token)
