"""Several issuers, each with its own RemoteJWKS on its own server."""

from __future__ import annotations

import pytest

from jwt_guard_core import BadAudience, BadIssuer, GuardConfig, IssuerPolicy, UnknownKid, Verifier
from tests.core.remote_servers import public_jwk
from tests.factories import claims, sign

pytest_plugins = ["tests.core.remote_fixtures"]

ISS_A = "https://idp-a.example"
ISS_B = "https://idp-b.example/tenant"


@pytest.fixture
def verifier(jwks_server, other_server, make_jwks, keyring, clock):
    jwks_server.serve_keys(public_jwk(keyring.rsa, "a1"))
    other_server.serve_keys(public_jwk(keyring.p256, "b1"))
    return Verifier(
        GuardConfig(
            issuers={
                ISS_A: IssuerPolicy(
                    keys=make_jwks(jwks_server.url()), audience="api-a", algorithms=["RS256"]
                ),
                ISS_B: IssuerPolicy(
                    keys=make_jwks(other_server.url()), audience="api-b", algorithms=["ES256"]
                ),
            },
            clock=clock,
        )
    )


def test_each_issuer_verifies_with_the_keys_of_its_own_server(
    verifier, keyring, jwks_server, other_server
):
    a = sign({"alg": "RS256", "kid": "a1"}, claims(iss=ISS_A, aud="api-a"), keyring.rsa)
    b = sign({"alg": "ES256", "kid": "b1"}, claims(iss=ISS_B, aud="api-b"), keyring.p256)
    assert verifier.verify(a).issuer == ISS_A
    assert verifier.verify(b).issuer == ISS_B
    assert (jwks_server.count(), other_server.count()) == (1, 1)


async def test_each_issuer_verifies_with_the_keys_of_its_own_server_async(
    verifier, keyring, jwks_server, other_server
):
    a = sign({"alg": "RS256", "kid": "a1"}, claims(iss=ISS_A, aud="api-a"), keyring.rsa)
    b = sign({"alg": "ES256", "kid": "b1"}, claims(iss=ISS_B, aud="api-b"), keyring.p256)
    assert (await verifier.averify(a)).issuer == ISS_A
    assert (await verifier.averify(b)).issuer == ISS_B
    for policy in verifier.config.policies.values():
        await policy.keys.aclose()
    assert (jwks_server.count(), other_server.count()) == (1, 1)


def test_an_unknown_issuer_is_bad_issuer_with_no_request_to_any_server(
    verifier, keyring, jwks_server, other_server
):
    for iss in ("https://evil.example", ISS_A + "/", ISS_B.upper(), "idp-a.example"):
        token = sign({"alg": "RS256", "kid": "a1"}, claims(iss=iss, aud="api-a"), keyring.rsa)
        with pytest.raises(BadIssuer) as info:
            verifier.verify(token)
        assert info.value.reason == "bad_issuer"
        assert info.value.status == 401
    assert (jwks_server.count(), other_server.count()) == (0, 0)


async def test_an_unknown_issuer_makes_no_request_async(
    verifier, keyring, jwks_server, other_server
):
    token = sign({"alg": "RS256", "kid": "a1"}, claims(iss="https://x.example"), keyring.rsa)
    with pytest.raises(BadIssuer):
        await verifier.averify(token)
    assert (jwks_server.count(), other_server.count()) == (0, 0)


def test_a_kid_of_one_issuer_is_unknown_to_the_other(verifier, keyring, jwks_server, other_server):
    # Signed with A's key and kid but claiming to be from B: B's set is asked, A's never.
    token = sign({"alg": "ES256", "kid": "a1"}, claims(iss=ISS_B, aud="api-b"), keyring.p256)
    with pytest.raises(UnknownKid):
        verifier.verify(token)
    assert (jwks_server.count(), other_server.count()) == (0, 1)


def test_each_issuer_has_its_own_audience(verifier, keyring):
    token = sign({"alg": "RS256", "kid": "a1"}, claims(iss=ISS_A, aud="api-b"), keyring.rsa)
    with pytest.raises(BadAudience):
        verifier.verify(token)
