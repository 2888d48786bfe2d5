"""Every supported algorithm verifies real signatures and refuses altered ones.

Tokens are signed by PyJWT where it supports the algorithm (an independent
implementation, so a shared mistake in our signer and verifier cannot hide),
and by the test factory for RFC 9864's ``Ed25519``, which PyJWT does not know.
"""

from __future__ import annotations

import json
from typing import Any

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from jwt_guard_core import GuardConfig, StaticKeySet, TokenError, Verifier
from jwt_guard_core.encoding import b64url_decode, b64url_encode
from tests.factories import (
    ALGORITHM_CASE_IDS,
    ALGORITHM_CASES,
    AUDIENCE,
    ISSUER,
    KeyRing,
    claims,
    public_pem,
    sign,
)

CASES = ALGORITHM_CASES
IDS = ALGORITHM_CASE_IDS


@pytest.fixture(scope="module")
def other_keyring() -> KeyRing:
    """Different keys of every type, with a different HMAC secret."""
    return KeyRing(secret=b"fedcba9876543210" * 4)


def key_set(keyring: KeyRing, alg: str, attr: str) -> StaticKeySet:
    if attr == "secret":
        return StaticKeySet.from_secret(keyring.secret, algorithm=alg, kid="k1")
    return StaticKeySet.from_pem(public_pem(getattr(keyring, attr)), kid="k1")


def verifier_for(keyring: KeyRing, clock: Any, alg: str, attr: str, **extra: Any) -> Verifier:
    options: dict[str, Any] = {
        "algorithms": [alg],
        "keys": key_set(keyring, alg, attr),
        "issuer": ISSUER,
        "audience": AUDIENCE,
        "clock": clock,
    }
    options.update(extra)
    return Verifier(GuardConfig(**options))


def token_for(keyring: KeyRing, alg: str, attr: str, **overrides: Any) -> str:
    key = getattr(keyring, attr)
    payload = claims(**overrides)
    if alg == "Ed25519":
        return sign({"alg": alg, "kid": "k1", "typ": "JWT"}, payload, key)
    return pyjwt.encode(payload, key, algorithm=alg, headers={"kid": "k1"})


def replace_signature(token: str, signature: bytes) -> str:
    head, body, _ = token.split(".")
    return f"{head}.{body}.{b64url_encode(signature)}"


def reason_of(verifier: Verifier, token: str) -> str:
    with pytest.raises(TokenError) as info:
        verifier.verify(token)
    return info.value.reason


@pytest.mark.parametrize(("alg", "attr"), CASES, ids=IDS)
def test_token_signed_with_each_algorithm_verifies(keyring, clock, alg, attr):
    verifier = verifier_for(keyring, clock, alg, attr)
    result = verifier.verify(token_for(keyring, alg, attr))
    assert result.algorithm == alg
    assert result.kid == "k1"
    assert dict(result.claims) == claims()
    assert result.header["alg"] == alg


@pytest.mark.parametrize(("alg", "attr"), CASES, ids=IDS)
def test_flipped_signature_bit_is_rejected_with_bad_signature(keyring, clock, alg, attr):
    verifier = verifier_for(keyring, clock, alg, attr)
    token = token_for(keyring, alg, attr)
    signature = bytearray(b64url_decode(token.rsplit(".", 1)[1]))
    for index in (0, len(signature) // 2, len(signature) - 1):
        altered = bytearray(signature)
        altered[index] ^= 0x01
        assert reason_of(verifier, replace_signature(token, bytes(altered))) == "bad_signature"


@pytest.mark.parametrize(("alg", "attr"), CASES, ids=IDS)
def test_altered_payload_is_rejected_with_bad_signature(keyring, clock, alg, attr):
    verifier = verifier_for(keyring, clock, alg, attr)
    head, _, sig = token_for(keyring, alg, attr).split(".")
    forged_body = b64url_encode(json.dumps(claims(sub="admin")).encode())
    assert reason_of(verifier, f"{head}.{forged_body}.{sig}") == "bad_signature"


@pytest.mark.parametrize(("alg", "attr"), CASES, ids=IDS)
def test_signature_by_another_key_of_the_same_type_is_rejected_with_bad_signature(
    keyring, other_keyring, clock, alg, attr
):
    verifier = verifier_for(keyring, clock, alg, attr)
    assert reason_of(verifier, token_for(other_keyring, alg, attr)) == "bad_signature"


@pytest.mark.parametrize(("alg", "attr"), CASES, ids=IDS)
@pytest.mark.parametrize("keep", [0.5, 0.99])
def test_truncated_or_extended_signature_is_rejected_with_bad_signature(
    keyring, clock, alg, attr, keep
):
    verifier = verifier_for(keyring, clock, alg, attr)
    token = token_for(keyring, alg, attr)
    signature = b64url_decode(token.rsplit(".", 1)[1])
    truncated = signature[: int(len(signature) * keep)]
    assert reason_of(verifier, replace_signature(token, truncated)) == "bad_signature"
    assert reason_of(verifier, replace_signature(token, signature + b"\x00")) == "bad_signature"
    assert reason_of(verifier, replace_signature(token, b"\x00")) == "bad_signature"


@pytest.mark.parametrize(("alg", "attr"), CASES, ids=IDS)
def test_stripped_signature_is_rejected_with_malformed(keyring, clock, alg, attr):
    verifier = verifier_for(keyring, clock, alg, attr)
    token = token_for(keyring, alg, attr)
    assert reason_of(verifier, token.rsplit(".", 1)[0] + ".") == "malformed"


@pytest.mark.parametrize(
    ("claimed", "actual"),
    [("RS256", "PS256"), ("PS256", "RS256"), ("RS256", "RS512"), ("PS384", "PS256")],
)
def test_rsa_signature_made_with_another_scheme_or_hash_is_rejected(
    keyring, clock, claimed, actual
):
    verifier = verifier_for(keyring, clock, claimed, "rsa")
    header = {"alg": claimed, "kid": "k1"}
    token = sign(header, claims(), keyring.rsa, alg=actual)
    assert reason_of(verifier, token) == "bad_signature"


@pytest.mark.parametrize(("alg", "attr"), [("ES256", "p256"), ("ES384", "p384"), ("ES512", "p521")])
def test_der_encoded_ecdsa_signature_is_rejected_with_bad_signature(keyring, clock, alg, attr):
    # RFC 7518 section 3.4 requires R || S; DER is what OpenSSL emits by default.
    verifier = verifier_for(keyring, clock, alg, attr)
    token = token_for(keyring, alg, attr)
    raw = b64url_decode(token.rsplit(".", 1)[1])
    half = len(raw) // 2
    der = encode_dss_signature(int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big"))
    assert reason_of(verifier, replace_signature(token, der)) == "bad_signature"


@pytest.mark.parametrize(("alg", "attr"), [("ES256", "p256"), ("ES384", "p384"), ("ES512", "p521")])
def test_psychic_zero_ecdsa_signature_is_rejected_with_bad_signature(keyring, clock, alg, attr):
    verifier = verifier_for(keyring, clock, alg, attr)
    token = token_for(keyring, alg, attr)
    size = len(b64url_decode(token.rsplit(".", 1)[1]))
    assert reason_of(verifier, replace_signature(token, bytes(size))) == "bad_signature"


def test_ed448_key_cannot_verify_the_ed25519_algorithm(keyring, clock):
    # RFC 9864: "Ed25519" pins the curve, so an Ed448 key is never bound to it.
    keys = StaticKeySet.from_pem(public_pem(keyring.ed448), kid="k1")
    verifier = Verifier(
        GuardConfig(
            algorithms=["Ed25519", "EdDSA"],
            keys=keys,
            issuer=ISSUER,
            audience=AUDIENCE,
            clock=clock,
        )
    )
    token = sign({"alg": "Ed25519", "kid": "k1"}, claims(), keyring.ed448)
    assert reason_of(verifier, token) == "alg_not_allowed"
    assert verifier.verify(token_for(keyring, "EdDSA", "ed448")).algorithm == "EdDSA"


def test_ed25519_key_verifies_both_eddsa_and_ed25519(keyring, clock):
    keys = StaticKeySet.from_pem(public_pem(keyring.ed25519), kid="k1")
    verifier = Verifier(
        GuardConfig(
            algorithms=["Ed25519", "EdDSA"],
            keys=keys,
            issuer=ISSUER,
            audience=AUDIENCE,
            clock=clock,
        )
    )
    for alg in ("Ed25519", "EdDSA"):
        assert verifier.verify(token_for(keyring, alg, "ed25519")).algorithm == alg


@pytest.mark.parametrize(
    ("attr", "bound", "other"),
    [("p256", "ES256", "ES384"), ("p384", "ES384", "ES512"), ("p521", "ES512", "ES256")],
)
def test_ec_key_verifies_only_the_algorithm_of_its_curve(keyring, clock, attr, bound, other):
    keys = StaticKeySet.from_pem(public_pem(getattr(keyring, attr)), kid="k1")
    verifier = Verifier(
        GuardConfig(
            algorithms=[bound, other], keys=keys, issuer=ISSUER, audience=AUDIENCE, clock=clock
        )
    )
    token = sign({"alg": other, "kid": "k1"}, claims(), getattr(keyring, attr), alg=bound)
    assert reason_of(verifier, token) == "alg_not_allowed"


@pytest.mark.parametrize(("secret_bytes", "alg"), [(32, "HS256"), (48, "HS384"), (64, "HS512")])
def test_hmac_secret_verifies_only_its_bound_algorithm(clock, secret_bytes, alg):
    secret = bytes(range(1, secret_bytes + 1))
    keys = StaticKeySet.from_secret(secret, algorithm=alg, kid="k1")
    verifier = Verifier(
        GuardConfig(
            algorithms=["HS256", "HS384", "HS512"],
            keys=keys,
            issuer=ISSUER,
            audience=AUDIENCE,
            clock=clock,
        )
    )
    for candidate in ("HS256", "HS384", "HS512"):
        # Signed by the factory: PyJWT warns about a secret shorter than the hash.
        token = sign({"alg": candidate, "kid": "k1"}, claims(), secret)
        if candidate == alg:
            assert verifier.verify(token).algorithm == alg
        else:
            assert reason_of(verifier, token) == "alg_not_allowed"


def test_key_objects_are_the_expected_cryptography_types(keyring):
    expected = {
        "rsa": rsa.RSAPublicKey,
        "p256": ec.EllipticCurvePublicKey,
        "ed25519": ed25519.Ed25519PublicKey,
        "ed448": ed448.Ed448PublicKey,
    }
    for attr, cls in expected.items():
        (key,) = key_set(keyring, "EdDSA", attr).keys
        assert isinstance(key.key, cls)
