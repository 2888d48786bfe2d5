"""GuardConfig: every setting validated at construction, with named errors."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import pytest

from jwt_guard_core import (
    BadIssuer,
    ConfigurationError,
    GuardConfig,
    IssuerPolicy,
    StaticKeySet,
    TokenError,
    Verifier,
)
from jwt_guard_core.algorithms import ALGORITHMS
from tests.factories import AUDIENCE, ISSUER, claims, public_pem, sign


@pytest.fixture
def base(rsa_keys: StaticKeySet) -> dict[str, Any]:
    return {"algorithms": ["RS256"], "keys": rsa_keys, "issuer": ISSUER, "audience": AUDIENCE}


@pytest.fixture
def hmac_keys(keyring) -> StaticKeySet:
    return StaticKeySet.from_secret(keyring.secret, algorithm="HS256")


def config_error(options: dict[str, Any], **overrides: Any) -> ConfigurationError:
    merged = {**options, **overrides}
    for name, value in list(merged.items()):
        if value is _DROP:
            del merged[name]
    with pytest.raises(ConfigurationError) as info:
        GuardConfig(**merged)
    return info.value


_DROP = object()


def test_a_valid_config_builds_with_documented_defaults(base):
    config = GuardConfig(**base)
    assert config.leeway == 10
    assert config.max_token_bytes == 8192
    assert config.max_token_age is None
    assert config.max_lifetime is None
    assert config.expected_type is None
    assert config.required == {"exp", "iat", "sub", "iss", "aud"}


def test_config_is_frozen(base):
    config = GuardConfig(**base)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.leeway = 0  # type: ignore[misc]


def test_settings_are_keyword_only(rsa_keys):
    with pytest.raises(TypeError):
        GuardConfig(["RS256"], rsa_keys)  # type: ignore[misc]


def test_configuration_error_is_a_value_error_naming_the_setting(base):
    error = config_error(base, leeway=-1)
    assert isinstance(error, ValueError)
    assert error.setting == "leeway"
    assert str(error).startswith("leeway: ")


# -- algorithms


def test_algorithms_are_required_with_no_default(base):
    error = config_error(base, algorithms=_DROP)
    assert error.setting == "algorithms"
    assert "None" in str(error)
    assert "RS256" in str(error)  # says what is accepted


@pytest.mark.parametrize("value", ["RS256", b"RS256", 256, {"RS256": True}])
def test_algorithms_must_be_a_list(base, value):
    error = config_error(base, algorithms=value)
    assert error.setting == "algorithms"
    assert repr(value) in str(error)
    assert "list" in str(error)


def test_an_empty_allowlist_is_refused(base):
    error = config_error(base, algorithms=[])
    assert error.setting == "algorithms"
    assert "empty" in str(error)


@pytest.mark.parametrize("none", ["none", "None", "NONE", "nOnE", "NoNe", " none"])
def test_none_is_never_allowed_in_any_casing(base, none):
    error = config_error(base, algorithms=["RS256", none])
    assert error.setting == "algorithms"
    assert repr(none) in str(error)
    assert "never be allowed" in str(error)


@pytest.mark.parametrize("alg", ["RS1", "HS128", "rs256", "ES521", "Ed448", "ES256K", ""])
def test_unknown_algorithm_is_refused_listing_the_accepted_ones(base, alg):
    error = config_error(base, algorithms=[alg])
    assert error.setting == "algorithms"
    assert repr(alg) in str(error)
    for known in ALGORITHMS:
        assert known in str(error)


@pytest.mark.parametrize("alg", [None, 256, b"RS256"])
def test_a_non_string_algorithm_is_refused(base, alg):
    error = config_error(base, algorithms=["RS256", alg])
    assert error.setting == "algorithms"
    assert repr(alg) in str(error)
    assert "RS256" in str(error)


@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
def test_hmac_is_refused_with_a_public_key_source(base, alg):
    error = config_error(base, algorithms=["RS256", alg])
    assert error.setting == "algorithms"
    assert alg in str(error)
    assert "HMAC" in str(error)


def test_hmac_is_accepted_with_an_hmac_key_source(base, hmac_keys):
    config = GuardConfig(**{**base, "algorithms": ["HS256"], "keys": hmac_keys})
    assert config.all_algorithms == {"HS256"}


def test_every_known_algorithm_can_be_allowed(base, keyring):
    asymmetric = [a for a in ALGORITHMS if not a.startswith("HS")]
    # ML-DSA-87 tokens do not fit the default 8 KiB limit (docs/post-quantum.md).
    config = GuardConfig(**{**base, "algorithms": asymmetric, "max_token_bytes": 16384})
    assert config.all_algorithms == frozenset(asymmetric)


# -- keys


def test_keys_are_required(base):
    error = config_error(base, keys=_DROP)
    assert error.setting == "keys"
    assert "StaticKeySet" in str(error)


@pytest.mark.parametrize("value", ["secret", {"keys": []}, public_pem])
def test_keys_must_be_a_key_source(base, value):
    error = config_error(base, keys=value)
    assert error.setting == "keys"
    assert type(value).__name__ in str(error)
    assert "key source" in str(error)


# -- issuer and audience


def test_issuer_is_required_unless_verify_issuer_is_false(base):
    error = config_error(base, issuer=_DROP)
    assert error.setting == "issuer"
    assert "verify_issuer=False" in str(error)
    config = GuardConfig(**{**base, "issuer": None, "verify_issuer": False})
    assert config.required == {"exp", "iat", "sub", "aud"}


def test_issuer_given_with_verify_issuer_false_is_refused(base):
    error = config_error(base, verify_issuer=False)
    assert error.setting == "issuer"
    assert repr(ISSUER) in str(error)
    assert "verify_issuer=False" in str(error)


def test_audience_is_required_unless_verify_audience_is_false(base):
    error = config_error(base, audience=_DROP)
    assert error.setting == "audience"
    assert "verify_audience=False" in str(error)
    config = GuardConfig(**{**base, "audience": None, "verify_audience": False})
    assert config.required == {"exp", "iat", "sub", "iss"}


def test_audience_given_with_verify_audience_false_is_refused(base):
    error = config_error(base, verify_audience=False)
    assert error.setting == "audience"
    assert repr(AUDIENCE) in str(error)
    assert "verify_audience=False" in str(error)


@pytest.mark.parametrize("setting", ["issuer", "audience"])
@pytest.mark.parametrize("value", ["", [], [""], ["ok", 1], 42, b"api", ("ok", None)])
def test_issuer_and_audience_must_be_non_empty_strings(base, setting, value):
    error = config_error(base, **{setting: value})
    assert error.setting == setting
    assert repr(value) in str(error)
    assert "string" in str(error)


@pytest.mark.parametrize("setting", ["issuer", "audience"])
def test_several_issuers_or_audiences_are_accepted(base, setting):
    config = GuardConfig(**{**base, setting: ["https://a.example", "https://b.example"]})
    if setting == "issuer":
        assert set(config.policies) == {"https://a.example", "https://b.example"}
    else:
        (policy,) = config.policies.values()
        assert policy.audiences == {"https://a.example", "https://b.example"}


@pytest.mark.parametrize("flag", ["verify_issuer", "verify_audience"])
@pytest.mark.parametrize("value", ["False", 0, None, "no"])
def test_verify_flags_must_be_booleans(base, flag, value):
    error = config_error(base, **{flag: value})
    assert error.setting == flag
    assert repr(value) in str(error)
    assert "True or False" in str(error)


# -- numbers


@pytest.mark.parametrize("value", [0, 0.5, 10, 300])
def test_leeway_within_bounds_is_accepted(base, value):
    assert GuardConfig(**{**base, "leeway": value}).leeway == value


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (-1, "negative"),
        (300.5, "maximum of 300"),
        (3600, "maximum of 300"),
        (float("nan"), "not a number"),
        (float("inf"), "not a number"),
        ("10", "not a number"),
        (True, "not a number"),
        (None, "required"),
    ],
)
def test_leeway_out_of_bounds_is_refused(base, value, words):
    error = config_error(base, leeway=value)
    assert error.setting == "leeway"
    assert words in str(error)
    if value is not None:
        assert repr(value) in str(error)


@pytest.mark.parametrize("value", [256, 8192, 1024 * 1024])
def test_max_token_bytes_within_bounds_is_accepted(base, value):
    assert GuardConfig(**{**base, "max_token_bytes": value}).max_token_bytes == value


@pytest.mark.parametrize("value", [255, 0, -1, 1024 * 1024 + 1, 8192.0, "8192", True, None])
def test_max_token_bytes_out_of_bounds_is_refused(base, value):
    error = config_error(base, max_token_bytes=value)
    assert error.setting == "max_token_bytes"
    assert repr(value) in str(error)
    assert "256 to 1048576" in str(error)


@pytest.mark.parametrize("setting", ["max_token_age", "max_lifetime"])
@pytest.mark.parametrize(
    ("value", "words"),
    [
        (-5, "negative"),
        (0, "positive"),
        (float("nan"), "not a number"),
        ("3600", "not a number"),
        (False, "not a number"),
    ],
)
def test_max_token_age_and_lifetime_must_be_positive_seconds(base, setting, value, words):
    error = config_error(base, **{setting: value})
    assert error.setting == setting
    assert repr(value) in str(error)
    assert words in str(error)


def test_max_token_age_makes_iat_required(base):
    config = GuardConfig(**{**base, "optional_claims": ["iat"], "max_token_age": 3600})
    assert config.required == {"exp", "sub", "iat", "iss", "aud"}


def test_max_lifetime_makes_iat_and_exp_required(base):
    config = GuardConfig(**{**base, "optional_claims": ["iat", "sub"], "max_lifetime": 900})
    assert config.required == {"iat", "exp", "iss", "aud"}


# -- required claims


def test_required_claims_default_to_exp_iat_sub_plus_iss_and_aud(base):
    assert GuardConfig(**base).required == {"exp", "iat", "sub", "iss", "aud"}


def test_required_claims_add_to_the_minimum(base):
    config = GuardConfig(**{**base, "required_claims": ["jti"]})
    assert config.required == {"exp", "iat", "sub", "jti", "iss", "aud"}


def test_empty_required_claims_keep_the_minimum(base):
    required = GuardConfig(**{**base, "required_claims": []}).required
    assert required == {"exp", "iat", "sub", "iss", "aud"}


@pytest.mark.parametrize("value", ["exp", ["exp", ""], ["exp", 1], 5])
def test_required_claims_must_be_a_list_of_names(base, value):
    error = config_error(base, required_claims=value)
    assert error.setting == "required_claims"
    assert "list" in str(error)


# -- expected type, clock, revocation


@pytest.mark.parametrize(
    ("value", "normalized"),
    [("at+jwt", "at+jwt"), ("application/at+JWT", "at+jwt"), ("JWT", "jwt")],
)
def test_expected_type_is_normalized(base, value, normalized):
    assert GuardConfig(**{**base, "expected_type": value}).normalized_type == normalized


@pytest.mark.parametrize("value", ["", 1, b"at+jwt"])
def test_expected_type_must_be_a_non_empty_string(base, value):
    error = config_error(base, expected_type=value)
    assert error.setting == "expected_type"
    assert repr(value) in str(error)
    assert "media type" in str(error)


def test_clock_must_be_callable(base):
    error = config_error(base, clock=1_800_000_000)
    assert error.setting == "clock"
    assert "callable" in str(error)


def test_revocation_must_implement_the_protocol(base):
    class OnlySync:
        def is_revoked(self, claims: Mapping[str, Any], issuer: str | None) -> bool:
            return False

    error = config_error(base, revocation=OnlySync())
    assert error.setting == "revocation"
    assert "ais_revoked" in str(error)


# -- several issuers


@pytest.fixture
def other_keys(keyring) -> StaticKeySet:
    return StaticKeySet.from_pem(public_pem(keyring.p256), kid="ec-1")


def test_issuers_mapping_prepares_one_policy_per_issuer(rsa_keys, other_keys):
    config = GuardConfig(
        algorithms=["RS256"],
        audience=AUDIENCE,
        issuers={
            "https://a.example": IssuerPolicy(keys=rsa_keys),
            "https://b.example": IssuerPolicy(
                keys=other_keys, audience="https://b-api.example", algorithms=["ES256"]
            ),
        },
    )
    a = config.policies["https://a.example"]
    b = config.policies["https://b.example"]
    assert (a.keys, a.audiences, a.algorithms) == (rsa_keys, {AUDIENCE}, {"RS256"})
    assert (b.keys, b.audiences, b.algorithms) == (other_keys, {"https://b-api.example"}, {"ES256"})
    assert config.all_algorithms == {"RS256", "ES256"}


def test_issuers_without_a_default_allowlist_need_one_per_issuer(rsa_keys, other_keys):
    with pytest.raises(ConfigurationError) as info:
        GuardConfig(
            audience=AUDIENCE,
            issuers={
                "https://a.example": IssuerPolicy(keys=rsa_keys, algorithms=["RS256"]),
                "https://b.example": IssuerPolicy(keys=other_keys),
            },
        )
    assert info.value.setting == "issuers['https://b.example'].algorithms"
    assert "algorithms=" in str(info.value)


def test_issuers_audience_may_come_from_every_policy(rsa_keys):
    config = GuardConfig(
        algorithms=["RS256"],
        issuers={"https://a.example": IssuerPolicy(keys=rsa_keys, audience="api-a")},
    )
    assert config.policies["https://a.example"].audiences == {"api-a"}


def test_issuers_need_an_audience_for_every_issuer(rsa_keys):
    with pytest.raises(ConfigurationError) as info:
        GuardConfig(
            algorithms=["RS256"],
            issuers={
                "https://a.example": IssuerPolicy(keys=rsa_keys, audience="api-a"),
                "https://b.example": IssuerPolicy(keys=rsa_keys),
            },
        )
    assert info.value.setting == "audience"


def test_per_issuer_hmac_with_a_public_key_source_names_the_issuer_setting(rsa_keys):
    with pytest.raises(ConfigurationError) as info:
        GuardConfig(
            algorithms=["RS256"],
            audience=AUDIENCE,
            issuers={"https://a.example": IssuerPolicy(keys=rsa_keys, algorithms=["HS256"])},
        )
    assert info.value.setting == "issuers['https://a.example'].algorithms"
    assert "HS256" in str(info.value)


@pytest.mark.parametrize("value", [{}, [("https://a.example", None)], "https://a.example"])
def test_issuers_must_be_a_non_empty_mapping(rsa_keys, value):
    with pytest.raises(ConfigurationError) as info:
        GuardConfig(algorithms=["RS256"], audience=AUDIENCE, issuers=value)
    assert info.value.setting == "issuers"
    assert repr(value) in str(info.value)
    assert "IssuerPolicy" in str(info.value)


def test_issuers_values_must_be_issuer_policies(rsa_keys):
    with pytest.raises(ConfigurationError) as info:
        GuardConfig(
            algorithms=["RS256"], audience=AUDIENCE, issuers={"https://a.example": rsa_keys}
        )
    assert info.value.setting == "issuers['https://a.example']"
    assert "StaticKeySet" in str(info.value)
    assert "IssuerPolicy" in str(info.value)


@pytest.mark.parametrize("iss", ["", 1, None])
def test_issuers_keys_must_be_non_empty_strings(rsa_keys, iss):
    with pytest.raises(ConfigurationError) as info:
        GuardConfig(
            algorithms=["RS256"], audience=AUDIENCE, issuers={iss: IssuerPolicy(keys=rsa_keys)}
        )
    assert info.value.setting == "issuers"
    assert repr(iss) in str(info.value)


def test_issuers_policy_keys_must_be_a_key_source():
    with pytest.raises(ConfigurationError) as info:
        GuardConfig(
            algorithms=["RS256"],
            audience=AUDIENCE,
            issuers={"https://a.example": IssuerPolicy(keys="not keys")},  # type: ignore[arg-type]
        )
    assert info.value.setting == "issuers['https://a.example'].keys"
    assert "str" in str(info.value)


@pytest.mark.parametrize("extra", [{"issuer": ISSUER}, {"keys": "rsa"}])
def test_issuers_cannot_be_combined_with_issuer_or_keys(rsa_keys, extra):
    if extra.get("keys") == "rsa":
        extra = {"keys": rsa_keys}
    with pytest.raises(ConfigurationError) as info:
        GuardConfig(
            algorithms=["RS256"],
            audience=AUDIENCE,
            issuers={"https://a.example": IssuerPolicy(keys=rsa_keys)},
            **extra,
        )
    assert info.value.setting == "issuers"
    assert "not both" in str(info.value)


def test_issuers_cannot_be_combined_with_verify_issuer_false(rsa_keys):
    with pytest.raises(ConfigurationError) as info:
        GuardConfig(
            algorithms=["RS256"],
            audience=AUDIENCE,
            verify_issuer=False,
            issuers={"https://a.example": IssuerPolicy(keys=rsa_keys)},
        )
    assert info.value.setting == "verify_issuer"


def test_the_tokens_iss_selects_the_issuers_keys_audience_and_algorithms(keyring, clock, rsa_keys):
    ec_keys = StaticKeySet.from_pem(public_pem(keyring.p256), kid="ec-1")
    verifier = Verifier(
        GuardConfig(
            algorithms=["RS256"],
            audience=AUDIENCE,
            clock=clock,
            issuers={
                "https://a.example": IssuerPolicy(keys=rsa_keys),
                "https://b.example": IssuerPolicy(
                    keys=ec_keys, audience="https://b-api.example", algorithms=["ES256"]
                ),
            },
        )
    )
    a = sign({"alg": "RS256", "kid": "rsa-1"}, claims(iss="https://a.example"), keyring.rsa)
    b = sign(
        {"alg": "ES256", "kid": "ec-1"},
        claims(iss="https://b.example", aud="https://b-api.example"),
        keyring.p256,
    )
    assert verifier.verify(a).issuer == "https://a.example"
    assert verifier.verify(b).issuer == "https://b.example"
    # A's audience is not B's, and B's algorithm is not allowed for A.
    b_with_a_audience = sign(
        {"alg": "ES256", "kid": "ec-1"}, claims(iss="https://b.example"), keyring.p256
    )
    with pytest.raises(TokenError) as info:
        verifier.verify(b_with_a_audience)
    assert info.value.reason == "bad_audience"
    a_with_es256 = sign(
        {"alg": "ES256", "kid": "ec-1"}, claims(iss="https://a.example"), keyring.p256
    )
    with pytest.raises(TokenError) as info:
        verifier.verify(a_with_es256)
    assert info.value.reason == "alg_not_allowed"


@pytest.mark.parametrize(
    "iss", ["https://c.example", "https://a.example/", "HTTPS://A.EXAMPLE", "https://a.exampl"]
)
def test_an_unknown_iss_is_bad_issuer(keyring, clock, rsa_keys, iss):
    verifier = Verifier(
        GuardConfig(
            algorithms=["RS256"],
            audience=AUDIENCE,
            clock=clock,
            issuers={"https://a.example": IssuerPolicy(keys=rsa_keys)},
        )
    )
    token = sign({"alg": "RS256", "kid": "rsa-1"}, claims(iss=iss), keyring.rsa)
    with pytest.raises(BadIssuer) as info:
        verifier.verify(token)
    assert (info.value.reason, info.value.status, info.value.error) == (
        "bad_issuer",
        401,
        "invalid_token",
    )


def test_error_messages_never_contain_hmac_secret_material(keyring):
    keys = StaticKeySet.from_secret(keyring.secret, algorithm="HS256")
    with pytest.raises(ConfigurationError) as info:
        GuardConfig(algorithms=["HS256", "none"], keys=keys, issuer=ISSUER, audience=AUDIENCE)
    assert keyring.secret.decode() not in str(info.value)
    assert keyring.secret.decode() not in repr(
        GuardConfig(algorithms=["HS256"], keys=keys, issuer=ISSUER, audience=AUDIENCE)
    )


def test_per_issuer_audience_with_verify_audience_false_is_refused(rsa_keys):
    with pytest.raises(ConfigurationError) as info:
        GuardConfig(
            algorithms=["RS256"],
            verify_audience=False,
            issuers={"https://a.example": IssuerPolicy(keys=rsa_keys, audience="api-a")},
        )
    assert info.value.setting == "audience"
    assert "verify_audience=False" in str(info.value)
