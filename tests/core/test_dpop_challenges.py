"""WWW-Authenticate challenges for Bearer and DPoP, with resource_metadata (RFC 9449, 9728)."""

from __future__ import annotations

import pytest

from jwt_guard_core import ConfigurationError, InsufficientScope, MalformedToken
from jwt_guard_core.challenges import (
    ChallengeOptions,
    challenge_response,
    www_authenticate_challenges,
)
from jwt_guard_core.dpop import DPoPPolicy, InvalidDPoPProof
from jwt_guard_core.http import error_response, www_authenticate

ALGS = 'algs="ES256 ES384 EdDSA Ed25519 PS256 RS256"'
META = "https://api.example/.well-known/oauth-protected-resource"


@pytest.mark.parametrize(
    "error", [None, MalformedToken(), InsufficientScope(("orders:write",))], ids=repr
)
def test_bearer_only_without_metadata_is_exactly_the_rfc_6750_challenge(error):
    options = ChallengeOptions()
    assert www_authenticate_challenges(error, options) == www_authenticate(error)
    assert challenge_response(error, options) == error_response(error)


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("off", 'Bearer realm="api"'),
        ("allowed", f'Bearer realm="api", DPoP realm="api", {ALGS}'),
        ("required", f'DPoP realm="api", {ALGS}'),
    ],
)
def test_missing_credentials_get_a_challenge_per_accepted_scheme(mode, expected):
    options = ChallengeOptions.for_policy(DPoPPolicy(mode=mode))
    assert www_authenticate_challenges(None, options) == expected
    assert ChallengeOptions.for_policy(None).schemes == ("Bearer",)


def test_every_challenge_carries_resource_metadata():
    options = ChallengeOptions.for_policy(DPoPPolicy(), resource_metadata=META)
    value = www_authenticate_challenges(MalformedToken(), options, presented="Bearer")
    assert value == (
        f'Bearer realm="api", error="invalid_token", resource_metadata="{META}", '
        f'DPoP realm="api", {ALGS}, resource_metadata="{META}"'
    )


def test_a_token_error_goes_on_the_scheme_the_client_used():
    options = ChallengeOptions.for_policy(DPoPPolicy())
    value = www_authenticate_challenges(MalformedToken(), options, presented="dpop")
    assert value == f'Bearer realm="api", DPoP realm="api", error="invalid_token", {ALGS}'


def test_insufficient_scope_names_the_scope_on_the_used_scheme_with_403():
    options = ChallengeOptions.for_policy(DPoPPolicy())
    response = challenge_response(InsufficientScope(("orders:write",)), options, presented="DPoP")
    assert response.status == 403
    assert response.headers["WWW-Authenticate"] == (
        f'Bearer realm="api", DPoP realm="api", error="insufficient_scope", '
        f'scope="orders:write", {ALGS}'
    )


def test_a_proof_error_goes_on_bearer_when_dpop_is_not_accepted():
    error = InvalidDPoPProof(reason="dpop_bad_signature")
    value = www_authenticate_challenges(error, ChallengeOptions())
    assert value == 'Bearer realm="api", error="invalid_dpop_proof"'


def test_parameters_are_quoted_safely():
    options = ChallengeOptions(realm='my "api"\\\r\n', resource_metadata="https://a.example/x")
    value = www_authenticate_challenges(None, options)
    assert value == 'Bearer realm="my \\"api\\"\\\\", resource_metadata="https://a.example/x"'


@pytest.mark.parametrize("schemes", [(), ("Basic",), ("Bearer", "Bearer")])
def test_bad_scheme_lists_are_refused(schemes):
    with pytest.raises(ConfigurationError) as info:
        ChallengeOptions(schemes=schemes)
    assert info.value.setting == "schemes"
