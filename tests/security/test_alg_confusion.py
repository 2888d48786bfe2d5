"""Algorithm confusion: HS256 signed with the verifier's own public key.

RFC 8725 section 2.1: a verifier that picks the algorithm from the token and
the key from its configuration will check an "HS256" token with the RSA or
EC public key bytes as the HMAC secret, and anyone can mint that token since
the public key is public. jwt-guard binds every key to its algorithms when
the set is built, never lets HMAC into an allowlist without an HMAC key
source, refuses sets that mix the two, and refuses a public key in any
encoding as an HMAC secret.
"""

from __future__ import annotations

import json
import logging
import secrets

import pytest
import trustme
from cryptography.hazmat.primitives import serialization

from jwt_guard_core import (
    AlgorithmNotAllowed,
    BadSignature,
    ConfigurationError,
    GuardConfig,
    IssuerPolicy,
    StaticKeySet,
    Verifier,
)
from jwt_guard_core.encoding import b64url_encode
from jwt_guard_core.keys import key_from_pem, key_from_secret
from tests.factories import AUDIENCE, ISSUER, claims, public_pem, sign

Enc = serialization.Encoding
Fmt = serialization.PublicFormat


def _jwk_json(public_key, kid: str) -> bytes:
    jwk = dict(key_from_pem(public_pem_of(public_key), kid=kid).public_jwk or {})
    return json.dumps(jwk).encode()


def public_pem_of(public_key) -> bytes:
    return public_key.public_bytes(Enc.PEM, Fmt.SubjectPublicKeyInfo)


def rsa_encodings(keyring) -> dict[str, bytes]:
    pub = keyring.rsa.public_key()
    spki = pub.public_bytes(Enc.PEM, Fmt.SubjectPublicKeyInfo)
    return {
        "spki-pem": spki,
        "spki-pem-no-newline": spki.rstrip(b"\n"),
        "pkcs1-pem": pub.public_bytes(Enc.PEM, Fmt.PKCS1),
        "openssh": pub.public_bytes(Enc.OpenSSH, Fmt.OpenSSH),
        "jwk-json": _jwk_json(pub, "rsa-1"),
        "spki-der": pub.public_bytes(Enc.DER, Fmt.SubjectPublicKeyInfo),
        "pkcs1-der": pub.public_bytes(Enc.DER, Fmt.PKCS1),
    }


def ec_encodings(keyring) -> dict[str, bytes]:
    pub = keyring.p256.public_key()
    spki = pub.public_bytes(Enc.PEM, Fmt.SubjectPublicKeyInfo)
    return {
        "spki-pem": spki,
        "spki-pem-no-newline": spki.rstrip(b"\n"),
        "openssh": pub.public_bytes(Enc.OpenSSH, Fmt.OpenSSH),
        "jwk-json": _jwk_json(pub, "ec-1"),
        "spki-der": pub.public_bytes(Enc.DER, Fmt.SubjectPublicKeyInfo),
    }


RSA_FORMS = ["spki-pem", "spki-pem-no-newline", "pkcs1-pem", "openssh", "jwk-json", "spki-der"]
RSA_FORMS += ["pkcs1-der"]
EC_FORMS = ["spki-pem", "spki-pem-no-newline", "openssh", "jwk-json", "spki-der"]
HMAC_ALGS = ["HS256", "HS384", "HS512"]


@pytest.fixture
def ec_keys(keyring) -> StaticKeySet:
    return StaticKeySet.from_pem(public_pem(keyring.p256), kid="ec-1")


@pytest.fixture
def mixed_public_verifier(keyring, clock) -> Verifier:
    """RS256 and ES256 allowed, an RSA and an EC key: a typical IdP set-up."""
    keys = StaticKeySet.from_pem(
        {"rsa-1": public_pem(keyring.rsa), "ec-1": public_pem(keyring.p256)}
    )
    return Verifier(
        GuardConfig(
            algorithms=["RS256", "ES256"],
            keys=keys,
            issuer=ISSUER,
            audience=AUDIENCE,
            clock=clock,
        )
    )


def test_legitimate_tokens_for_both_keys_are_accepted(mixed_public_verifier, keyring, rejects):
    rs = sign({"alg": "RS256", "kid": "rsa-1"}, claims(), keyring.rsa)
    es = sign({"alg": "ES256", "kid": "ec-1"}, claims(), keyring.p256)
    assert rejects.accepts(mixed_public_verifier, rs).kid == "rsa-1"
    assert rejects.accepts(mixed_public_verifier, es).kid == "ec-1"


@pytest.mark.parametrize("alg", HMAC_ALGS)
@pytest.mark.parametrize("form", RSA_FORMS)
def test_hmac_signed_with_the_rsa_public_key_is_rejected_with_alg_not_allowed(
    make_verifier, keyring, rejects, form, alg
):
    secret = rsa_encodings(keyring)[form]
    token = sign({"alg": alg, "kid": "rsa-1"}, claims(sub="admin"), secret)
    result = rejects(
        make_verifier(),
        token,
        AlgorithmNotAllowed,
        "alg_not_allowed",
        level=logging.WARNING,
        alg=alg,
        kid="rsa-1",
        material=[secret],
    )
    assert "HMAC against a public-key configuration" in result.error.detail


@pytest.mark.parametrize("form", EC_FORMS)
def test_hs256_signed_with_the_ec_public_key_is_rejected_with_alg_not_allowed(
    keyring, ec_keys, clock, rejects, form
):
    verifier = Verifier(
        GuardConfig(
            algorithms=["ES256"], keys=ec_keys, issuer=ISSUER, audience=AUDIENCE, clock=clock
        )
    )
    secret = ec_encodings(keyring)[form]
    token = sign({"alg": "HS256", "kid": "ec-1"}, claims(sub="admin"), secret)
    rejects(
        verifier,
        token,
        AlgorithmNotAllowed,
        "alg_not_allowed",
        level=logging.WARNING,
        alg="HS256",
        kid="ec-1",
        material=[secret],
    )


@pytest.mark.parametrize("kid", ["rsa-1", "ec-1", None])
@pytest.mark.parametrize("form", RSA_FORMS)
def test_hs256_with_public_key_is_rejected_by_a_multi_key_public_set(
    mixed_public_verifier, keyring, rejects, form, kid
):
    secret = rsa_encodings(keyring)[form]
    header = {"alg": "HS256"} if kid is None else {"alg": "HS256", "kid": kid}
    token = sign(header, claims(sub="admin"), secret)
    rejects(
        mixed_public_verifier,
        token,
        AlgorithmNotAllowed,
        "alg_not_allowed",
        level=logging.WARNING,
        alg="HS256",
        material=[secret],
    )


def test_config_allowing_hs256_with_only_public_keys_cannot_be_built(rsa_keys):
    with pytest.raises(ConfigurationError) as info:
        GuardConfig(algorithms=["HS256", "RS256"], keys=rsa_keys, issuer=ISSUER, audience=AUDIENCE)
    assert info.value.setting == "algorithms"
    assert "algorithm-confusion" in str(info.value)


def test_key_set_mixing_an_hmac_secret_with_an_rsa_key_cannot_be_built(keyring):
    rsa_key = key_from_pem(public_pem(keyring.rsa), kid="rsa-1")
    hmac_key = key_from_secret(secrets.token_bytes(32), kid="hs-1")
    with pytest.raises(ConfigurationError) as info:
        StaticKeySet([rsa_key, hmac_key])
    assert info.value.setting == "keys"
    assert "mixes HMAC secrets with asymmetric keys" in str(info.value)


def test_jwks_mixing_an_oct_key_with_an_rsa_key_cannot_be_built(keyring):
    rsa_jwk = dict(key_from_pem(public_pem(keyring.rsa), kid="rsa-1").public_jwk or {})
    oct_jwk = {"kty": "oct", "kid": "hs-1", "k": b64url_encode(secrets.token_bytes(32))}
    with pytest.raises(ConfigurationError) as info:
        StaticKeySet.from_jwks({"keys": [rsa_jwk, oct_jwk]})
    assert "mixes HMAC secrets with asymmetric keys" in str(info.value)


@pytest.mark.parametrize("form", RSA_FORMS)
def test_rsa_public_key_in_any_encoding_is_refused_as_an_hmac_secret(keyring, form):
    # The server-side half of the attack: an operator pasting the IdP's
    # public key as "the secret" would let anyone forge HS256 tokens.
    material = rsa_encodings(keyring)[form]
    with pytest.raises(ConfigurationError) as info:
        StaticKeySet.from_secret(material, algorithm="HS256")
    assert "asymmetric key" in str(info.value)
    assert material.decode("latin-1")[:24] not in str(info.value)


@pytest.mark.parametrize("form", EC_FORMS)
def test_ec_public_key_in_any_encoding_is_refused_as_an_hmac_secret(keyring, form):
    with pytest.raises(ConfigurationError, match="asymmetric key"):
        StaticKeySet.from_secret(ec_encodings(keyring)[form], algorithm="HS256")


@pytest.mark.parametrize("form", ["spki-pem", "openssh", "jwk-json", "spki-der"])
def test_public_key_is_refused_as_the_k_of_an_oct_jwk(keyring, form):
    material = rsa_encodings(keyring)[form]
    jwks = {"keys": [{"kty": "oct", "kid": "hs-1", "k": b64url_encode(material)}]}
    with pytest.raises(ConfigurationError, match="asymmetric key"):
        StaticKeySet.from_jwks(jwks)


def test_public_key_given_as_str_secret_is_refused(keyring):
    with pytest.raises(ConfigurationError, match="asymmetric key"):
        StaticKeySet.from_secret(public_pem(keyring.rsa).decode())


def test_certificate_pem_is_refused_as_an_hmac_secret():
    cert = trustme.CA().cert_pem.bytes()
    with pytest.raises(ConfigurationError, match="asymmetric key"):
        StaticKeySet.from_secret(cert)


@pytest.fixture
def two_issuer_verifier(keyring, clock) -> tuple[Verifier, bytes]:
    """Issuer A signs with an HMAC secret, issuer B with RSA: allowed, each on its own."""
    secret = secrets.token_bytes(32)
    verifier = Verifier(
        GuardConfig(
            issuers={
                "https://a.example": IssuerPolicy(
                    keys=StaticKeySet.from_secret(secret, kid="hs-1"), algorithms=["HS256"]
                ),
                "https://b.example": IssuerPolicy(
                    keys=StaticKeySet.from_pem(public_pem(keyring.rsa), kid="rsa-1"),
                    algorithms=["RS256"],
                ),
            },
            audience=AUDIENCE,
            clock=clock,
        )
    )
    return verifier, secret


def test_two_issuer_config_accepts_each_issuers_own_tokens(two_issuer_verifier, keyring, rejects):
    verifier, secret = two_issuer_verifier
    a = sign({"alg": "HS256", "kid": "hs-1"}, claims(iss="https://a.example"), secret)
    b = sign({"alg": "RS256", "kid": "rsa-1"}, claims(iss="https://b.example"), keyring.rsa)
    assert rejects.accepts(verifier, a).issuer == "https://a.example"
    assert rejects.accepts(verifier, b).issuer == "https://b.example"


@pytest.mark.parametrize("form", RSA_FORMS)
def test_hs256_for_the_rsa_issuer_is_rejected_even_when_another_issuer_allows_hmac(
    two_issuer_verifier, keyring, rejects, form
):
    verifier, _ = two_issuer_verifier
    secret = rsa_encodings(keyring)[form]
    token = sign({"alg": "HS256", "kid": "rsa-1"}, claims(iss="https://b.example"), secret)
    rejects(
        verifier, token, AlgorithmNotAllowed, "alg_not_allowed", level=logging.WARNING, alg="HS256"
    )


@pytest.mark.parametrize("form", RSA_FORMS)
def test_hs256_with_the_rsa_public_key_claiming_the_hmac_issuer_is_a_bad_signature(
    two_issuer_verifier, keyring, rejects, form
):
    verifier, _ = two_issuer_verifier
    secret = rsa_encodings(keyring)[form]
    token = sign({"alg": "HS256", "kid": "hs-1"}, claims(iss="https://a.example"), secret)
    rejects(verifier, token, BadSignature, "bad_signature", level=logging.WARNING)


@pytest.mark.parametrize(
    ("alg", "kid", "signer"),
    [
        ("ES256", "rsa-1", "p256"),  # EC signature presented against the RSA key
        ("RS256", "ec-1", "rsa"),  # RSA signature presented against the EC key
    ],
)
def test_token_naming_a_key_of_another_family_is_rejected_with_alg_not_allowed(
    mixed_public_verifier, keyring, rejects, alg, kid, signer
):
    token = sign({"alg": alg, "kid": kid}, claims(), getattr(keyring, signer))
    rejects(
        mixed_public_verifier,
        token,
        AlgorithmNotAllowed,
        "alg_not_allowed",
        level=logging.WARNING,
        alg=alg,
        kid=kid,
    )


def test_jwk_alg_binds_the_key_so_ps256_cannot_use_an_rs256_key(keyring, clock, rejects):
    jwk = dict(key_from_pem(public_pem(keyring.rsa), kid="rsa-1").public_jwk or {})
    jwk["alg"] = "RS256"
    verifier = Verifier(
        GuardConfig(
            algorithms=["RS256", "PS256"],
            keys=StaticKeySet.from_jwks({"keys": [jwk]}),
            issuer=ISSUER,
            audience=AUDIENCE,
            clock=clock,
        )
    )
    assert rejects.accepts(verifier, sign({"alg": "RS256", "kid": "rsa-1"}, claims(), keyring.rsa))
    token = sign({"alg": "PS256", "kid": "rsa-1"}, claims(), keyring.rsa)
    rejects(verifier, token, AlgorithmNotAllowed, "alg_not_allowed", alg="PS256", kid="rsa-1")


def test_es384_token_cannot_use_a_p256_key(keyring, clock, rejects):
    keys = StaticKeySet.from_pem(
        {"ec-256": public_pem(keyring.p256), "ec-384": public_pem(keyring.p384)}
    )
    verifier = Verifier(
        GuardConfig(
            algorithms=["ES256", "ES384"], keys=keys, issuer=ISSUER, audience=AUDIENCE, clock=clock
        )
    )
    token = sign({"alg": "ES384", "kid": "ec-256"}, claims(), keyring.p384)
    rejects(verifier, token, AlgorithmNotAllowed, "alg_not_allowed", alg="ES384", kid="ec-256")
