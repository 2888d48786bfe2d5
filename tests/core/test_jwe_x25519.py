"""ECDH-ES with X25519 (RFC 8037 section 3.2): OKP keys decrypt and are encrypted to.

A small-order ephemeral key makes every shared secret all zeros (RFC 7748
section 6.1): ``cryptography`` raises on it, and the verifier answers
``decryption_failed`` like any other cryptographic failure, never another
exception. A small-order *recipient* key is refused when it is configured.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import x25519

from jwt_guard_core import ConfigurationError, GuardConfig, StaticKeySet, TokenError, Verifier
from jwt_guard_core.encoding import b64url_decode, b64url_encode
from jwt_guard_core.jwe import (
    DecryptionFailed,
    DecryptionKey,
    DecryptionKeySet,
    JWEPolicy,
    RecipientKey,
    encrypt_nested,
)
from jwt_guard_core.jwe._primitives import CONTENT_ENCRYPTION, derive_ecdh_key
from jwt_guard_core.signing import FileKeyStore, KeyManager, TokenIssuer
from tests.factories import AUDIENCE, ISSUER, FakeClock, KeyRing, claims, public_pem, sign

ECDH = ["ECDH-ES", "ECDH-ES+A128KW", "ECDH-ES+A192KW", "ECDH-ES+A256KW"]
P = 2**255 - 19
# Points of order 1, 2, 4 and 8 and their non-canonical encodings (RFC 7748
# section 5 masks the top bit, so 2**255 + u is u).
SMALL_ORDER = [
    0,
    1,
    325606250916557431795983626356110631294008115727848805560023387167927233504,
    39382357235489614581723060781553021112529911719440698176882885853963445705823,
    P - 1,
    P,
    P + 1,
    2**255,
    2**255 + 1,
]

# RFC 7748 section 6.1 (the keys RFC 8037 appendix A.6 uses for ECDH-ES).
ALICE_PRIVATE = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"
ALICE_PUBLIC = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
BOB_PRIVATE = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"
BOB_PUBLIC = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"
SHARED = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"


def _b64(hex_text: str) -> str:
    return b64url_encode(bytes.fromhex(hex_text))


@pytest.fixture(scope="module")
def x_key() -> x25519.X25519PrivateKey:
    return x25519.X25519PrivateKey.generate()


@pytest.fixture
def keys(x_key: x25519.X25519PrivateKey) -> DecryptionKeySet:
    return DecryptionKeySet([DecryptionKey.from_key(x_key, kid="enc-x25519")])


@pytest.fixture
def verifier(keys: DecryptionKeySet, keyring: KeyRing, clock: FakeClock) -> Verifier:
    return Verifier(
        GuardConfig(
            algorithms=["ES256"],
            keys=StaticKeySet.from_pem(public_pem(keyring.p256), kid="sig-1"),
            issuer=ISSUER,
            audience=AUDIENCE,
            clock=clock,
            token_cache_size=0,
            jwe=JWEPolicy(keys=keys, algorithms=ECDH, encryption=list(CONTENT_ENCRYPTION)),
        )
    )


def _jws(keyring: KeyRing) -> str:
    return sign({"alg": "ES256", "kid": "sig-1"}, claims(), keyring.p256)


def _public(keys: DecryptionKeySet) -> dict[str, Any]:
    return dict(keys.jwks()["keys"][0])


def _with_epk(token: str, epk: dict[str, Any]) -> str:
    parts = token.split(".")
    header = json.loads(b64url_decode(parts[0]))
    header["epk"] = epk
    parts[0] = b64url_encode(json.dumps(header).encode())
    return ".".join(parts)


def test_the_public_jwk_is_okp_x25519_with_use_enc(keys: DecryptionKeySet) -> None:
    jwk = _public(keys)
    assert {k: jwk[k] for k in ("kty", "crv", "use", "kid")} == {
        "kty": "OKP",
        "crv": "X25519",
        "use": "enc",
        "kid": "enc-x25519",
    }
    assert len(b64url_decode(jwk["x"])) == 32
    assert "d" not in jwk
    assert keys.keys[0].algorithms == frozenset(ECDH)


@pytest.mark.parametrize("alg", ECDH)
@pytest.mark.parametrize("enc", ["A128GCM", "A256GCM", "A128CBC-HS256", "A256CBC-HS512"])
def test_a_nested_jwe_to_an_x25519_key_is_accepted(
    alg: str, enc: str, keys: DecryptionKeySet, verifier: Verifier, keyring: KeyRing
) -> None:
    token = encrypt_nested(_jws(keyring), _public(keys), alg, enc)
    header = json.loads(b64url_decode(token.split(".")[0]))
    assert set(header["epk"]) == {"kty", "crv", "x"}
    assert (header["epk"]["kty"], header["epk"]["crv"]) == ("OKP", "X25519")
    assert verifier.verify(token).subject == "user-1"


@pytest.mark.parametrize("point", SMALL_ORDER, ids=lambda u: hex(u)[:10])
@pytest.mark.parametrize("alg", ["ECDH-ES", "ECDH-ES+A256KW"])
def test_a_small_order_ephemeral_key_is_decryption_failed(
    point: int, alg: str, keys: DecryptionKeySet, verifier: Verifier, keyring: KeyRing
) -> None:
    token = encrypt_nested(_jws(keyring), _public(keys), alg, "A256GCM")
    forged = _with_epk(
        token, {"kty": "OKP", "crv": "X25519", "x": b64url_encode(point.to_bytes(32, "little"))}
    )
    with pytest.raises(DecryptionFailed) as refused:
        verifier.verify(forged)
    assert (refused.value.reason, refused.value.status) == ("decryption_failed", 401)


def test_an_all_zero_shared_secret_is_refused_even_by_the_primitive(
    x_key: x25519.X25519PrivateKey,
) -> None:
    peer = x25519.X25519PublicKey.from_public_bytes(bytes(32))
    with pytest.raises(ValueError, match="shared"):
        derive_ecdh_key(x_key, peer, "A256GCM", 32, b"", b"")


@pytest.mark.parametrize(
    "epk",
    [
        {"kty": "EC", "crv": "X25519", "x": b64url_encode(bytes(range(32)))},
        {"kty": "OKP", "crv": "X448", "x": b64url_encode(bytes(56))},
        {"kty": "OKP", "crv": "X25519", "x": b64url_encode(bytes(31))},
        {"kty": "OKP", "crv": "X25519", "x": b64url_encode(bytes(33))},
        {"kty": "OKP", "crv": "X25519", "x": 7},
        {"kty": "OKP", "crv": "X25519"},
        {"kty": "OKP", "crv": "X25519", "x": b64url_encode(bytes(range(32))), "d": "AA"},
        {"kty": "OKP", "crv": "X25519", "x": b64url_encode(bytes(range(32))), "y": "AA"},
        {"kty": "OKP", "crv": "X25519", "x": "not base64url!"},
        "OKP",
    ],
)
def test_a_malformed_ephemeral_key_is_decryption_failed(
    epk: Any, keys: DecryptionKeySet, verifier: Verifier, keyring: KeyRing
) -> None:
    token = _with_epk(encrypt_nested(_jws(keyring), _public(keys), "ECDH-ES", "A256GCM"), epk)
    with pytest.raises(DecryptionFailed):
        verifier.verify(token)


def test_an_ec_ephemeral_key_against_an_x25519_key_is_decryption_failed(
    keys: DecryptionKeySet, verifier: Verifier, keyring: KeyRing
) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    from jwt_guard_core.keys import key_from_public_key

    ec_public = key_from_public_key(ec.generate_private_key(ec.SECP256R1()).public_key())
    assert ec_public.public_jwk is not None
    epk = {m: ec_public.public_jwk[m] for m in ("kty", "crv", "x", "y")}
    token = _with_epk(encrypt_nested(_jws(keyring), _public(keys), "ECDH-ES", "A256GCM"), epk)
    with pytest.raises(DecryptionFailed):
        verifier.verify(token)


@pytest.mark.parametrize("point", SMALL_ORDER[:4], ids=lambda u: hex(u)[:10])
def test_a_small_order_recipient_key_is_refused_when_configured(point: int) -> None:
    jwk = {"kty": "OKP", "crv": "X25519", "x": b64url_encode(point.to_bytes(32, "little"))}
    with pytest.raises(ConfigurationError, match="small order"):
        RecipientKey.from_jwk(jwk, alg="ECDH-ES", enc="A256GCM")


@pytest.mark.parametrize(
    ("jwk", "message"),
    [
        ({"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(bytes(32))}, "public X25519"),
        ({"kty": "OKP", "crv": "X25519", "x": _b64(BOB_PUBLIC), "d": "AA"}, "public X25519"),
        ({"kty": "OKP", "crv": "X25519", "x": b64url_encode(bytes(31))}, "32 bytes"),
    ],
)
def test_bad_x25519_recipient_keys_are_refused(jwk: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        RecipientKey.from_jwk(jwk, alg="ECDH-ES", enc="A256GCM")


def test_x25519_is_refused_for_rsa_oaep() -> None:
    jwk = {"kty": "OKP", "crv": "X25519", "x": _b64(BOB_PUBLIC)}
    with pytest.raises(ConfigurationError, match="RSA-OAEP-256 needs a RSA key"):
        RecipientKey.from_jwk(jwk, alg="RSA-OAEP-256", enc="A256GCM")


def test_rfc_7748_keys_as_rfc_8037_jwks_agree_on_the_rfc_shared_secret() -> None:
    """RFC 7748 section 6.1's Alice and Bob, written as OKP JWKs (RFC 8037 appendix A.6)."""
    bob = DecryptionKey.from_jwk(
        {"kty": "OKP", "crv": "X25519", "d": _b64(BOB_PRIVATE), "x": _b64(BOB_PUBLIC)}
    )
    assert bob.public_jwk["x"] == _b64(BOB_PUBLIC)
    alice = x25519.X25519PrivateKey.from_private_bytes(bytes.fromhex(ALICE_PRIVATE))
    raw = alice.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    assert raw.hex() == ALICE_PUBLIC
    assert isinstance(bob.key, x25519.X25519PrivateKey)
    assert bob.key.exchange(alice.public_key()).hex() == SHARED
    # The same agreement through the JOSE KDF, both ways.
    ours = derive_ecdh_key(bob.key, alice.public_key(), "ECDH-ES+A128KW", 16, b"", b"")
    theirs = derive_ecdh_key(
        alice, x25519.X25519PublicKey.from_public_bytes(bytes.fromhex(BOB_PUBLIC)),
        "ECDH-ES+A128KW", 16, b"", b"",
    )  # fmt: skip
    assert ours == theirs
    assert len(ours) == 16


def test_a_jwk_whose_x_is_not_its_d_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="x is not the public key of d"):
        DecryptionKeySet.from_jwks(
            {
                "keys": [
                    {"kty": "OKP", "crv": "X25519", "d": _b64(BOB_PRIVATE), "x": _b64(ALICE_PUBLIC)}
                ]
            }
        )


def test_from_pem_reads_an_x25519_private_key(x_key: x25519.X25519PrivateKey) -> None:
    pem = x_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    keys = DecryptionKeySet.from_pem(pem, kid="x", algorithms=["ECDH-ES+A256KW"])
    assert keys.jwks()["keys"][0]["alg"] == "ECDH-ES+A256KW"


def test_token_issuer_encrypts_to_an_x25519_recipient(
    keys: DecryptionKeySet, tmp_path: Any, clock: FakeClock
) -> None:
    manager = KeyManager(FileKeyStore(tmp_path / "k", passphrase="x25519 passphrase 0123456789"))
    recipient = RecipientKey.from_jwk(_public(keys), alg="ECDH-ES+A128KW", enc="A128GCM")
    issuer = TokenIssuer(
        manager, issuer=ISSUER, audience=AUDIENCE, encrypt_for={AUDIENCE: recipient}
    )
    token = issuer.issue_access_token("user-9")
    verifier = Verifier(
        GuardConfig(
            algorithms=["ES256"],
            keys=StaticKeySet.from_jwks(manager.jwks()),
            issuer=ISSUER,
            audience=AUDIENCE,
            jwe=JWEPolicy(keys=keys, algorithms=["ECDH-ES+A128KW"], encryption=["A128GCM"]),
        )
    )
    assert verifier.verify(token).subject == "user-9"
    with pytest.raises(TokenError) as refused:
        Verifier(
            GuardConfig(
                algorithms=["ES256"],
                keys=StaticKeySet.from_jwks(manager.jwks()),
                issuer=ISSUER,
                audience=AUDIENCE,
                jwe=JWEPolicy(keys=keys, algorithms=["ECDH-ES"], encryption=["A128GCM"]),
            )
        ).verify(token)
    assert refused.value.reason == "alg_not_allowed"
