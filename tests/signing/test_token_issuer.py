"""TokenIssuer: RFC 9068 claims and header, lifetimes, refused claims, arguments."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from jwt_guard_core import ConfigurationError, GuardConfig, Verifier
from jwt_guard_core.encoding import b64url_decode
from jwt_guard_core.signing import IssuanceError, TokenIssuer
from tests.signing.conftest import AUDIENCE, ISSUER, verifier_from_jwks


def _parts(token: str) -> tuple[dict, dict]:
    header, payload, _ = token.split(".")
    return json.loads(b64url_decode(header)), json.loads(b64url_decode(payload))


def test_token_carries_the_registered_claims_and_an_at_jwt_header(issuer, manager, clock):
    token = issuer.issue_access_token("user-42", scopes=["orders:read", "profile"])
    header, payload = _parts(token)
    assert header == {"alg": "ES256", "kid": manager.active_key().kid, "typ": "at+jwt"}
    now = int(clock())
    assert payload["iss"] == ISSUER
    assert payload["aud"] == AUDIENCE
    assert payload["sub"] == "user-42"
    assert payload["iat"] == payload["nbf"] == now
    assert payload["exp"] == now + 900
    assert payload["scope"] == "orders:read profile"
    assert isinstance(payload["jti"], str)
    assert set(payload) == {"iss", "aud", "sub", "iat", "nbf", "exp", "jti", "scope"}


def test_default_lifetime_is_fifteen_minutes_and_lifetime_may_be_shorter(issuer):
    _, default = _parts(issuer.issue_access_token("u"))
    assert default["exp"] - default["iat"] == 15 * 60
    _, short = _parts(issuer.issue_access_token("u", lifetime=timedelta(minutes=2)))
    assert short["exp"] - short["iat"] == 120


def test_lifetime_over_the_configured_maximum_is_refused(manager):
    issuer = TokenIssuer(manager, issuer=ISSUER, audience=AUDIENCE, max_lifetime=1800)
    assert issuer.max_lifetime == 1800
    issuer.issue_access_token("u", lifetime=1800)
    with pytest.raises(IssuanceError) as info:
        issuer.issue_access_token("u", lifetime=1801)
    assert info.value.argument == "lifetime"
    assert "maximum of 1800" in str(info.value)


@pytest.mark.parametrize("lifetime", [0, 0.5, -60, float("nan"), float("inf"), "900", True])
def test_lifetime_that_is_not_a_positive_number_of_seconds_is_refused(issuer, lifetime):
    with pytest.raises(IssuanceError) as info:
        issuer.issue_access_token("u", lifetime=lifetime)
    assert info.value.argument == "lifetime"


def test_maximum_lifetime_may_not_outlive_the_publication_of_the_key(make_manager):
    manager = make_manager(max_token_lifetime=600)
    with pytest.raises(ConfigurationError) as info:
        TokenIssuer(manager, issuer=ISSUER, audience=AUDIENCE, max_lifetime=3600)
    assert info.value.setting == "max_lifetime"
    with pytest.raises(ConfigurationError) as info:
        TokenIssuer(manager, issuer=ISSUER, audience=AUDIENCE)  # default 900 > 600
    assert info.value.setting == "default_lifetime"
    assert TokenIssuer(manager, issuer=ISSUER, audience=AUDIENCE, default_lifetime=300)


def test_jti_is_random_with_at_least_128_bits(issuer):
    jtis = [_parts(issuer.issue_access_token("u"))[1]["jti"] for _ in range(200)]
    assert len(set(jtis)) == len(jtis)
    assert all(len(bytes.fromhex(j)) * 8 >= 128 for j in jtis)
    # Never mistaken for a command-line option when pasted into a revoke command.
    assert not any(j.startswith("-") for j in jtis)


@pytest.mark.parametrize("name", ["iss", "sub", "aud", "exp", "nbf", "iat", "jti", "scope"])
def test_registered_claims_cannot_be_set_through_claims(issuer, name):
    with pytest.raises(IssuanceError) as info:
        issuer.issue_access_token("u", claims={name: "x", "roles": ["admin"]})
    assert info.value.argument == "claims"
    assert name in str(info.value)
    assert "registered claims" in str(info.value)


@pytest.mark.parametrize(
    "claims",
    [
        {"password": "x"},
        {"userPassword": "x"},
        {"db_passwd": "x"},
        {"client_secret": "x"},
        {"SECRET": "x"},
        {"ssn": "x"},
        {"customer_SSN": "x"},
        {"social_security_number": "x"},
        {"credit_card": "x"},
        {"creditCardNumber": "x"},
        {"cc_number": "x"},
        {"card-number": "x"},
        {"cvv": "x"},
        {"pin": "x"},
        {"api_key": "x"},
        {"privateKey": "x"},
        {"refresh_token": "x"},
        {"https://example.com/claims/password": "x"},
        {"profile": {"name": "A", "password": "x"}},
        {"accounts": [{"id": 1}, {"iban": "x"}]},
    ],
)
def test_claim_names_that_look_like_secrets_are_refused(issuer, claims):
    with pytest.raises(IssuanceError) as info:
        issuer.issue_access_token("u", claims=claims)
    assert info.value.argument == "claims"
    assert "looks like a secret" in str(info.value)
    assert "'x'" not in str(info.value)


def test_ordinary_claim_names_are_accepted(issuer):
    extra = {
        "client_id": "web-app",
        "roles": ["admin"],
        "shipping_address": "1 Main St",
        "spinner": True,
        "lessons": 3,
        "tenant": {"id": "t1", "opinion": "fine"},
    }
    _, payload = _parts(issuer.issue_access_token("u", claims=extra))
    for name, value in extra.items():
        assert payload[name] == value


@pytest.mark.parametrize(
    "claims",
    [{"when": object()}, {"ratio": float("nan")}, {"big": float("inf")}, {1: "non-string name"}],
)
def test_claims_that_are_not_json_are_refused(issuer, claims):
    with pytest.raises(IssuanceError) as info:
        issuer.issue_access_token("u", claims=claims)
    assert info.value.argument == "claims"


def test_claims_must_be_a_mapping(issuer):
    with pytest.raises(IssuanceError) as info:
        issuer.issue_access_token("u", claims=[("roles", "admin")])
    assert info.value.argument == "claims"


def test_deeply_nested_claims_are_refused(issuer):
    value: dict = {}
    for _ in range(40):
        value = {"a": value}
    with pytest.raises(IssuanceError, match="nested"):
        issuer.issue_access_token("u", claims={"deep": value})


def test_scopes_given_as_one_string_are_refused(issuer):
    with pytest.raises(IssuanceError) as info:
        issuer.issue_access_token("u", scopes="orders:read profile")
    assert info.value.argument == "scopes"
    assert "list" in str(info.value)


@pytest.mark.parametrize("scope", ["", "two words", 'quo"te', "back\\slash", "é", 5])
def test_scope_that_is_not_an_rfc6749_scope_token_is_refused(issuer, scope):
    with pytest.raises(IssuanceError) as info:
        issuer.issue_access_token("u", scopes=["ok", scope])
    assert info.value.argument == "scopes"


def test_duplicate_scopes_are_sent_once_and_no_scopes_means_no_scope_claim(issuer):
    _, payload = _parts(issuer.issue_access_token("u", scopes=["a", "b", "a"]))
    assert payload["scope"] == "a b"
    _, payload = _parts(issuer.issue_access_token("u"))
    assert "scope" not in payload


def test_audience_per_call_overrides_the_default_and_several_become_a_list(issuer):
    _, payload = _parts(issuer.issue_access_token("u", audience="https://other.example"))
    assert payload["aud"] == "https://other.example"
    _, payload = _parts(issuer.issue_access_token("u", audience=["https://a", "https://b"]))
    assert payload["aud"] == ["https://a", "https://b"]


def test_audience_is_required_here_or_as_a_default(manager):
    issuer = TokenIssuer(manager, issuer=ISSUER)
    with pytest.raises(IssuanceError) as info:
        issuer.issue_access_token("u")
    assert info.value.argument == "audience"
    _, payload = _parts(issuer.issue_access_token("u", audience="https://x"))
    assert payload["aud"] == "https://x"


@pytest.mark.parametrize("audience", ["", [], [""], [1], 5])
def test_bad_audience_is_refused(issuer, audience):
    with pytest.raises(IssuanceError) as info:
        issuer.issue_access_token("u", audience=audience)
    assert info.value.argument == "audience"


@pytest.mark.parametrize("subject", ["", "   ", None, 42])
def test_subject_must_be_a_non_empty_string(issuer, subject):
    with pytest.raises(IssuanceError) as info:
        issuer.issue_access_token(subject)
    assert info.value.argument == "subject"


@pytest.mark.parametrize(
    ("options", "setting"),
    [
        ({"issuer": ""}, "issuer"),
        ({"issuer": ISSUER, "audience": ""}, "audience"),
        ({"issuer": ISSUER, "default_lifetime": 0}, "default_lifetime"),
        ({"issuer": ISSUER, "max_lifetime": -5}, "max_lifetime"),
        ({"issuer": ISSUER, "clock": 3}, "clock"),
    ],
)
def test_bad_issuer_settings_are_refused_with_the_setting_named(manager, options, setting):
    with pytest.raises(ConfigurationError) as info:
        TokenIssuer(manager, **options)
    assert info.value.setting == setting


def test_issuer_needs_a_key_manager():
    with pytest.raises(ConfigurationError) as info:
        TokenIssuer(object(), issuer=ISSUER)  # type: ignore[arg-type]
    assert info.value.setting == "keys"


def test_hmac_tokens_need_allow_hmac_and_verify_in_process(make_manager, clock):
    manager = make_manager(algorithm="HS256", allow_hmac=True)
    issuer = TokenIssuer(manager, issuer=ISSUER, audience=AUDIENCE)
    token = issuer.issue_access_token("u")
    header, _ = _parts(token)
    assert header["alg"] == "HS256"
    assert len(manager._load_view().ring.active.material.reveal()) == 32
    verifier = Verifier(
        GuardConfig(
            algorithms=["HS256"],
            keys=manager,
            issuer=ISSUER,
            audience=AUDIENCE,
            expected_type="at+jwt",
            clock=clock,
        )
    )
    assert verifier.verify(token).subject == "u"


def test_issued_token_passes_a_strict_verifier(issuer, manager, clock):
    verifier = Verifier(
        GuardConfig(
            algorithms=["ES256"],
            keys=manager,
            issuer=ISSUER,
            audience=AUDIENCE,
            expected_type="at+jwt",
            required_claims=["exp", "iat", "nbf", "sub", "jti"],
            max_lifetime=900,
            max_token_age=900,
            leeway=0,
            clock=clock,
        )
    )
    result = verifier.verify(issuer.issue_access_token("u", scopes=["a"]))
    assert result.scopes == frozenset({"a"})
    assert verifier_from_jwks(manager, clock).verify(issuer.issue_access_token("u")).subject == "u"
