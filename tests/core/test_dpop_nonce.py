"""Server nonces for DPoP proofs (RFC 9449 section 9): stateless, rotating, shared by secret."""

from __future__ import annotations

import pytest

from jwt_guard_core import ConfigurationError
from jwt_guard_core.challenges import ChallengeOptions, challenge_response
from jwt_guard_core.dpop import DPoPNonceSource, DPoPPolicy, NonceProvider, UseDPoPNonce
from jwt_guard_core.encoding import b64url_encode
from tests.core.dpop_support import Client, dpop_request, issue_token, refused

SECRET = b"n" * 32
OTHER_SECRET = b"o" * 32


@pytest.fixture
def nonces(clock) -> NonceProvider:
    return NonceProvider([SECRET], lifetime=300, clock=clock)


@pytest.fixture
def policy(clock, nonces) -> DPoPPolicy:
    return DPoPPolicy(nonces=nonces, clock=clock)


@pytest.fixture
def client(keyring) -> Client:
    return Client(keyring.ed25519, "EdDSA")


@pytest.fixture
def bound(keyring, make_verifier, client):
    return issue_token(keyring, make_verifier(), cnf={"jkt": client.jkt})


def nonce_refused(policy, proof, token, raw, reason: str, expected_nonce: str) -> None:
    error = refused(
        lambda: policy.check(dpop_request(proof), token, raw),
        UseDPoPNonce,
        reason,
        error="use_dpop_nonce",
    )
    assert isinstance(error, UseDPoPNonce)
    assert error.nonce == expected_nonce
    response = challenge_response(error, ChallengeOptions.for_policy(policy), presented="DPoP")
    assert response.status == 401
    assert response.headers["DPoP-Nonce"] == expected_nonce
    assert response.headers["WWW-Authenticate"] == (
        'Bearer realm="api", DPoP realm="api", error="use_dpop_nonce", '
        'algs="ES256 ES384 EdDSA Ed25519 PS256 RS256"'
    )
    assert response.body["error"] == "use_dpop_nonce"


def test_a_proof_without_a_nonce_gets_the_current_one(bound, client, policy, nonces):
    raw, token = bound
    nonce_refused(policy, client.proof(raw), token, raw, "dpop_nonce_missing", nonces.current())


def test_a_proof_with_the_current_nonce_is_accepted_and_the_result_names_the_next(
    bound, client, policy, nonces
):
    raw, token = bound
    result = policy.check(dpop_request(client.proof(raw, nonce=nonces.current())), token, raw)
    assert result.bound
    assert result.nonce == nonces.current()


def test_a_nonce_stays_valid_through_the_next_step_then_expires(
    bound, client, policy, nonces, clock
):
    raw, token = bound
    old = nonces.current()
    clock.advance(300)
    assert nonces.current() != old
    assert policy.check(dpop_request(client.proof(raw, nonce=old, iat=clock())), token, raw).bound
    clock.advance(300)
    proof = client.proof(raw, nonce=old, iat=clock())
    nonce_refused(policy, proof, token, raw, "dpop_nonce_invalid", nonces.current())


@pytest.mark.parametrize(
    "nonce",
    [
        "",
        "not base64!",
        b64url_encode(b"\x00" * 24),
        b64url_encode(b"\x00" * 23),
        5,
        ["x"],
    ],
)
def test_forged_malformed_or_non_string_nonces_are_refused(bound, client, policy, nonces, nonce):
    raw, token = bound
    proof = client.proof(raw, nonce=nonce)
    nonce_refused(policy, proof, token, raw, "dpop_nonce_invalid", nonces.current())


def test_a_nonce_from_another_secret_is_refused(bound, client, policy, nonces, clock):
    raw, token = bound
    foreign = NonceProvider([OTHER_SECRET], clock=clock).current()
    proof = client.proof(raw, nonce=foreign)
    nonce_refused(policy, proof, token, raw, "dpop_nonce_invalid", nonces.current())


def test_a_rotated_secret_still_verifies_while_listed(clock):
    old = NonceProvider([OTHER_SECRET], clock=clock).current()
    rotated = NonceProvider([SECRET, OTHER_SECRET], clock=clock)
    assert rotated.is_valid(old)
    assert rotated.current() == NonceProvider([SECRET], clock=clock).current()
    assert not NonceProvider([SECRET], clock=clock).is_valid(old)


def test_processes_sharing_a_secret_accept_each_others_nonces(clock):
    assert NonceProvider([SECRET], clock=clock).is_valid(
        NonceProvider([SECRET], clock=clock).current()
    )


def test_without_secrets_each_provider_has_its_own(clock):
    a, b = NonceProvider(clock=clock), NonceProvider(clock=clock)
    assert a.is_valid(a.current())
    assert not b.is_valid(a.current())
    assert isinstance(a, DPoPNonceSource)


@pytest.mark.parametrize(
    ("options", "setting"),
    [
        ({"secrets": []}, "dpop_nonce_secrets"),
        ({"secrets": [b"short"]}, "dpop_nonce_secrets"),
        ({"secrets": ["x" * 40]}, "dpop_nonce_secrets"),
        ({"lifetime": 0}, "dpop_nonce_lifetime"),
        ({"lifetime": 1.5}, "dpop_nonce_lifetime"),
    ],
)
def test_bad_nonce_settings_name_the_setting(options, setting):
    with pytest.raises(ConfigurationError) as info:
        NonceProvider(**options)
    assert info.value.setting == setting
