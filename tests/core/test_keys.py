"""Key hygiene: every rule in jwt_guard_core.keys' docstring, and StaticKeySet's constructors.

Bad key material is a ConfigurationError when the set is built, with a
message that names the problem and never the material.
"""

from __future__ import annotations

import datetime
import json
import logging
import secrets
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa, x448, x25519
from cryptography.x509.oid import NameOID

from jwt_guard_core import (
    AlgorithmNotAllowed,
    ConfigurationError,
    SecurityEvent,
    StaticKeySet,
    UnknownKid,
    subscribe,
)
from jwt_guard_core._roca import is_roca_weak
from jwt_guard_core.encoding import b64url_decode, b64url_encode
from jwt_guard_core.keys import (
    KeyRejected,
    key_from_jwk,
    key_from_pem,
    key_from_public_key,
    key_from_secret,
)
from tests.factories import KeyRing, public_pem

Enc = serialization.Encoding
Fmt = serialization.PublicFormat


def _int(value: int, size: int | None = None) -> str:
    length = size if size is not None else (value.bit_length() + 7) // 8
    return b64url_encode(value.to_bytes(length, "big"))


def rsa_jwk(key: rsa.RSAPrivateKey, *, private: bool = False, **extra: Any) -> dict[str, Any]:
    nums = key.private_numbers()
    jwk: dict[str, Any] = {"kty": "RSA", "n": _int(nums.public_numbers.n), "e": _int(65537)}
    if private:
        jwk.update(
            d=_int(nums.d), p=_int(nums.p), q=_int(nums.q),
            dp=_int(nums.dmp1), dq=_int(nums.dmq1), qi=_int(nums.iqmp),
        )  # fmt: skip
    jwk.update(extra)
    return jwk


def ec_jwk(key: ec.EllipticCurvePrivateKey, crv: str, size: int, **extra: Any) -> dict[str, Any]:
    nums = key.public_key().public_numbers()
    jwk: dict[str, Any] = {
        "kty": "EC",
        "crv": crv,
        "x": _int(nums.x, size),
        "y": _int(nums.y, size),
    }
    jwk.update(extra)
    return jwk


def ed25519_jwk(key: ed25519.Ed25519PrivateKey, **extra: Any) -> dict[str, Any]:
    raw = key.public_key().public_bytes(Enc.Raw, Fmt.Raw)
    jwk: dict[str, Any] = {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(raw)}
    jwk.update(extra)
    return jwk


def oct_jwk(secret: bytes, **extra: Any) -> dict[str, Any]:
    jwk: dict[str, Any] = {"kty": "oct", "k": b64url_encode(secret)}
    jwk.update(extra)
    return jwk


def refused(jwk: Any, **kwargs: Any) -> str:
    """Load ``jwk`` as a one-key JWKS and return the ConfigurationError's message."""
    with pytest.raises(ConfigurationError) as info:
        StaticKeySet.from_jwks({"keys": [jwk]}, **kwargs)
    assert info.value.setting == "keys"
    return str(info.value)


@pytest.fixture(scope="module")
def small_rsa() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(65537, 1024)


# -- RSA


def test_rsa_key_under_2048_bits_is_refused_as_jwk(small_rsa: rsa.RSAPrivateKey) -> None:
    message = refused(rsa_jwk(small_rsa, kid="old"))
    assert "RSA key has 1024 bits; at least 2048 are required" in message
    assert "key 'old'" in message


def test_rsa_key_under_2048_bits_is_refused_as_pem(small_rsa: rsa.RSAPrivateKey) -> None:
    with pytest.raises(ConfigurationError, match="at least 2048"):
        StaticKeySet.from_pem(public_pem(small_rsa), kid="old")


def test_rsa_key_of_2048_bits_is_accepted_and_bound_to_every_rsa_algorithm(
    keyring: KeyRing,
) -> None:
    (key,) = StaticKeySet.from_jwks({"keys": [rsa_jwk(keyring.rsa, kid="r")]}).keys
    assert key.algorithms == {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}


@pytest.mark.parametrize("exponent", [1, 2, 4, 65536])
def test_rsa_exponent_one_or_even_is_refused(keyring: KeyRing, exponent: int) -> None:
    message = refused(rsa_jwk(keyring.rsa, e=_int(exponent)))
    assert "RSA public exponent must be odd and at least 3" in message


def test_rsa_key_with_an_even_modulus_is_refused_as_jwk_and_as_pem(keyring: KeyRing) -> None:
    # A product of two odd primes is odd; an even n can verify no real signature.
    n = keyring.rsa.public_key().public_numbers().n - 1
    message = refused(rsa_jwk(keyring.rsa, n=_int(n)))
    assert "RSA modulus is even" in message
    pem = (
        rsa.RSAPublicNumbers(65537, n).public_key().public_bytes(Enc.PEM, Fmt.SubjectPublicKeyInfo)
    )
    with pytest.raises(ConfigurationError, match="RSA modulus is even"):
        StaticKeySet.from_pem(pem, kid="even")


# The primes of the Infineon primorial M that the published detector checks.
ROCA_PRIMES = (
    3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71,
    73, 79, 83, 89, 97, 101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151,
    157, 163, 167,
)  # fmt: skip


def _roca_fingerprint_modulus(bits: int = 2048) -> int:
    """A modulus with the ROCA fingerprint: n = 65537^a (mod r) for every small prime r.

    The Infineon generator made primes p = k * M + (65537^a mod M), so n
    lands in the subgroup generated by 65537 modulo each prime dividing M.
    """
    m = 1
    for r in ROCA_PRIMES:
        m *= r
    residue = pow(65537, secrets.randbelow(1000) + 1, m)
    k = (1 << (bits - 1)) // m + 1 + secrets.randbelow(1 << 64)
    n = k * m + residue
    if n % 2 == 0:  # keep the residues, make it odd: M is odd
        n += m
    assert n.bit_length() == bits
    return n


def test_rsa_modulus_with_the_roca_fingerprint_is_refused() -> None:
    n = _roca_fingerprint_modulus()
    assert is_roca_weak(n)
    message = refused({"kty": "RSA", "n": _int(n), "e": _int(65537), "kid": "infineon"})
    assert "ROCA" in message
    assert "CVE-2017-15361" in message


def test_roca_check_does_not_flag_ordinary_keys(keyring: KeyRing) -> None:
    assert not is_roca_weak(keyring.rsa.public_key().public_numbers().n)
    assert not is_roca_weak(rsa.generate_private_key(65537, 2048).public_key().public_numbers().n)


def test_one_residue_outside_the_subgroup_clears_a_modulus() -> None:
    n = _roca_fingerprint_modulus()
    m = 1
    for r in ROCA_PRIMES:
        m *= r
    # Move n mod 17 to 3, outside <65537 mod 17> = <2> = {1, 2, 4, 8, 9, 13, 15, 16},
    # keeping every other residue: step by a multiple of M / 17.
    step = m // 17
    t = ((3 - n) * pow(step, -1, 17)) % 17
    cleared = n + step * t
    assert cleared % 17 == 3
    assert all(cleared % r == n % r for r in ROCA_PRIMES if r != 17)
    assert not is_roca_weak(cleared)


# -- EC


@pytest.mark.parametrize(
    ("crv", "size", "alg"), [("P-256", 32, "ES256"), ("P-384", 48, "ES384"), ("P-521", 66, "ES512")]
)
def test_ec_key_is_bound_to_the_algorithm_of_its_curve(
    keyring: KeyRing, crv: str, size: int, alg: str
) -> None:
    private = {"P-256": keyring.p256, "P-384": keyring.p384, "P-521": keyring.p521}[crv]
    key = key_from_jwk(ec_jwk(private, crv, size))
    assert key.algorithms == {alg}
    assert key.crv == crv


@pytest.mark.parametrize("alg", ["ES384", "ES512", "RS256", "EdDSA", "HS256"])
def test_ec_curve_not_matching_the_jwk_alg_is_refused(keyring: KeyRing, alg: str) -> None:
    message = refused(ec_jwk(keyring.p256, "P-256", 32, alg=alg))
    assert f"alg '{alg}' does not fit this EC key on P-256" in message


def test_ec_curve_not_matching_the_pem_algorithms_is_refused(keyring: KeyRing) -> None:
    with pytest.raises(ConfigurationError, match="ES384 do not fit this EC key"):
        StaticKeySet.from_pem(public_pem(keyring.p256), kid="ec", algorithms=["ES384"])


def test_ec_label_claiming_another_curve_is_refused_before_reading_coordinates(
    keyring: KeyRing,
) -> None:
    # P-256 coordinates labelled P-384 with alg ES256: the mismatch is named.
    message = refused(ec_jwk(keyring.p256, "P-384", 32, alg="ES256"))
    assert "'ES256' does not fit this EC key on P-384" in message


def test_ec_coordinates_shorter_than_the_curve_size_are_refused(keyring: KeyRing) -> None:
    jwk = ec_jwk(keyring.p256, "P-256", 32)
    jwk["x"] = b64url_encode(b64url_decode(jwk["x"])[1:])
    assert "EC coordinates for P-256 must be 32 bytes" in refused(jwk)


def test_ec_coordinates_with_a_leading_extra_byte_are_refused(keyring: KeyRing) -> None:
    jwk = ec_jwk(keyring.p256, "P-256", 32)
    jwk["y"] = b64url_encode(b"\x00" + b64url_decode(jwk["y"]))
    assert "must be 32 bytes" in refused(jwk)


def test_ec_point_not_on_the_curve_is_refused(keyring: KeyRing) -> None:
    nums = keyring.p256.public_key().public_numbers()
    jwk = ec_jwk(keyring.p256, "P-256", 32, y=_int(nums.y ^ 1, 32))
    assert "EC point is not on P-256" in refused(jwk)


@pytest.mark.parametrize("crv", ["secp256k1", "P-192", "", None, ["P-256"], 256])
def test_ec_curve_other_than_the_nist_three_is_refused(keyring: KeyRing, crv: Any) -> None:
    jwk = ec_jwk(keyring.p256, "P-256", 32)
    jwk["crv"] = crv
    assert "is not one of P-256, P-384, P-521" in refused(jwk)


def test_ec_pem_on_an_unsupported_curve_is_refused() -> None:
    pem = (
        ec.generate_private_key(ec.SECP256K1())
        .public_key()
        .public_bytes(Enc.PEM, Fmt.SubjectPublicKeyInfo)
    )
    with pytest.raises(ConfigurationError, match="secp256k1 is not one of"):
        StaticKeySet.from_pem(pem)


# -- OKP


def test_ed25519_key_verifies_eddsa_and_the_fully_specified_name(keyring: KeyRing) -> None:
    assert key_from_jwk(ed25519_jwk(keyring.ed25519)).algorithms == {"EdDSA", "Ed25519"}


def test_ed448_key_verifies_only_eddsa(keyring: KeyRing) -> None:
    key = key_from_pem(public_pem(keyring.ed448))
    assert key.algorithms == {"EdDSA"}
    assert key.crv == "Ed448"


@pytest.mark.parametrize("crv", ["X25519", "X448"])
def test_x25519_and_x448_jwks_are_refused(crv: str) -> None:
    jwk = {"kty": "OKP", "crv": crv, "x": b64url_encode(secrets.token_bytes(32))}
    assert f"OKP curve '{crv}' is not a signature curve" in refused(jwk)


@pytest.mark.parametrize(
    "private", [x25519.X25519PrivateKey.generate, x448.X448PrivateKey.generate]
)
def test_x25519_and_x448_pems_are_refused(private: Any) -> None:
    pem = private().public_key().public_bytes(Enc.PEM, Fmt.SubjectPublicKeyInfo)
    with pytest.raises(ConfigurationError, match="key-agreement key, not a signature key"):
        StaticKeySet.from_pem(pem)


def test_ed25519_public_key_of_the_wrong_length_is_refused(keyring: KeyRing) -> None:
    jwk = ed25519_jwk(keyring.ed25519)
    jwk["x"] = b64url_encode(b64url_decode(jwk["x"]) + b"\x00")
    assert "Ed25519 public key must be 32 bytes" in refused(jwk)


# -- use, key_ops, alg


@pytest.mark.parametrize("use", ["enc", "", "SIG", 1])
def test_use_other_than_sig_is_refused(keyring: KeyRing, use: Any) -> None:
    assert "only 'sig' keys may verify signatures" in refused(rsa_jwk(keyring.rsa, use=use))


def test_use_sig_is_accepted(keyring: KeyRing) -> None:
    assert key_from_jwk(rsa_jwk(keyring.rsa, use="sig")).kty == "RSA"


@pytest.mark.parametrize("ops", [["sign"], ["encrypt"], [], ["wrapKey", "unwrapKey"]])
def test_key_ops_without_verify_is_refused(keyring: KeyRing, ops: list[str]) -> None:
    assert "key_ops does not include 'verify'" in refused(rsa_jwk(keyring.rsa, key_ops=ops))


def test_key_ops_mixing_verify_and_encryption_is_refused(keyring: KeyRing) -> None:
    message = refused(rsa_jwk(keyring.rsa, key_ops=["verify", "decrypt"]))
    assert "mixes signature and encryption operations" in message


@pytest.mark.parametrize("ops", ["verify", [1], {"verify": True}])
def test_key_ops_that_is_not_a_list_of_strings_is_refused(keyring: KeyRing, ops: Any) -> None:
    assert "key_ops must be a list of strings" in refused(rsa_jwk(keyring.rsa, key_ops=ops))


def test_key_ops_with_verify_is_accepted(keyring: KeyRing) -> None:
    assert key_from_jwk(rsa_jwk(keyring.rsa, key_ops=["verify"])).kty == "RSA"


@pytest.mark.parametrize("alg", ["none", "ES224", "RS1", "HS1", "Ed448", "rs256"])
def test_unknown_jwk_alg_is_refused(keyring: KeyRing, alg: str) -> None:
    message = refused(rsa_jwk(keyring.rsa, alg=alg))
    assert f"alg '{alg}' is not a JWS signature algorithm jwt-guard accepts" in message


@pytest.mark.parametrize("alg", ["RSA-OAEP", "RSA1_5", "A256GCM", "A128KW", "dir"])
def test_encryption_alg_is_refused_and_named_as_such(keyring: KeyRing, alg: str) -> None:
    jwk = (
        rsa_jwk(keyring.rsa, alg=alg)
        if alg.startswith("RSA")
        else oct_jwk(secrets.token_bytes(32), alg=alg)
    )
    assert "JWE" in refused(jwk)


def test_rsa_jwk_alg_narrows_the_key_to_that_algorithm(keyring: KeyRing) -> None:
    assert key_from_jwk(rsa_jwk(keyring.rsa, alg="PS256")).algorithms == {"PS256"}


@pytest.mark.parametrize("kty", [None, "DSA", "oct ", ["RSA"], {"RSA": 1}, 3])
def test_unknown_or_malformed_kty_is_refused(keyring: KeyRing, kty: Any) -> None:
    jwk = rsa_jwk(keyring.rsa, kty=kty)
    if kty is None:
        del jwk["kty"]
    message = refused(jwk)
    assert "kty" in message


@pytest.mark.parametrize(
    ("member", "value", "phrase"),
    [
        ("n", None, "member 'n' is missing"),
        ("n", "", "member 'n' is empty"),
        ("n", "n+/=", "member 'n' is not base64url"),
        ("e", 65537, "member 'e' is missing or not a string"),
        ("kid", 7, "kid must be a string"),
        ("alg", ["RS256"], "alg must be a string"),
    ],
)
def test_malformed_members_are_refused_by_name(
    keyring: KeyRing, member: str, value: Any, phrase: str
) -> None:
    jwk = rsa_jwk(keyring.rsa)
    if value is None:
        del jwk[member]
    else:
        jwk[member] = value
    assert phrase in refused(jwk)


@pytest.mark.parametrize("jwk", ["RSA", 1, None, ["kty"]])
def test_a_jwk_that_is_not_an_object_is_refused(jwk: Any) -> None:
    assert "key #0: a JWK must be a JSON object" in refused(jwk)


# -- private members


@pytest.mark.parametrize("kind", ["RSA", "EC", "OKP"])
def test_private_members_are_refused_by_default(keyring: KeyRing, kind: str) -> None:
    if kind == "RSA":
        jwk = rsa_jwk(keyring.rsa, private=True, kid="leak")
        members = "d, p, q, dp, dq, qi"
    elif kind == "EC":
        d = keyring.p256.private_numbers().private_value
        jwk = ec_jwk(keyring.p256, "P-256", 32, d=_int(d, 32), kid="leak")
        members = "d"
    else:
        raw = keyring.ed25519.private_bytes(Enc.Raw, serialization.PrivateFormat.Raw,
                                            serialization.NoEncryption())  # fmt: skip
        jwk = ed25519_jwk(keyring.ed25519, d=b64url_encode(raw), kid="leak")
        members = "d"
    message = refused(jwk)
    assert f"the JWK holds private members {members}" in message
    assert "private_members='strip'" in message


def test_private_members_are_stripped_with_a_warning_event_when_asked(
    keyring: KeyRing, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[SecurityEvent] = []
    unsubscribe = subscribe(seen.append)
    try:
        with caplog.at_level(logging.WARNING, logger="jwt_guard.security"):
            keys = StaticKeySet.from_jwks(
                {"keys": [rsa_jwk(keyring.rsa, private=True, kid="shared")]},
                private_members="strip",
            )
    finally:
        unsubscribe()
    (event,) = [e for e in seen if e.name == "private_key_members_stripped"]
    assert event.level == logging.WARNING
    assert event.fields["kid"] == "shared"
    assert event.fields["members"] == "d,p,q,dp,dq,qi"
    (record,) = [r for r in caplog.records if r.jwt_guard_event == "private_key_members_stripped"]
    assert record.levelno == logging.WARNING
    # What is kept is the public key alone.
    (published,) = keys.jwks()["keys"]
    assert set(published) == {"kty", "n", "e", "kid", "use"}
    private_d = rsa_jwk(keyring.rsa, private=True)["d"]
    assert private_d not in json.dumps(keys.jwks())
    assert private_d not in caplog.text


def test_a_public_jwk_emits_no_strip_event(keyring: KeyRing) -> None:
    seen: list[SecurityEvent] = []
    unsubscribe = subscribe(seen.append)
    try:
        StaticKeySet.from_jwks({"keys": [rsa_jwk(keyring.rsa)]}, private_members="strip")
    finally:
        unsubscribe()
    assert not [e for e in seen if e.name == "private_key_members_stripped"]


# -- set-level rules


def test_duplicate_kid_in_a_jwks_is_refused(keyring: KeyRing) -> None:
    jwks = {"keys": [rsa_jwk(keyring.rsa, kid="a"), ec_jwk(keyring.p256, "P-256", 32, kid="a")]}
    with pytest.raises(ConfigurationError, match="duplicate kid 'a' in the key set"):
        StaticKeySet.from_jwks(jwks)


def test_duplicate_kid_is_reported_even_when_a_key_is_also_bad(keyring: KeyRing) -> None:
    bad = oct_jwk(b"", kid="a")
    jwks = {"keys": [oct_jwk(secrets.token_bytes(32), kid="a"), bad]}
    with pytest.raises(ConfigurationError, match="duplicate kid 'a'"):
        StaticKeySet.from_jwks(jwks)


def test_duplicate_kid_across_combined_sets_is_refused(keyring: KeyRing) -> None:
    first = StaticKeySet.from_pem(public_pem(keyring.rsa), kid="k")
    second = StaticKeySet.from_pem(public_pem(keyring.p256), kid="k")
    with pytest.raises(ConfigurationError, match="duplicate kid 'k'"):
        StaticKeySet([*first.keys, *second.keys])


def test_hmac_secret_mixed_with_asymmetric_keys_is_refused(keyring: KeyRing) -> None:
    jwks = {"keys": [oct_jwk(secrets.token_bytes(32), kid="h"), rsa_jwk(keyring.rsa, kid="r")]}
    with pytest.raises(ConfigurationError, match="mixes HMAC secrets with asymmetric keys"):
        StaticKeySet.from_jwks(jwks)


def test_empty_key_set_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="the key set is empty"):
        StaticKeySet.from_jwks({"keys": []})
    with pytest.raises(ConfigurationError, match="the key set is empty"):
        StaticKeySet([])
    with pytest.raises(ConfigurationError, match="the key set is empty"):
        StaticKeySet.from_pem({})


# -- HMAC secrets


@pytest.mark.parametrize(("alg", "size"), [("HS256", 32), ("HS384", 48), ("HS512", 64)])
def test_hmac_secret_shorter_than_the_hash_is_refused(alg: str, size: int) -> None:
    secret = secrets.token_bytes(size - 1)
    with pytest.raises(ConfigurationError) as info:
        StaticKeySet.from_secret(secret, algorithm=alg)
    assert f"HMAC secret of {size - 1} bytes is shorter than {alg} requires ({size} bytes)" in str(
        info.value
    )
    assert b64url_encode(secret) not in str(info.value)


@pytest.mark.parametrize(("alg", "size"), [("HS256", 32), ("HS384", 48), ("HS512", 64)])
def test_hmac_secret_as_long_as_the_hash_is_accepted(alg: str, size: int) -> None:
    keys = StaticKeySet.from_secret(secrets.token_bytes(size), algorithm=alg, kid="h")
    assert keys.allows_hmac
    assert keys.algorithms == {alg}


def test_hmac_secret_length_counts_utf8_bytes() -> None:
    # 16 characters, 32 bytes: long enough for HS256.
    assert key_from_secret("é" * 16).algorithms == {"HS256"}


def test_oct_jwk_without_alg_may_verify_only_what_its_length_allows() -> None:
    assert key_from_jwk(oct_jwk(secrets.token_bytes(32))).algorithms == {"HS256"}
    assert key_from_jwk(oct_jwk(secrets.token_bytes(48))).algorithms == {"HS256", "HS384"}
    assert "shorter than 32 bytes" in refused(oct_jwk(secrets.token_bytes(20)))


def test_empty_hmac_secret_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="HMAC secret is empty"):
        StaticKeySet.from_secret(b"")
    assert "HMAC secret is empty" in refused({"kty": "oct", "k": ""})


@pytest.mark.parametrize("secret", [32, None, 3.5, ["a" * 32]])
def test_hmac_secret_that_is_not_text_or_bytes_is_refused(secret: Any) -> None:
    # bytes(32) would be 32 zero bytes: an int must never become a secret.
    with pytest.raises(ConfigurationError, match="must be str or bytes"):
        StaticKeySet.from_secret(secret)


@pytest.mark.parametrize("secret", [b" " * 32, "\t\n" * 16, b"\r\n" * 32])
def test_blank_hmac_secret_is_refused(secret: str | bytes) -> None:
    with pytest.raises(ConfigurationError, match="blank"):
        StaticKeySet.from_secret(secret)


@pytest.mark.parametrize("secret", ["x" * 32, b"\x00" * 64, "0" * 48])
def test_hmac_secret_of_one_repeated_byte_is_refused_from_configuration(
    secret: str | bytes,
) -> None:
    with pytest.raises(ConfigurationError, match="one byte repeated"):
        StaticKeySet.from_secret(secret)


def test_oct_jwk_material_is_not_judged_by_repetition() -> None:
    # Wycheproof's JWS base64 group signs with a JWK of 32 zero bytes and
    # expects it to verify: generated JWK material is only length-checked.
    assert key_from_jwk(oct_jwk(bytes(32))).algorithms == {"HS256"}
    assert "HMAC secret is blank" in refused(oct_jwk(b" " * 32))


def test_public_key_given_as_hmac_secret_is_refused(keyring: KeyRing) -> None:
    with pytest.raises(ConfigurationError, match="asymmetric key, certificate or JWK"):
        StaticKeySet.from_secret(public_pem(keyring.rsa))
    assert "asymmetric key" in refused(oct_jwk(public_pem(keyring.p256)))


def test_from_secret_refuses_an_asymmetric_algorithm() -> None:
    with pytest.raises(ConfigurationError, match="'RS256' is not an HMAC algorithm"):
        StaticKeySet.from_secret(secrets.token_bytes(32), algorithm="RS256")


def test_oct_keys_are_refused_where_hmac_is_not_allowed() -> None:
    with pytest.raises(KeyRejected, match="symmetric"):
        key_from_jwk(oct_jwk(secrets.token_bytes(32)), allow_hmac=False)


# -- PEM


def _private_pems(keyring: KeyRing) -> dict[str, bytes]:
    none = serialization.NoEncryption()
    pkcs8 = serialization.PrivateFormat.PKCS8
    return {
        "pkcs8": keyring.rsa.private_bytes(Enc.PEM, pkcs8, none),
        "pkcs1": keyring.rsa.private_bytes(
            Enc.PEM, serialization.PrivateFormat.TraditionalOpenSSL, none
        ),
        "ec": keyring.p256.private_bytes(
            Enc.PEM, serialization.PrivateFormat.TraditionalOpenSSL, none
        ),
        "openssh": keyring.ed25519.private_bytes(
            Enc.PEM, serialization.PrivateFormat.OpenSSH, none
        ),
        "encrypted": keyring.rsa.private_bytes(
            Enc.PEM, pkcs8, serialization.BestAvailableEncryption(b"passphrase")
        ),
    }


@pytest.mark.parametrize("form", ["pkcs8", "pkcs1", "ec", "openssh", "encrypted"])
def test_pem_private_key_is_refused(keyring: KeyRing, form: str) -> None:
    pem = _private_pems(keyring)[form]
    with pytest.raises(ConfigurationError) as info:
        StaticKeySet.from_pem(pem, kid="signing")
    assert "a PEM private key was given where a public key is expected" in str(info.value)
    assert pem.decode() not in str(info.value)


def test_private_key_object_is_refused(keyring: KeyRing) -> None:
    with pytest.raises(KeyRejected, match="a private key was given"):
        key_from_public_key(keyring.rsa)


@pytest.mark.parametrize("form", [Fmt.SubjectPublicKeyInfo, Fmt.PKCS1])
def test_rsa_public_pem_in_spki_and_pkcs1_form_is_accepted(keyring: KeyRing, form: Fmt) -> None:
    pem = keyring.rsa.public_key().public_bytes(Enc.PEM, form)
    keys = StaticKeySet.from_pem(pem.decode(), kid="r")
    assert keys.get_key("r", "RS256").kid == "r"


def _certificate(private: Any, public: Any) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "issuer.example")])
    now = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=365))
        .sign(private, hashes.SHA256())
    )
    return cert.public_bytes(Enc.PEM)


def test_certificate_is_accepted_as_its_public_key(keyring: KeyRing) -> None:
    pem = _certificate(keyring.rsa, keyring.rsa.public_key())
    keys = StaticKeySet.from_pem({"cert-1": pem}, algorithms=["RS256"])
    (key,) = keys.keys
    assert key.kid == "cert-1"
    assert key.algorithms == {"RS256"}
    expected = key_from_pem(public_pem(keyring.rsa))
    assert key.public_jwk is not None
    assert expected.public_jwk is not None
    assert key.public_jwk["n"] == expected.public_jwk["n"]


def test_certificate_for_a_small_rsa_key_is_refused(small_rsa: rsa.RSAPrivateKey) -> None:
    with pytest.raises(ConfigurationError, match="at least 2048"):
        StaticKeySet.from_pem(_certificate(small_rsa, small_rsa.public_key()))


@pytest.mark.parametrize("pem", [b"", b"not a key", b"-----BEGIN PUBLIC KEY-----\nAAAA\n"])
def test_pem_that_is_not_a_key_is_refused(pem: bytes) -> None:
    with pytest.raises(ConfigurationError, match="not a public key or certificate"):
        StaticKeySet.from_pem(pem)


@pytest.mark.parametrize("pem", [None, 42, ["-----BEGIN PUBLIC KEY-----"]])
def test_pem_that_is_not_text_or_bytes_is_refused(pem: Any) -> None:
    with pytest.raises(ConfigurationError, match="must be str or bytes"):
        StaticKeySet.from_pem(pem)


def test_from_pem_algorithms_given_as_a_string_is_refused(keyring: KeyRing) -> None:
    with pytest.raises(ConfigurationError, match=r"a list such as \['RS256'\]"):
        StaticKeySet.from_pem(public_pem(keyring.rsa), algorithms="RS256")


def test_from_pem_with_a_mapping_binds_each_kid(keyring: KeyRing) -> None:
    keys = StaticKeySet.from_pem({"r": public_pem(keyring.rsa), "e": public_pem(keyring.p384)})
    assert keys.get_key("r", "PS512").kty == "RSA"
    assert keys.get_key("e", "ES384").crv == "P-384"


# -- from_jwks sources


def _jwks(keyring: KeyRing) -> dict[str, Any]:
    return {"keys": [rsa_jwk(keyring.rsa, kid="r"), ed25519_jwk(keyring.ed25519, kid="e")]}


def test_from_jwks_accepts_a_dict(keyring: KeyRing) -> None:
    assert [k.kid for k in StaticKeySet.from_jwks(_jwks(keyring)).keys] == ["r", "e"]


@pytest.mark.parametrize("encode", [str, str.encode])
def test_from_jwks_accepts_json_text_and_bytes(keyring: KeyRing, encode: Any) -> None:
    text = json.dumps(_jwks(keyring))
    keys = StaticKeySet.from_jwks(encode(text))
    assert keys.get_key("e", "EdDSA").crv == "Ed25519"


def test_from_jwks_reads_a_path(keyring: KeyRing, tmp_path: Path) -> None:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(_jwks(keyring)))
    keys = StaticKeySet.from_jwks(path)
    assert keys.get_key("r", "RS256").kid == "r"


def test_from_jwks_names_a_file_it_cannot_read(tmp_path: Path) -> None:
    missing = tmp_path / "absent.json"
    with pytest.raises(ConfigurationError, match=r"cannot read JWKS file .*absent\.json"):
        StaticKeySet.from_jwks(missing)


def test_from_jwks_with_a_path_as_a_string_points_to_pathlib(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"not valid JSON \(to read a file, pass"):
        StaticKeySet.from_jwks(str(tmp_path / "jwks.json"))


@pytest.mark.parametrize(
    "doc", ['{"keys": {}}', "[]", '{"key": []}', "{", b"\xff\xfe", '"keys"', "[" * 100000]
)
def test_from_jwks_refuses_documents_that_are_not_a_jwks(doc: Any) -> None:
    with pytest.raises(ConfigurationError) as info:
        StaticKeySet.from_jwks(doc)
    assert "JWKS" in str(info.value)


def test_jwks_output_holds_only_public_members(keyring: KeyRing) -> None:
    keys = StaticKeySet.from_jwks(
        {"keys": [rsa_jwk(keyring.rsa, private=True, kid="r", alg="RS256")]},
        private_members="strip",
    )
    assert keys.jwks() == {"keys": [{**rsa_jwk(keyring.rsa, kid="r", alg="RS256"), "use": "sig"}]}


# -- key selection


def test_key_is_found_by_kid_only_under_an_algorithm_it_is_bound_to(keyring: KeyRing) -> None:
    keys = StaticKeySet.from_jwks(_jwks(keyring))
    assert keys.get_key("r", "RS256").kid == "r"
    with pytest.raises(AlgorithmNotAllowed):
        keys.get_key("r", "EdDSA")
    with pytest.raises(AlgorithmNotAllowed):
        keys.get_key("e", "HS256")
    with pytest.raises(UnknownKid):
        keys.get_key("nobody", "RS256")


def test_token_without_kid_matching_several_keys_is_ambiguous(keyring: KeyRing) -> None:
    other = rsa.generate_private_key(65537, 2048)
    keys = StaticKeySet.from_pem({"a": public_pem(keyring.rsa), "b": public_pem(other)})
    with pytest.raises(UnknownKid, match="several keys"):
        keys.get_key(None, "RS256")
    single = StaticKeySet.from_jwks(_jwks(keyring))
    assert single.get_key(None, "EdDSA").kid == "e"


# -- no key material in repr or messages


def test_repr_never_shows_key_material(keyring: KeyRing) -> None:
    secret = secrets.token_bytes(32)
    hmac_keys = StaticKeySet.from_secret(secret, kid="h")
    rsa_keys = StaticKeySet.from_jwks({"keys": [rsa_jwk(keyring.rsa, kid="r")]})
    n = rsa_jwk(keyring.rsa)["n"]
    texts = [repr(hmac_keys), repr(hmac_keys.keys[0]), repr(rsa_keys), repr(rsa_keys.keys[0])]
    texts += [str(k) for k in (*hmac_keys.keys, *rsa_keys.keys)]
    for text in texts:
        assert repr(secret)[2:-1] not in text
        assert b64url_encode(secret) not in text
        assert secret.hex() not in text
        assert n[:16] not in text
        assert str(keyring.rsa.public_key().public_numbers().n)[:16] not in text
    assert repr(hmac_keys) == "StaticKeySet(['h'])"
    assert "kid='r'" in repr(rsa_keys.keys[0])


def test_from_jwks_with_a_file_name_shows_the_call_that_reads_it() -> None:
    with pytest.raises(ConfigurationError) as refused:
        StaticKeySet.from_jwks("jwks.json")
    assert str(refused.value).endswith(
        "(to read a file, pass a pathlib.Path: from_jwks(Path('jwks.json')))"
    )


def test_from_jwks_never_echoes_broken_json_text() -> None:
    with pytest.raises(ConfigurationError) as refused:
        StaticKeySet.from_jwks('{"keys": [{"d": "secret-part"')
    assert "secret-part" not in str(refused.value)
    assert str(refused.value).endswith("(to read a file, pass a pathlib.Path)")
