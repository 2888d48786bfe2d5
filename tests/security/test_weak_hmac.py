"""Blank and weak HMAC secrets are refused when the key set is built.

RFC 7518 section 3.2: an HMAC key must be at least as long as the hash
output. Secrets like "secret" or an empty environment variable are
brute-forced offline from one captured token (hashcat mode 16500), so they
are a ``ConfigurationError`` at start-up, never a per-request surprise.
Blank (whitespace-only) and one-byte-repeated secrets, the shape of unset
templating and zeroed buffers, are refused whatever their length.
"""

from __future__ import annotations

import logging
import secrets

import pytest

from jwt_guard_core import (
    AlgorithmNotAllowed,
    BadSignature,
    ConfigurationError,
    GuardConfig,
    StaticKeySet,
    Verifier,
)
from jwt_guard_core.encoding import b64url_encode
from tests.factories import AUDIENCE, ISSUER, claims, sign

STRONG = secrets.token_bytes(64)


def _hmac_verifier(keys: StaticKeySet, algorithms: list[str], clock) -> Verifier:
    return Verifier(
        GuardConfig(algorithms=algorithms, keys=keys, issuer=ISSUER, audience=AUDIENCE, clock=clock)
    )


@pytest.mark.parametrize(
    "secret",
    [
        "",
        b"",
        " " * 64,
        "\t\r\n " * 16,
        b"\x00" * 64,
        "a" * 64,
        b"\xff" * 64,
    ],
    ids=["empty-str", "empty-bytes", "spaces", "whitespace-mix", "zero-bytes", "repeated-a", "ff"],
)
@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
def test_blank_or_trivial_secret_is_refused_at_config_time(secret, alg):
    with pytest.raises(ConfigurationError) as info:
        StaticKeySet.from_secret(secret, algorithm=alg)
    assert info.value.setting == "keys"


@pytest.mark.parametrize(
    "secret",
    ["secret", "password", "changeme", "your-256-bit-secret", "s3cr3t!" * 4, "x" * 3 + "y" * 28],
)
def test_common_short_secrets_are_refused_for_hs256(secret):
    assert len(secret.encode()) < 32
    with pytest.raises(ConfigurationError, match="shorter than HS256 requires"):
        StaticKeySet.from_secret(secret, algorithm="HS256")


@pytest.mark.parametrize(("alg", "minimum"), [("HS256", 32), ("HS384", 48), ("HS512", 64)])
def test_secret_one_byte_shorter_than_the_hash_is_refused(alg, minimum):
    with pytest.raises(ConfigurationError) as info:
        StaticKeySet.from_secret(secrets.token_bytes(minimum - 1), algorithm=alg)
    assert f"{minimum - 1} bytes" in str(info.value)
    assert StaticKeySet.from_secret(secrets.token_bytes(minimum), algorithm=alg)


def test_configuration_error_never_contains_the_secret():
    secret = "correct horse battery"
    with pytest.raises(ConfigurationError) as info:
        StaticKeySet.from_secret(secret)
    assert secret not in str(info.value)
    assert secret not in repr(info.value)


@pytest.mark.parametrize(
    "k",
    ["", b64url_encode(b" " * 64), b64url_encode(b"short")],
    ids=["empty", "blank", "short"],
)
def test_weak_oct_jwk_is_refused_at_config_time(k):
    # One-byte-repeated k is generated material in test suites (Wycheproof),
    # so only configuration text gets that check; see keys._check_secret.
    with pytest.raises(ConfigurationError) as info:
        StaticKeySet.from_jwks({"keys": [{"kty": "oct", "kid": "hs-1", "k": k}]})
    assert info.value.setting == "keys"
    assert "hs-1" in str(info.value)


def test_oct_jwk_declaring_an_alg_its_length_cannot_support_is_refused():
    jwk = {"kty": "oct", "kid": "hs-1", "alg": "HS512", "k": b64url_encode(secrets.token_bytes(32))}
    with pytest.raises(ConfigurationError, match="shorter than HS512 requires"):
        StaticKeySet.from_jwks({"keys": [jwk]})


def test_strong_secret_verifies_its_tokens(clock, rejects):
    verifier = _hmac_verifier(StaticKeySet.from_secret(STRONG, kid="hs-1"), ["HS256"], clock)
    token = sign({"alg": "HS256", "kid": "hs-1"}, claims(), STRONG)
    assert rejects.accepts(verifier, token).kid == "hs-1"


@pytest.mark.parametrize("guess", [b"", b"secret", b"your-256-bit-secret", STRONG[:32]])
def test_token_signed_with_a_guessed_secret_is_rejected_with_bad_signature(clock, rejects, guess):
    verifier = _hmac_verifier(StaticKeySet.from_secret(STRONG, kid="hs-1"), ["HS256"], clock)
    token = sign({"alg": "HS256", "kid": "hs-1"}, claims(sub="admin"), guess)
    rejects(
        verifier,
        token,
        BadSignature,
        "bad_signature",
        level=logging.WARNING,
        alg="HS256",
        kid="hs-1",
        material=[STRONG],
    )


def test_secret_too_short_for_hs512_cannot_verify_hs512_tokens(clock, rejects):
    # A 48-byte oct JWK without "alg" may verify HS256 and HS384, not HS512:
    # the allowlist cannot stretch a key beyond what its length supports.
    secret = secrets.token_bytes(48)
    keys = StaticKeySet.from_jwks(
        {"keys": [{"kty": "oct", "kid": "hs-1", "k": b64url_encode(secret)}]}
    )
    verifier = _hmac_verifier(keys, ["HS384", "HS512"], clock)
    assert rejects.accepts(verifier, sign({"alg": "HS384", "kid": "hs-1"}, claims(), secret))
    token = sign({"alg": "HS512", "kid": "hs-1"}, claims(), secret)
    rejects(verifier, token, AlgorithmNotAllowed, "alg_not_allowed", material=[secret])


def test_hmac_key_bound_to_hs256_cannot_verify_hs384(clock, rejects):
    keys = StaticKeySet.from_secret(STRONG, algorithm="HS256", kid="hs-1")
    verifier = _hmac_verifier(keys, ["HS256", "HS384"], clock)
    token = sign({"alg": "HS384", "kid": "hs-1"}, claims(), STRONG)
    rejects(verifier, token, AlgorithmNotAllowed, "alg_not_allowed", level=logging.WARNING)
