"""RemoteJWKS as the key source of a Verifier: verify and averify, unchanged."""

from __future__ import annotations

import pytest

from jwt_guard_core import (
    AlgorithmNotAllowed,
    BadIssuer,
    ConfigurationError,
    GuardConfig,
    KeySource,
    KeySourceUnavailable,
    MalformedToken,
    TokenExpired,
    TokenTooLarge,
    UnknownKid,
    Verifier,
)
from jwt_guard_core.http import error_response
from tests.core.remote_servers import named
from tests.factories import AUDIENCE, ISSUER, NOW, claims, sign

pytest_plugins = ["tests.core.remote_fixtures"]


@pytest.fixture
def remote(jwks_server, make_jwks, jwk_a, jwk_b):
    jwks_server.serve_keys(jwk_a, jwk_b)
    return make_jwks(jwks_server.url())


@pytest.fixture
def verifier(remote, clock):
    return Verifier(
        GuardConfig(
            algorithms=["RS256", "ES256"],
            keys=remote,
            issuer=ISSUER,
            audience=AUDIENCE,
            clock=clock,
        )
    )


def test_remote_jwks_is_a_key_source(remote):
    assert isinstance(remote, KeySource)
    assert remote.allows_hmac is False


def test_tokens_signed_with_remote_keys_verify(verifier, keyring, jwks_server):
    rsa_token = sign({"alg": "RS256", "kid": "a"}, claims(), keyring.rsa)
    ec_token = sign({"alg": "ES256", "kid": "b"}, claims(sub="user-2"), keyring.p256)
    assert verifier.verify(rsa_token).subject == "user-1"
    result = verifier.verify(ec_token)
    assert result.subject == "user-2"
    assert result.kid == "b"
    assert jwks_server.count() == 1


async def test_tokens_signed_with_remote_keys_verify_async(verifier, remote, keyring, jwks_server):
    token = sign({"alg": "RS256", "kid": "a"}, claims(), keyring.rsa)
    results = [await verifier.averify(token) for _ in range(5)]
    await remote.aclose()
    assert {r.subject for r in results} == {"user-1"}
    assert jwks_server.count() == 1


def test_a_token_with_an_unknown_kid_is_rejected_with_unknown_kid(verifier, keyring, seen):
    token = sign({"alg": "RS256", "kid": "gone"}, claims(), keyring.rsa)
    with pytest.raises(UnknownKid) as info:
        verifier.verify(token)
    assert info.value.reason == "unknown_kid"
    assert info.value.status == 401
    response = error_response(info.value)
    assert response.status == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    (rejected,) = named(seen, "token_rejected")
    assert rejected.reason == "unknown_kid"


def test_an_unreachable_key_source_is_a_503_with_retry_after_not_an_invalid_token(
    jwks_server, make_jwks, clock, keyring, seen
):
    jwks_server.serve("down", status=502, content_type="text/plain")
    verifier = Verifier(
        GuardConfig(
            algorithms=["RS256"],
            keys=make_jwks(jwks_server.url()),
            issuer=ISSUER,
            audience=AUDIENCE,
            clock=clock,
        )
    )
    token = sign({"alg": "RS256", "kid": "a"}, claims(), keyring.rsa)
    with pytest.raises(KeySourceUnavailable) as info:
        verifier.verify(token)
    exc = info.value
    assert exc.reason == "key_source_unavailable"
    assert exc.status == 503
    response = error_response(exc)
    assert response.status == 503
    assert response.headers["Retry-After"] == str(exc.retry_after)
    assert "WWW-Authenticate" not in response.headers
    assert named(seen, "token_rejected")[0].reason == "key_source_unavailable"


async def test_an_unreachable_key_source_is_a_503_async(jwks_server, make_jwks, clock, keyring):
    jwks_server.serve("down", status=502, content_type="text/plain")
    remote = make_jwks(jwks_server.url())
    verifier = Verifier(
        GuardConfig(
            algorithms=["RS256"], keys=remote, issuer=ISSUER, audience=AUDIENCE, clock=clock
        )
    )
    token = sign({"alg": "RS256", "kid": "a"}, claims(), keyring.rsa)
    with pytest.raises(KeySourceUnavailable):
        await verifier.averify(token)
    await remote.aclose()


@pytest.mark.parametrize(
    ("make_token", "error", "reason"),
    [
        (
            lambda k: sign({"alg": "RS256", "kid": "x"}, claims(exp=int(NOW) - 3600), k.rsa),
            TokenExpired,
            "token_expired",
        ),
        (
            lambda k: sign({"alg": "PS256", "kid": "x"}, claims(), k.rsa),
            AlgorithmNotAllowed,
            "alg_not_allowed",
        ),
        (
            lambda k: sign({"alg": "HS256", "kid": "x"}, claims(), k.secret),
            AlgorithmNotAllowed,
            "alg_not_allowed",
        ),
        (
            lambda k: sign({"alg": "none", "kid": "x"}, claims(), k.secret, "HS256"),
            AlgorithmNotAllowed,
            "alg_not_allowed",
        ),
        (
            lambda k: sign({"alg": "RS256", "kid": "x"}, claims(iss="https://evil.example"), k.rsa),
            BadIssuer,
            "bad_issuer",
        ),
        (lambda k: "x" * 10_000, TokenTooLarge, "token_too_large"),
        (lambda k: "not.a.jwt", MalformedToken, "malformed"),
    ],
)
def test_cheap_checks_reject_forged_tokens_before_any_network_access(
    jwks_server, make_jwks, clock, keyring, make_token, error, reason
):
    jwks_server.serve_keys()
    verifier = Verifier(
        GuardConfig(
            algorithms=["RS256"],
            keys=make_jwks(jwks_server.url()),
            issuer=ISSUER,
            audience=AUDIENCE,
            clock=clock,
        )
    )
    for _ in range(20):
        with pytest.raises(error) as info:
            verifier.verify(make_token(keyring))
        assert info.value.reason == reason
    assert jwks_server.count() == 0


def test_hmac_can_never_be_allowed_with_a_remote_key_set(jwks_server, make_jwks):
    with pytest.raises(ConfigurationError) as info:
        GuardConfig(
            algorithms=["RS256", "HS256"],
            keys=make_jwks(jwks_server.url()),
            issuer=ISSUER,
            audience=AUDIENCE,
        )
    assert info.value.setting == "algorithms"
    assert jwks_server.count() == 0


def test_a_token_signed_by_a_rotated_in_key_verifies_after_one_refetch(
    jwks_server, make_jwks, clock, keyring, jwk_a
):
    from tests.core.remote_servers import public_jwk

    jwks_server.serve_keys(jwk_a)
    remote = make_jwks(jwks_server.url())
    verifier = Verifier(
        GuardConfig(
            algorithms=["RS256", "EdDSA"],
            keys=remote,
            issuer=ISSUER,
            audience=AUDIENCE,
            clock=clock,
        )
    )
    verifier.verify(sign({"alg": "RS256", "kid": "a"}, claims(), keyring.rsa))
    jwks_server.serve_keys(jwk_a, public_jwk(keyring.ed25519, "new"))
    clock.advance(31)
    token = sign({"alg": "EdDSA", "kid": "new"}, claims(), keyring.ed25519)
    assert verifier.verify(token).kid == "new"
    assert jwks_server.count() == 2


def test_a_kid_used_with_an_algorithm_its_key_does_not_fit_is_alg_not_allowed(
    verifier, keyring, jwks_server
):
    # kid "a" is the RSA key; an ES256 token naming it is algorithm confusion.
    token = sign({"alg": "ES256", "kid": "a"}, claims(), keyring.p256)
    with pytest.raises(AlgorithmNotAllowed) as info:
        verifier.verify(token)
    assert info.value.reason == "alg_not_allowed"
    assert info.value.status == 401
    response = error_response(info.value)
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert jwks_server.count() == 1
