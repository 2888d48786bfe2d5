"""Issuer and audience: exact string match, nothing looser.

RFC 7519 sections 4.1.1 and 4.1.3 compare StringOrURI values as
case-sensitive strings; RFC 8725 sections 3.8 and 3.9 ask verifiers to check
both so a token minted by another issuer, or for another API, is refused.
Prefix, suffix, trailing-slash, case, whitespace and lookalike variants of
the configured values are all different values.
"""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from jwt_guard_core import (
    BadAudience,
    BadIssuer,
    ConfigurationError,
    GuardConfig,
    InvalidClaim,
    IssuerPolicy,
    MissingClaim,
    StaticKeySet,
    UnknownKid,
    Verifier,
)
from tests.factories import AUDIENCE, ISSUER, claims, public_pem, sign


def _token(keyring, **overrides: object) -> str:
    return sign({"alg": "RS256", "kid": "rsa-1"}, claims(**overrides), keyring.rsa)


def _variants(value: str) -> list[str]:
    host_end = value.index("//") + 2
    return [
        value + "/",
        value + ".evil.example",
        value + "@evil.example",
        value + "#",
        value + "?",
        value + " ",
        " " + value,
        value + "\x00",
        value[:-1],
        value.upper(),
        value.capitalize(),
        value[:host_end] + value[host_end:].upper(),
        value.replace("https://", "http://"),
        value.replace("https://", ""),
        "https://evil.example/" + value,
        value.replace("e", "\u0435"),  # Cyrillic lookalike
        value.replace("example", "example."),  # trailing-dot FQDN
        "",
    ]


ISSUER_VARIANTS = _variants(ISSUER)
AUDIENCE_VARIANTS = _variants(AUDIENCE)


def test_exact_issuer_and_audience_are_accepted(make_verifier, keyring, rejects):
    result = rejects.accepts(make_verifier(), _token(keyring))
    assert result.issuer == ISSUER
    assert result.audience == (AUDIENCE,)


@pytest.mark.parametrize("iss", ISSUER_VARIANTS)
def test_issuer_that_is_not_exactly_the_configured_one_is_rejected_with_bad_issuer(
    make_verifier, keyring, rejects, iss
):
    rejects(make_verifier(), _token(keyring, iss=iss), BadIssuer, "bad_issuer", alg="RS256")


@pytest.mark.parametrize("iss", [[ISSUER], {"iss": ISSUER}, 1, True])
def test_issuer_that_is_not_a_string_is_rejected_with_bad_issuer(
    make_verifier, keyring, rejects, iss
):
    rejects(make_verifier(), _token(keyring, iss=iss), BadIssuer, "bad_issuer")


def test_null_issuer_is_rejected_with_bad_issuer(make_verifier, keyring, rejects):
    token = sign({"alg": "RS256", "kid": "rsa-1"}, {**claims(), "iss": None}, keyring.rsa)
    rejects(make_verifier(), token, BadIssuer, "bad_issuer")


def test_missing_issuer_is_rejected_with_missing_claim(make_verifier, keyring, rejects):
    rejects(make_verifier(), _token(keyring, iss=None), MissingClaim, "missing_claim")


def test_issuer_is_checked_before_the_key_lookup(make_verifier, keyring, rejects):
    token = sign({"alg": "RS256", "kid": "nope"}, claims(iss="https://evil.example"), keyring.rsa)
    rejects(make_verifier(), token, BadIssuer, "bad_issuer", kid="nope")


@pytest.mark.parametrize("aud", AUDIENCE_VARIANTS)
def test_audience_that_is_not_exactly_the_configured_one_is_rejected_with_bad_audience(
    make_verifier, keyring, rejects, aud
):
    rejects(make_verifier(), _token(keyring, aud=aud), BadAudience, "bad_audience")


@pytest.mark.parametrize("aud", AUDIENCE_VARIANTS)
def test_audience_list_without_an_exact_match_is_rejected_with_bad_audience(
    make_verifier, keyring, rejects, aud
):
    token = _token(keyring, aud=[aud, "https://other.example"])
    rejects(make_verifier(), token, BadAudience, "bad_audience")


def test_audience_list_containing_the_configured_value_is_accepted(make_verifier, keyring, rejects):
    token = _token(keyring, aud=["https://other.example", AUDIENCE])
    assert rejects.accepts(make_verifier(), token).audience == ("https://other.example", AUDIENCE)


def test_space_separated_audiences_in_one_string_are_one_value(make_verifier, keyring, rejects):
    token = _token(keyring, aud=f"https://other.example {AUDIENCE}")
    rejects(make_verifier(), token, BadAudience, "bad_audience")


def test_missing_audience_is_rejected_with_missing_claim(make_verifier, keyring, rejects):
    rejects(make_verifier(), _token(keyring, aud=None), MissingClaim, "missing_claim")


@pytest.mark.parametrize(
    "aud",
    [[], [AUDIENCE, 1], [AUDIENCE, None], [[AUDIENCE]], {"aud": AUDIENCE}, 1, True, None],
    ids=[
        "empty-list",
        "list-with-int",
        "list-with-null",
        "nested-list",
        "object",
        "int",
        "bool",
        "null",
    ],
)
def test_audience_of_the_wrong_shape_is_rejected_with_invalid_claim(
    make_verifier, keyring, rejects, aud
):
    token = sign({"alg": "RS256", "kid": "rsa-1"}, {**claims(), "aud": aud}, keyring.rsa)
    rejects(make_verifier(), token, InvalidClaim, "invalid_claim")


def test_several_configured_audiences_each_match_exactly(make_verifier, keyring, rejects):
    verifier = make_verifier(audience=[AUDIENCE, "urn:api:orders"])
    assert rejects.accepts(verifier, _token(keyring, aud="urn:api:orders"))
    rejects(verifier, _token(keyring, aud="urn:api:order"), BadAudience, "bad_audience")
    rejects(verifier, _token(keyring, aud="URN:API:ORDERS"), BadAudience, "bad_audience")


def test_several_configured_issuers_each_match_exactly(make_verifier, keyring, rejects):
    verifier = make_verifier(issuer=[ISSUER, "https://second.example"])
    assert rejects.accepts(verifier, _token(keyring, iss="https://second.example"))
    rejects(verifier, _token(keyring, iss="https://second.example/"), BadIssuer, "bad_issuer")


def test_audience_or_issuer_are_required_unless_explicitly_turned_off(rsa_keys):
    with pytest.raises(ConfigurationError) as info:
        GuardConfig(algorithms=["RS256"], keys=rsa_keys, issuer=ISSUER)
    assert info.value.setting == "audience"
    with pytest.raises(ConfigurationError) as info:
        GuardConfig(algorithms=["RS256"], keys=rsa_keys, audience=AUDIENCE)
    assert info.value.setting == "issuer"


@pytest.mark.parametrize("value", ["", [""], [], [None]])
def test_blank_issuer_or_audience_configuration_is_refused(rsa_keys, value):
    with pytest.raises(ConfigurationError):
        GuardConfig(algorithms=["RS256"], keys=rsa_keys, issuer=value, audience=AUDIENCE)
    with pytest.raises(ConfigurationError):
        GuardConfig(algorithms=["RS256"], keys=rsa_keys, issuer=ISSUER, audience=value)


@pytest.fixture(scope="module")
def second_rsa() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(65537, 2048)


def test_token_claiming_one_issuer_cannot_use_another_issuers_key(
    keyring, clock, second_rsa, rejects
):
    # Multi-issuer: iss selects the key set, so issuer B's key (and kid)
    # cannot vouch for a token that claims to come from issuer A.
    verifier = Verifier(
        GuardConfig(
            issuers={
                "https://a.example": IssuerPolicy(
                    keys=StaticKeySet.from_pem(public_pem(keyring.rsa), kid="a-1")
                ),
                "https://b.example": IssuerPolicy(
                    keys=StaticKeySet.from_pem(public_pem(second_rsa), kid="b-1")
                ),
            },
            algorithms=["RS256"],
            audience=AUDIENCE,
            clock=clock,
        )
    )
    good_b = sign({"alg": "RS256", "kid": "b-1"}, claims(iss="https://b.example"), second_rsa)
    assert rejects.accepts(verifier, good_b).issuer == "https://b.example"
    forged = sign({"alg": "RS256", "kid": "b-1"}, claims(iss="https://a.example"), second_rsa)
    rejects(verifier, forged, UnknownKid, "unknown_kid", kid="b-1")
