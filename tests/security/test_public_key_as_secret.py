"""A public key is refused as an HMAC secret whatever wrapping it comes in.

An operator who pastes the identity provider's public key where the HMAC
secret goes lets anyone mint HS256 tokens with it (RFC 8725 section 2.1;
CVE-2017-11424 and CVE-2022-29217 are this shape in PyJWT). The plain PEM,
OpenSSH line, JWK and DER were already refused; the encodings people
actually paste are refused too: Keycloak's ``public_key`` field (the bare
base64 body of the DER), PEM with a byte order mark or after a comment line,
the DER in hex, a JWK in base64url, an OpenSSH key body, a certificate.
Where the secret sits in one configuration with public keys (several
issuers), their bare RSA modulus, EC point or Ed25519 ``x`` is refused too.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Callable
from typing import Any

import pytest
import trustme
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.x509 import load_pem_x509_certificate

from jwt_guard_core import ConfigurationError, GuardConfig, IssuerPolicy, StaticKeySet
from jwt_guard_core.encoding import b64url_encode
from jwt_guard_core.keys import key_from_pem
from tests.factories import KeyRing

Enc = serialization.Encoding
Fmt = serialization.PublicFormat


def _spki_der(private: Any) -> bytes:
    return private.public_key().public_bytes(Enc.DER, Fmt.SubjectPublicKeyInfo)


def _spki_pem(private: Any) -> bytes:
    return private.public_key().public_bytes(Enc.PEM, Fmt.SubjectPublicKeyInfo)


def _jwk(private: Any) -> bytes:
    jwk = key_from_pem(_spki_pem(private), kid="idp-1").public_jwk
    return json.dumps(dict(jwk or {})).encode()


def _openssh_body(private: Any) -> bytes:
    return private.public_key().public_bytes(Enc.OpenSSH, Fmt.OpenSSH).split()[1]


def _cert_der() -> bytes:
    pem = trustme.CA().cert_pem.bytes()
    return load_pem_x509_certificate(pem).public_bytes(Enc.DER)


SHAPES: dict[str, Callable[[KeyRing], bytes | str]] = {
    "keycloak-public-key-field": lambda k: base64.b64encode(_spki_der(k.rsa)),
    "base64-der-with-line-breaks": lambda k: b"\n".join(
        base64.encodebytes(_spki_der(k.rsa)).split()
    ),
    "base64url-der-unpadded": lambda k: b64url_encode(_spki_der(k.p256)).encode(),
    "pem-with-utf8-bom-bytes": lambda k: b"\xef\xbb\xbf" + _spki_pem(k.rsa),
    "pem-with-bom-str": lambda k: "\ufeff" + _spki_pem(k.rsa).decode(),
    "pem-after-a-comment-line": lambda k: b"# the IdP's signing key\n" + _spki_pem(k.rsa),
    "pem-after-text-on-one-line": lambda k: b"key=" + _spki_pem(k.p256),
    "hex-der": lambda k: _spki_der(k.rsa).hex().encode(),
    "hex-der-upper": lambda k: _spki_der(k.p256).hex().upper().encode(),
    "hex-der-colons": lambda k: _spki_der(k.p256).hex(":").encode(),
    "hex-der-0x": lambda k: b"0x" + _spki_der(k.ed25519).hex().encode(),
    "hex-pkcs1-der": lambda k: k.rsa.public_key().public_bytes(Enc.DER, Fmt.PKCS1).hex().encode(),
    "base64url-jwk": lambda k: b64url_encode(_jwk(k.rsa)).encode(),
    "base64-jwk": lambda k: base64.b64encode(_jwk(k.p256)),
    "base64url-jwks": lambda k: b64url_encode(
        json.dumps({"keys": [json.loads(_jwk(k.rsa))]}).encode()
    ).encode(),
    "jwk-with-bom": lambda k: b"\xef\xbb\xbf" + _jwk(k.ed25519),
    "openssh-key-body": lambda k: _openssh_body(k.rsa),
    "openssh-ed25519-after-comment": lambda k: (
        b"# deploy key\n" + k.ed25519.public_key().public_bytes(Enc.OpenSSH, Fmt.OpenSSH)
    ),
    "openssh-ecdsa": lambda k: k.p256.public_key().public_bytes(Enc.OpenSSH, Fmt.OpenSSH),
    "base64-certificate-der": lambda k: base64.b64encode(_cert_der()),
    "hex-certificate-der": lambda k: _cert_der().hex().encode(),
    "ssh2-rfc4716": lambda k: (
        b"---- BEGIN SSH2 PUBLIC KEY ----\n"
        + _openssh_body(k.rsa)
        + b"\n---- END SSH2 PUBLIC KEY ----\n"
    ),
}


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
def test_a_wrapped_public_key_is_refused_as_an_hmac_secret(
    keyring: KeyRing, shape: Callable[[KeyRing], bytes | str]
) -> None:
    material = shape(keyring)
    with pytest.raises(ConfigurationError) as info:
        StaticKeySet.from_secret(material, algorithm="HS256")
    message = str(info.value)
    assert info.value.setting == "keys"
    assert "asymmetric key, certificate or JWK" in message
    text = material if isinstance(material, str) else material.decode("latin-1")
    assert text.strip("\ufeff\xef\xbb\xbf")[:24] not in message


@pytest.mark.parametrize(
    "shape",
    ["keycloak-public-key-field", "hex-der", "base64url-jwk", "openssh-key-body"],
)
def test_a_wrapped_public_key_is_refused_as_the_k_of_an_oct_jwk(
    keyring: KeyRing, shape: str
) -> None:
    material = SHAPES[shape](keyring)
    raw = material.encode() if isinstance(material, str) else material
    jwks = {"keys": [{"kty": "oct", "kid": "hs-1", "k": b64url_encode(raw)}]}
    with pytest.raises(ConfigurationError, match="asymmetric key"):
        StaticKeySet.from_jwks(jwks)


@pytest.mark.parametrize(
    "make",
    [
        lambda: secrets.token_bytes(64),
        lambda: secrets.token_hex(32),
        lambda: secrets.token_urlsafe(48),
        lambda: base64.b64encode(secrets.token_bytes(48)).decode(),
        lambda: "correct horse battery staple " + secrets.token_hex(8),
    ],
    ids=["bytes", "hex", "urlsafe", "base64", "passphrase"],
)
def test_random_secrets_in_the_usual_encodings_are_still_accepted(make: Callable[[], Any]) -> None:
    for _ in range(200):
        assert StaticKeySet.from_secret(make(), algorithm="HS256").allows_hmac


def test_a_der_public_key_ending_in_a_whitespace_byte_is_refused() -> None:
    # Raw DER whose last byte strip() would take for whitespace.
    while True:
        der = (
            ed25519.Ed25519PrivateKey.generate()
            .public_key()
            .public_bytes(Enc.DER, Fmt.SubjectPublicKeyInfo)
        )
        if der[-1:] in (b" ", b"\t", b"\n", b"\r", b"\x0b", b"\x0c"):
            break
    with pytest.raises(ConfigurationError, match="asymmetric key"):
        StaticKeySet.from_secret(der)


def _rsa_n(k: KeyRing) -> bytes:
    n = k.rsa.public_key().public_numbers().n
    return n.to_bytes((n.bit_length() + 7) // 8, "big")


def _p256_xy(k: KeyRing) -> tuple[bytes, bytes]:
    nums = k.p256.public_key().public_numbers()
    return nums.x.to_bytes(32, "big"), nums.y.to_bytes(32, "big")


MATERIAL: dict[str, Callable[[KeyRing], bytes | str]] = {
    "rsa-modulus-raw": _rsa_n,
    "rsa-modulus-jwk-n": lambda k: b64url_encode(_rsa_n(k)),
    "rsa-modulus-base64": lambda k: base64.b64encode(_rsa_n(k)),
    "rsa-modulus-hex-colons": lambda k: (b"\x00" + _rsa_n(k)).hex(":"),
    "rsa-modulus-decimal": lambda k: str(k.rsa.public_key().public_numbers().n),
    "ec-point-uncompressed-hex": lambda k: (b"\x04" + b"".join(_p256_xy(k))).hex(),
    "ec-x-and-y": lambda k: b"".join(_p256_xy(k)),
    "ec-jwk-x": lambda k: b64url_encode(_p256_xy(k)[0]),
    "ed25519-jwk-x": lambda k: b64url_encode(k.ed25519.public_key().public_bytes(Enc.Raw, Fmt.Raw)),
}


def _config(secret: bytes | str, keyring: KeyRing) -> GuardConfig:
    public = {"rsa-1": _spki_pem(keyring.rsa), "ec-1": _spki_pem(keyring.p256)}
    return GuardConfig(
        issuers={
            "https://a.example": IssuerPolicy(
                keys=StaticKeySet.from_secret(secret, kid="hs-1"), algorithms=["HS256"]
            ),
            "https://b.example": IssuerPolicy(
                keys=StaticKeySet.from_pem(public), algorithms=["RS256", "ES256"]
            ),
            "https://c.example": IssuerPolicy(
                keys=StaticKeySet.from_pem(_spki_pem(keyring.ed25519), kid="ed-1"),
                algorithms=["EdDSA"],
            ),
        },
        audience="https://api.example",
    )


@pytest.mark.parametrize("material", MATERIAL.values(), ids=MATERIAL.keys())
def test_another_issuers_public_key_material_is_refused_as_a_secret(
    keyring: KeyRing, material: Callable[[KeyRing], bytes | str]
) -> None:
    with pytest.raises(ConfigurationError) as info:
        _config(material(keyring), keyring)
    assert info.value.setting == "issuers"
    assert "public key material of key" in str(info.value)


def test_a_random_secret_beside_public_key_issuers_is_accepted(keyring: KeyRing) -> None:
    assert _config(secrets.token_urlsafe(48), keyring).policies
