"""Step-up authentication (RFC 9470): acr and auth_time requirements, refusals and challenges."""

from __future__ import annotations

import pytest

from jwt_guard_core import ConfigurationError
from jwt_guard_core.challenges import ChallengeOptions, challenge_response
from jwt_guard_core.dpop import DPoPPolicy
from jwt_guard_core.step_up import (
    InsufficientUserAuthentication,
    StepUpRequirement,
    check_step_up,
)
from tests.core.dpop_support import refused
from tests.factories import NOW, claims, sign

MFA = StepUpRequirement("urn:example:mfa urn:example:hwk")
RECENT = StepUpRequirement(max_age=300)


@pytest.fixture
def verified(keyring, make_verifier):
    verifier = make_verifier()

    def _verified(**overrides):
        raw = sign({"alg": "RS256", "kid": "rsa-1"}, claims(**overrides), keyring.rsa)
        return verifier.verify(raw).claims

    return _verified


def step_up_refused(call, reason: str) -> InsufficientUserAuthentication:
    error = refused(
        call, InsufficientUserAuthentication, reason, error="insufficient_user_authentication"
    )
    assert isinstance(error, InsufficientUserAuthentication)
    return error


def test_an_accepted_acr_passes(verified):
    check_step_up(verified(acr="urn:example:hwk"), MFA, now=NOW)


def test_a_recent_enough_authentication_passes_at_the_boundary_with_leeway(verified):
    check_step_up(verified(auth_time=int(NOW) - 310), RECENT, now=NOW)
    check_step_up(verified(auth_time=int(NOW) + 10), RECENT, now=NOW)


def test_no_requirement_passes_any_token(verified):
    check_step_up(verified(), StepUpRequirement(), now=NOW)


def test_another_acr_is_refused_and_the_challenge_names_the_accepted_values(verified):
    error = step_up_refused(
        lambda: check_step_up(verified(acr="urn:example:pwd"), MFA, now=NOW), "acr_not_accepted"
    )
    response = challenge_response(error, ChallengeOptions(), presented="Bearer")
    assert response.status == 401
    assert response.headers["WWW-Authenticate"] == (
        'Bearer realm="api", error="insufficient_user_authentication", '
        'acr_values="urn:example:mfa urn:example:hwk"'
    )
    assert response.body == {
        "error": "insufficient_user_authentication",
        "error_description": "A stronger or more recent authentication is required.",
    }


@pytest.mark.parametrize("acr", [None, 1, ["urn:example:mfa"]])
def test_a_missing_or_non_string_acr_is_refused(verified, acr):
    reason = "acr_missing" if acr is None else "acr_not_accepted"
    step_up_refused(lambda: check_step_up(verified(acr=acr), MFA, now=NOW), reason)


def test_an_old_authentication_is_refused_with_max_age_in_the_challenge(verified):
    token = verified(auth_time=int(NOW) - 311)
    error = step_up_refused(lambda: check_step_up(token, RECENT, now=NOW), "auth_time_too_old")
    response = challenge_response(error, ChallengeOptions(resource_metadata=None))
    assert response.headers["WWW-Authenticate"] == (
        'Bearer realm="api", error="insufficient_user_authentication", max_age="300"'
    )


def test_no_auth_time_is_refused_when_max_age_is_required(verified):
    step_up_refused(lambda: check_step_up(verified(), RECENT, now=NOW), "auth_time_missing")


@pytest.mark.parametrize("auth_time", ["yesterday", True, float("inf"), NOW + 11])
def test_an_invalid_or_future_auth_time_is_refused(auth_time):
    step_up_refused(
        lambda: check_step_up({"auth_time": auth_time}, RECENT, now=NOW), "auth_time_invalid"
    )


def test_both_requirements_are_named_on_the_scheme_the_client_used(verified, clock):
    both = StepUpRequirement(["urn:example:mfa"], max_age=0)
    token = verified(acr="urn:example:pwd", auth_time=int(NOW))
    error = step_up_refused(lambda: check_step_up(token, both, now=NOW), "acr_not_accepted")
    options = ChallengeOptions.for_policy(
        DPoPPolicy(clock=clock),
        resource_metadata="https://api.example/.well-known/oauth-protected-resource",
    )
    response = challenge_response(error, options, presented="DPoP")
    meta = 'resource_metadata="https://api.example/.well-known/oauth-protected-resource"'
    assert response.headers["WWW-Authenticate"] == (
        f'Bearer realm="api", {meta}, '
        'DPoP realm="api", error="insufficient_user_authentication", '
        'acr_values="urn:example:mfa", max_age="0", '
        f'algs="ES256 ES384 EdDSA Ed25519 PS256 RS256", {meta}'
    )


@pytest.mark.parametrize(
    ("options", "setting"),
    [
        ({"acr_values": ["a b"]}, "acr_values"),
        ({"acr_values": [""]}, "acr_values"),
        ({"acr_values": [5]}, "acr_values"),
        ({"max_age": -1}, "max_age"),
        ({"max_age": 1.5}, "max_age"),
        ({"max_age": True}, "max_age"),
    ],
)
def test_bad_requirements_name_the_setting(options, setting):
    with pytest.raises(ConfigurationError) as info:
        StepUpRequirement(**options)
    assert info.value.setting == setting


def test_refusals_are_security_events(verified, recorded_events):
    with pytest.raises(InsufficientUserAuthentication):
        check_step_up(verified(), MFA, now=NOW)
    assert [(e.name, e.reason) for e in recorded_events] == [("step_up_required", "acr_missing")]
