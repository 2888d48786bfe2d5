"""Nested JWE: a verifier with ``GuardConfig(jwe=JWEPolicy(...))``.

The outer JWE is decrypted with the configured private keys and the inner
JWS then goes through the whole pipeline with its own allowlist. Every
cryptographic failure is one ``decryption_failed``; RSA1_5, PBES2 and
``zip`` are refused before any work; an ephemeral key off its curve is
refused.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jwt_guard_core import (
    AlgorithmNotAllowed,
    BadSignature,
    ConfigurationError,
    EmbeddedKey,
    GuardConfig,
    MalformedToken,
    StaticKeySet,
    TokenError,
    TokenExpired,
    TokenTooLarge,
    UnknownCrit,
    UnknownKid,
    Verifier,
)
from jwt_guard_core.encoding import b64url_decode, b64url_encode
from jwt_guard_core.jwe import (
    DecryptionFailed,
    DecryptionKey,
    DecryptionKeySet,
    JWEPolicy,
    RecipientKey,
    encrypt_compact,
    encrypt_nested,
)
from jwt_guard_core.jwe._primitives import CONTENT_ENCRYPTION, KEY_MANAGEMENT
from jwt_guard_core.keys import KeyRejected
from tests.factories import AUDIENCE, ISSUER, FakeClock, KeyRing, claims, named, public_pem, sign

ALGS = list(KEY_MANAGEMENT)
ENCS = list(CONTENT_ENCRYPTION)


@pytest.fixture(scope="module")
def enc_keys() -> DecryptionKeySet:
    return DecryptionKeySet(
        [
            DecryptionKey.from_key(ec.generate_private_key(ec.SECP256R1()), kid="enc-ec"),
            DecryptionKey.from_key(rsa.generate_private_key(65537, 2048), kid="enc-rsa"),
        ]
    )


def _recipient(keys: DecryptionKeySet, alg: str) -> dict[str, Any]:
    kty = KEY_MANAGEMENT[alg].kty
    return next(dict(j) for j in keys.jwks()["keys"] if j["kty"] == kty)


@pytest.fixture
def jwe_verifier(
    clock: FakeClock, keyring: KeyRing, enc_keys: DecryptionKeySet
) -> Callable[..., Verifier]:
    def _make(**policy: Any) -> Verifier:
        options: dict[str, Any] = {"keys": enc_keys, "algorithms": ALGS, "encryption": ENCS}
        options.update(policy)
        return Verifier(
            GuardConfig(
                algorithms=["ES256"],
                keys=StaticKeySet.from_pem(public_pem(keyring.p256), kid="sig-1"),
                issuer=ISSUER,
                audience=AUDIENCE,
                clock=clock,
                jwe=JWEPolicy(**options),
            )
        )

    return _make


def _jws(keyring: KeyRing, **overrides: Any) -> str:
    return sign(
        {"alg": "ES256", "kid": "sig-1", "typ": "at+jwt"}, claims(**overrides), keyring.p256
    )


def _nested(
    keys: DecryptionKeySet, jws: str, alg: str = "ECDH-ES+A256KW", enc: str = "A256GCM"
) -> str:
    return encrypt_nested(jws, _recipient(keys, alg), alg, enc)


def _reheader(token: str, **changes: Any) -> str:
    """The token with its protected header changed (the tag then no longer matches)."""
    parts = token.split(".")
    header = json.loads(b64url_decode(parts[0]))
    header.update(changes)
    header = {k: v for k, v in header.items() if v is not None}
    parts[0] = b64url_encode(json.dumps(header).encode())
    return ".".join(parts)


# -- accepted


@pytest.mark.parametrize("alg", ALGS)
@pytest.mark.parametrize("enc", ENCS)
def test_nested_jwe_of_every_supported_pair_is_accepted(
    alg: str,
    enc: str,
    jwe_verifier: Callable[..., Verifier],
    enc_keys: DecryptionKeySet,
    keyring: KeyRing,
) -> None:
    token = _nested(enc_keys, _jws(keyring), alg, enc)
    result = jwe_verifier(algorithms=[alg], encryption=[enc]).verify(token)
    assert result.subject == "user-1"
    assert result.algorithm == "ES256"
    assert result.kid == "sig-1"


async def test_averify_decrypts_too(
    jwe_verifier: Callable[..., Verifier], enc_keys: DecryptionKeySet, keyring: KeyRing
) -> None:
    result = await jwe_verifier().averify(_nested(enc_keys, _jws(keyring)))
    assert result.subject == "user-1"


@pytest.mark.parametrize("cty", ["JWT", "jwt", "application/jwt", "application/JWT"])
def test_cty_jwt_is_accepted_in_every_spelling(
    cty: str, jwe_verifier: Callable[..., Verifier], enc_keys: DecryptionKeySet, keyring: KeyRing
) -> None:
    recipient = RecipientKey.from_jwk(_recipient(enc_keys, "ECDH-ES"), alg="ECDH-ES", enc="A256GCM")
    token = encrypt_compact(_jws(keyring).encode(), recipient, headers={"cty": cty})
    assert jwe_verifier().verify(token).subject == "user-1"


def test_plain_jws_is_refused_when_encryption_is_required(
    jwe_verifier: Callable[..., Verifier], keyring: KeyRing
) -> None:
    with pytest.raises(MalformedToken) as info:
        jwe_verifier().verify(_jws(keyring))
    assert info.value.reason == "encryption_required"
    assert info.value.status == 401


def test_plain_jws_is_accepted_when_encryption_is_optional(
    jwe_verifier: Callable[..., Verifier], enc_keys: DecryptionKeySet, keyring: KeyRing
) -> None:
    verifier = jwe_verifier(required=False)
    assert verifier.verify(_jws(keyring)).subject == "user-1"
    assert verifier.verify(_nested(enc_keys, _jws(keyring))).subject == "user-1"


def test_without_a_jwe_policy_a_jwe_is_malformed(
    make_verifier: Callable[..., Verifier], enc_keys: DecryptionKeySet, keyring: KeyRing
) -> None:
    with pytest.raises(MalformedToken, match="JWE"):
        make_verifier().verify(_nested(enc_keys, _jws(keyring)))


# -- the inner JWS goes through the whole pipeline


def test_expired_inner_token_is_rejected_as_expired(
    jwe_verifier: Callable[..., Verifier],
    enc_keys: DecryptionKeySet,
    keyring: KeyRing,
    clock: FakeClock,
) -> None:
    token = _nested(enc_keys, _jws(keyring, exp=int(clock()) - 60))
    with pytest.raises(TokenExpired):
        jwe_verifier().verify(token)


def test_inner_token_with_a_bad_signature_is_rejected(
    jwe_verifier: Callable[..., Verifier], enc_keys: DecryptionKeySet, keyring: KeyRing
) -> None:
    jws = _jws(keyring)
    forged = jws[: jws.rindex(".") + 1] + b64url_encode(bytes(64))
    with pytest.raises(BadSignature) as info:
        jwe_verifier().verify(_nested(enc_keys, forged))
    assert info.value.reason == "bad_signature"


def test_inner_algorithm_must_be_in_the_jws_allowlist(
    jwe_verifier: Callable[..., Verifier], enc_keys: DecryptionKeySet, keyring: KeyRing
) -> None:
    rs256 = sign({"alg": "RS256", "kid": "sig-1"}, claims(), keyring.rsa)
    with pytest.raises(AlgorithmNotAllowed) as info:
        jwe_verifier().verify(_nested(enc_keys, rs256))
    assert info.value.reason == "alg_not_allowed"


def test_unsigned_inner_token_is_refused(
    jwe_verifier: Callable[..., Verifier], enc_keys: DecryptionKeySet
) -> None:
    unsigned = (
        b64url_encode(b'{"alg":"none"}') + "." + b64url_encode(json.dumps(claims()).encode()) + "."
    )
    recipient = RecipientKey.from_jwk(_recipient(enc_keys, "ECDH-ES"), alg="ECDH-ES", enc="A256GCM")
    token = encrypt_compact(unsigned.encode(), recipient, headers={"cty": "JWT"})
    with pytest.raises(AlgorithmNotAllowed):
        jwe_verifier().verify(token)


@pytest.mark.parametrize(
    ("plaintext", "headers"),
    [
        (b"hello", {"cty": "JWT"}),
        (b"a.b.c.d.e", {"cty": "JWT"}),
        ("\u00e9.b.c".encode(), {"cty": "JWT"}),
        (b"a.b.c", {}),
        (b"a.b.c", {"cty": "json"}),
        (b"a.b.c", {"cty": "application/jwt+x"}),
    ],
    ids=["not-a-jws", "a-jwe-inside", "not-ascii", "no-cty", "cty-json", "cty-other"],
)
def test_a_jwe_that_does_not_carry_a_jws_is_malformed(
    plaintext: bytes,
    headers: dict[str, str],
    jwe_verifier: Callable[..., Verifier],
    enc_keys: DecryptionKeySet,
) -> None:
    recipient = RecipientKey.from_jwk(_recipient(enc_keys, "ECDH-ES"), alg="ECDH-ES", enc="A256GCM")
    with pytest.raises(MalformedToken) as info:
        jwe_verifier().verify(encrypt_compact(plaintext, recipient, headers=headers))
    assert info.value.reason == "malformed"


# -- every cryptographic failure is one decryption_failed


def _flip(segment: str) -> str:
    raw = bytearray(b64url_decode(segment))
    raw[len(raw) // 2] ^= 0x01
    return b64url_encode(bytes(raw))


@pytest.mark.parametrize("alg", ALGS)
@pytest.mark.parametrize("part", [1, 2, 3, 4], ids=["encrypted_key", "iv", "ciphertext", "tag"])
def test_any_modified_part_fails_as_decryption_failed(
    alg: str,
    part: int,
    jwe_verifier: Callable[..., Verifier],
    enc_keys: DecryptionKeySet,
    keyring: KeyRing,
) -> None:
    for enc in ("A256GCM", "A128CBC-HS256"):
        parts = _nested(enc_keys, _jws(keyring), alg, enc).split(".")
        if not parts[part]:
            continue  # ECDH-ES (direct) has no encrypted key
        parts[part] = _flip(parts[part])
        with pytest.raises(DecryptionFailed) as info:
            jwe_verifier().verify(".".join(parts))
        assert (info.value.reason, info.value.error, info.value.status) == (
            "decryption_failed",
            "invalid_token",
            401,
        )
        assert str(info.value) == "decryption_failed: the encrypted token does not decrypt"


def test_decryption_failed_is_logged_at_warning_like_a_bad_signature(
    jwe_verifier: Callable[..., Verifier],
    enc_keys: DecryptionKeySet,
    keyring: KeyRing,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A JWE that does not decrypt is a tampered token or a probe (padding
    # oracle, invalid curve), not a stale client: operators should see it.
    parts = _nested(enc_keys, _jws(keyring)).split(".")
    parts[4] = _flip(parts[4])
    caplog.set_level(logging.DEBUG, logger="jwt_guard")
    with pytest.raises(DecryptionFailed):
        jwe_verifier().verify(".".join(parts))
    (record,) = [r for r in caplog.records if r.name == "jwt_guard.security"]
    assert record.reason == "decryption_failed"  # type: ignore[attr-defined]
    assert record.levelno == logging.WARNING
    assert record.getMessage().startswith("token rejected")


def test_modified_protected_header_fails_at_the_tag(
    jwe_verifier: Callable[..., Verifier], enc_keys: DecryptionKeySet, keyring: KeyRing
) -> None:
    token = _reheader(_nested(enc_keys, _jws(keyring)), typ="JWT")
    with pytest.raises(DecryptionFailed):
        jwe_verifier().verify(token)


def test_oaep_padding_and_tag_failures_cannot_be_told_apart(
    jwe_verifier: Callable[..., Verifier], enc_keys: DecryptionKeySet, keyring: KeyRing
) -> None:
    parts = _nested(enc_keys, _jws(keyring), "RSA-OAEP-256", "A256GCM").split(".")
    bad_key = parts.copy()
    bad_key[1] = b64url_encode(bytes(256))  # not an OAEP encoding at all
    bad_tag = parts.copy()
    bad_tag[4] = _flip(parts[4])
    short_key = parts.copy()
    short_key[1] = b64url_encode(b"\x01")
    errors = []
    for variant in (bad_key, bad_tag, short_key):
        with pytest.raises(TokenError) as info:
            jwe_verifier().verify(".".join(variant))
        errors.append((type(info.value), info.value.reason, info.value.detail, info.value.status))
    assert len(set(errors)) == 1
    assert errors[0][1] == "decryption_failed"


def test_a_jwe_for_another_key_fails_as_decryption_failed(
    jwe_verifier: Callable[..., Verifier], enc_keys: DecryptionKeySet, keyring: KeyRing
) -> None:
    other = DecryptionKey.from_key(ec.generate_private_key(ec.SECP256R1()), kid="enc-ec")
    token = encrypt_nested(_jws(keyring), dict(other.public_jwk), "ECDH-ES+A256KW", "A256GCM")
    with pytest.raises(DecryptionFailed):
        jwe_verifier().verify(token)


def test_a_decryption_failure_is_a_security_event(
    jwe_verifier: Callable[..., Verifier],
    enc_keys: DecryptionKeySet,
    keyring: KeyRing,
    recorded_events: list[Any],
) -> None:
    parts = _nested(enc_keys, _jws(keyring)).split(".")
    parts[4] = _flip(parts[4])
    with pytest.raises(DecryptionFailed):
        jwe_verifier().verify(".".join(parts))
    assert [e.reason for e in named(recorded_events, "token_rejected")] == ["decryption_failed"]


# -- the ephemeral key


def _off_curve_epk(crv: str = "P-256") -> dict[str, str]:
    point = ec.generate_private_key(ec.SECP256R1()).public_key().public_numbers()
    return {
        "kty": "EC",
        "crv": crv,
        "x": b64url_encode(point.x.to_bytes(32, "big")),
        "y": b64url_encode(((point.y + 1) % (2**256)).to_bytes(32, "big")),
    }


@pytest.mark.parametrize("alg", ["ECDH-ES", "ECDH-ES+A128KW"])
def test_an_ephemeral_key_off_the_curve_is_refused(
    alg: str, jwe_verifier: Callable[..., Verifier], enc_keys: DecryptionKeySet, keyring: KeyRing
) -> None:
    """The invalid-curve attack: a point off P-256 leaks the private key a few bits a token."""
    token = _reheader(_nested(enc_keys, _jws(keyring), alg), epk=_off_curve_epk())
    with pytest.raises(DecryptionFailed):
        jwe_verifier().verify(token)


@pytest.mark.parametrize(
    "epk",
    [
        None,
        "not an object",
        {"kty": "OKP", "crv": "X25519", "x": "AAAA"},
        {"kty": "EC", "crv": "P-384", "x": b64url_encode(bytes(48)), "y": b64url_encode(bytes(48))},
        {"kty": "EC", "crv": "P-256", "x": b64url_encode(bytes(31)), "y": b64url_encode(bytes(32))},
        {"kty": "EC", "crv": "P-256", "x": "!", "y": "!"},
        {"kty": "EC", "crv": "P-256", "x": 1, "y": 2},
    ],
    ids=["missing", "string", "okp", "other-curve", "short-x", "not-base64url", "numbers"],
)
def test_a_bad_ephemeral_key_is_one_decryption_failure(
    epk: Any, jwe_verifier: Callable[..., Verifier], enc_keys: DecryptionKeySet, keyring: KeyRing
) -> None:
    token = _reheader(_nested(enc_keys, _jws(keyring), "ECDH-ES"), epk=epk)
    with pytest.raises(DecryptionFailed):
        jwe_verifier().verify(token)


def test_direct_agreement_with_an_encrypted_key_is_refused(
    jwe_verifier: Callable[..., Verifier], enc_keys: DecryptionKeySet, keyring: KeyRing
) -> None:
    parts = _nested(enc_keys, _jws(keyring), "ECDH-ES").split(".")
    parts[1] = b64url_encode(bytes(40))
    with pytest.raises(DecryptionFailed):
        jwe_verifier().verify(".".join(parts))


# -- refused before any work


@pytest.mark.parametrize(
    ("changes", "error", "reason"),
    [
        ({"alg": "RSA1_5"}, AlgorithmNotAllowed, "alg_not_allowed"),
        ({"alg": "PBES2-HS256+A128KW", "p2c": 2**31, "p2s": "AAAAAAAAAAAAAAAAAAAAAA"},
         AlgorithmNotAllowed, "alg_not_allowed"),
        ({"alg": "dir"}, AlgorithmNotAllowed, "alg_not_allowed"),
        ({"alg": "none"}, AlgorithmNotAllowed, "alg_not_allowed"),
        ({"enc": "A256CBC"}, AlgorithmNotAllowed, "alg_not_allowed"),
        ({"zip": "DEF"}, AlgorithmNotAllowed, "alg_not_allowed"),
        ({"jwk": {"kty": "EC"}}, EmbeddedKey, "embedded_key"),
        ({"jku": "https://attacker.example/jwks"}, EmbeddedKey, "embedded_key"),
        ({"x5u": "https://attacker.example/cert"}, EmbeddedKey, "embedded_key"),
        ({"crit": ["exp"]}, UnknownCrit, "unknown_crit"),
        ({"kid": 7}, MalformedToken, "malformed"),
        ({"kid": "k" * 257}, MalformedToken, "malformed"),
        ({"alg": None}, MalformedToken, "malformed"),
        ({"enc": None}, MalformedToken, "malformed"),
        ({"kid": "unknown"}, UnknownKid, "unknown_kid"),
    ],
    ids=[
        "rsa1_5", "pbes2-iteration-bomb", "dir", "none", "unknown-enc", "zip", "jwk", "jku",
        "x5u", "crit", "kid-number", "kid-long", "no-alg", "no-enc", "unknown-kid",
    ],
)  # fmt: skip
def test_header_refusals_happen_before_any_decryption(
    changes: dict[str, Any],
    error: type[TokenError],
    reason: str,
    jwe_verifier: Callable[..., Verifier],
    enc_keys: DecryptionKeySet,
    keyring: KeyRing,
) -> None:
    token = _reheader(_nested(enc_keys, _jws(keyring)), **changes)
    with pytest.raises(error) as info:
        jwe_verifier().verify(token)
    assert info.value.reason == reason
    assert info.value.status == 401


def test_an_allowed_alg_outside_this_policy_is_refused(
    jwe_verifier: Callable[..., Verifier], enc_keys: DecryptionKeySet, keyring: KeyRing
) -> None:
    token = _nested(enc_keys, _jws(keyring), "RSA-OAEP-256", "A128CBC-HS256")
    with pytest.raises(AlgorithmNotAllowed):
        jwe_verifier(algorithms=["ECDH-ES+A256KW"]).verify(token)
    with pytest.raises(AlgorithmNotAllowed):
        jwe_verifier(encryption=["A256GCM"]).verify(token)


def test_an_oversized_jwe_is_refused_before_decoding(
    jwe_verifier: Callable[..., Verifier], enc_keys: DecryptionKeySet, keyring: KeyRing
) -> None:
    token = _nested(enc_keys, _jws(keyring, pad="x" * 9000))
    with pytest.raises(TokenTooLarge):
        jwe_verifier().verify(token)
    with pytest.raises(TokenTooLarge):
        jwe_verifier().verify("!" * 9000 + "....")


@pytest.mark.parametrize(
    "token",
    ["a.b.c.d", "a.b.c.d.e.f", "\u00e9.b.c.d.e", "!!.b.c.d.e", b64url_encode(b"[1]") + ".b.c.d.e"],
    ids=["four-segments", "six-segments", "not-ascii", "header-not-base64url", "header-array"],
)
def test_misshapen_jwe_is_malformed(token: str, jwe_verifier: Callable[..., Verifier]) -> None:
    with pytest.raises(MalformedToken):
        jwe_verifier().verify(token)


@pytest.mark.parametrize("segment", ["!", "A"], ids=["not-base64url", "impossible-length"])
def test_bad_base64url_after_the_header_is_a_decryption_failure(
    segment: str,
    jwe_verifier: Callable[..., Verifier],
    enc_keys: DecryptionKeySet,
    keyring: KeyRing,
) -> None:
    parts = _nested(enc_keys, _jws(keyring)).split(".")
    for index in (1, 2, 3, 4):
        changed = parts.copy()
        changed[index] = segment
        with pytest.raises(DecryptionFailed):
            jwe_verifier().verify(".".join(changed))


# -- configuration


def _policy(enc_keys: DecryptionKeySet, **changes: Any) -> JWEPolicy:
    options: dict[str, Any] = {
        "keys": enc_keys,
        "algorithms": ["ECDH-ES"],
        "encryption": ["A256GCM"],
    }
    options.update(changes)
    return JWEPolicy(**options)


@pytest.mark.parametrize(
    ("changes", "setting", "message"),
    [
        ({"algorithms": None}, "jwe.algorithms", "give a list"),
        ({"algorithms": []}, "jwe.algorithms", "empty"),
        ({"algorithms": "ECDH-ES"}, "jwe.algorithms", "give a list"),
        ({"algorithms": ["RSA1_5"]}, "jwe.algorithms", "Bleichenbacher"),
        ({"algorithms": ["PBES2-HS512+A256KW"]}, "jwe.algorithms", "CVE-2023-50967"),
        ({"algorithms": ["A256KW"]}, "jwe.algorithms", "not supported"),
        ({"algorithms": ["RSA-OAEP"]}, "jwe.algorithms", "not supported"),
        ({"encryption": None}, "jwe.encryption", "give a list"),
        ({"encryption": ["A256CBC"]}, "jwe.encryption", "not supported"),
        ({"keys": "secret"}, "jwe.keys", "DecryptionKeySet"),
        ({"required": "yes"}, "jwe.required", "True or False"),
    ],
)
def test_policy_is_validated_at_start_up(
    changes: dict[str, Any], setting: str, message: str, enc_keys: DecryptionKeySet
) -> None:
    with pytest.raises(ConfigurationError, match=message) as info:
        _policy(enc_keys, **changes)
    assert info.value.setting == setting


def test_policy_whose_algorithms_fit_no_key_is_refused() -> None:
    rsa_only = DecryptionKeySet([DecryptionKey.from_key(rsa.generate_private_key(65537, 2048))])
    with pytest.raises(ConfigurationError, match="no decryption key"):
        _policy(rsa_only, algorithms=["ECDH-ES"])


def test_guard_config_takes_only_a_jwe_policy(keyring: KeyRing) -> None:
    with pytest.raises(ConfigurationError) as info:
        GuardConfig(
            algorithms=["ES256"],
            keys=StaticKeySet.from_pem(public_pem(keyring.p256)),
            issuer=ISSUER,
            audience=AUDIENCE,
            jwe={"keys": "x"},  # type: ignore[arg-type]
        )
    assert info.value.setting == "jwe"


# -- decryption keys


def _private_jwk(key: Any) -> dict[str, Any]:
    from jwcrypto import jwk  # type: ignore[import-untyped]

    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return dict(json.loads(jwk.JWK.from_pem(pem).export_private()))


def test_private_jwks_loads_and_publishes_only_public_halves(keyring: KeyRing) -> None:
    pytest.importorskip("jwcrypto")
    jwks = {"keys": [{**_private_jwk(keyring.rsa), "kid": "r", "use": "enc", "alg": "RSA-OAEP-256"},
                     {**_private_jwk(keyring.p384), "kid": "e"}]}  # fmt: skip
    keys = DecryptionKeySet.from_jwks(jwks)
    published = keys.jwks()["keys"]
    assert [k["kid"] for k in published] == ["r", "e"]
    assert all(k["use"] == "enc" for k in published)
    assert published[0]["alg"] == "RSA-OAEP-256"
    assert "alg" not in published[1]  # an EC key serves every ECDH-ES variant
    assert not any(m in k for k in published for m in ("d", "p", "q", "dp", "dq", "qi"))
    # Without the CRT members the primes are recovered from n, e and d.
    bare = {m: jwks["keys"][0][m] for m in ("kty", "n", "e", "d")}
    assert DecryptionKeySet.from_jwks({"keys": [bare]}).keys[0].kty == "RSA"


@pytest.mark.parametrize(
    ("jwk", "message"),
    [
        ({"kty": "oct", "k": "AAAA"}, "cannot decrypt"),
        # X25519 decrypts (ECDH-ES, RFC 8037); a public-only JWK cannot.
        ({"kty": "OKP", "crv": "X25519", "x": "AAAA"}, "no private key d"),
        ({"kty": "OKP", "crv": "X25519", "d": "AAAA"}, "32 bytes"),
        ({"kty": "OKP", "crv": "Ed25519", "x": "AAAA", "d": "AAAA"}, "crv X25519"),
        ({"kty": "OKP", "crv": "X25519", "alg": "RSA-OAEP-256"}, "not a key-management"),
        ({"kty": "RSA", "n": "AQAB", "e": "AQAB"}, "no private exponent"),
        ({"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}, "no private scalar"),
        ({"kty": "EC", "crv": "secp256k1", "x": "AA", "y": "AA", "d": "AA"}, "P-256"),
        ({"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA", "d": "AA"}, "invalid"),
        ({"kty": "RSA", "use": "sig"}, "only 'enc'"),
        ({"kty": "EC", "key_ops": ["sign"]}, "key_ops"),
        ({"kty": "EC", "key_ops": [{}]}, "key_ops"),
        ({"kty": "RSA", "alg": "RSA1_5"}, "never accepted"),
        ({"kty": "RSA", "alg": "ECDH-ES"}, "not a key-management algorithm"),
        ({"kty": "RSA", "kid": 3}, "kid must be a string"),
        ("not a key", "JSON object"),
    ],
)
def test_bad_decryption_keys_are_refused(jwk: Any, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        DecryptionKeySet.from_jwks({"keys": [jwk]})


def test_weak_and_foreign_private_keys_are_refused(keyring: KeyRing) -> None:
    with pytest.raises(KeyRejected, match="2048"):
        DecryptionKey.from_key(rsa.generate_private_key(65537, 1024))
    with pytest.raises(KeyRejected, match="not an RSA, EC or X25519 private key"):
        DecryptionKey.from_key(keyring.ed25519)
    with pytest.raises(KeyRejected, match="P-256"):
        DecryptionKey.from_key(ec.generate_private_key(ec.SECP256K1()))
    with pytest.raises(KeyRejected, match="key-management"):
        DecryptionKey.from_key(keyring.rsa, algorithms=["ECDH-ES"])


def test_pem_private_key_loads(keyring: KeyRing) -> None:
    pem = keyring.p256.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    keys = DecryptionKeySet.from_pem(pem, kid="pem", algorithms=["ECDH-ES+A128KW"])
    assert keys.jwks()["keys"][0]["alg"] == "ECDH-ES+A128KW"
    with pytest.raises(ConfigurationError, match="not a private key"):
        DecryptionKeySet.from_pem(public_pem(keyring.p256))
    sealed = keyring.rsa.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pem passphrase 123"),
    )
    keys = DecryptionKeySet.from_pem(sealed, password=b"pem passphrase 123")
    assert keys.keys[0].algorithms == frozenset({"RSA-OAEP-256"})
    with pytest.raises(ConfigurationError, match="not a private key"):
        DecryptionKeySet.from_pem(sealed, password=b"wrong passphrase 12")


def test_key_set_rules(enc_keys: DecryptionKeySet) -> None:
    with pytest.raises(ConfigurationError, match="empty"):
        DecryptionKeySet([])
    with pytest.raises(ConfigurationError, match="duplicate kid"):
        DecryptionKeySet([enc_keys.keys[0], enc_keys.keys[0]])
    with pytest.raises(ConfigurationError, match="not valid JSON"):
        DecryptionKeySet.from_jwks("{")
    with pytest.raises(ConfigurationError, match='"keys" list'):
        DecryptionKeySet.from_jwks({"keys": {}})


def test_without_kid_exactly_one_key_must_fit(enc_keys: DecryptionKeySet) -> None:
    assert enc_keys.get(None, "RSA-OAEP-256").kid == "enc-rsa"
    two_ec = DecryptionKeySet(
        [DecryptionKey.from_key(ec.generate_private_key(ec.SECP256R1()), kid=k) for k in "ab"]
    )
    with pytest.raises(UnknownKid):
        two_ec.get(None, "ECDH-ES")


# -- recipients (issuing side)


def test_recipient_key_refuses_private_members_and_mismatches(
    keyring: KeyRing, enc_keys: DecryptionKeySet
) -> None:
    ec_jwk = _recipient(enc_keys, "ECDH-ES")
    with pytest.raises(ConfigurationError, match="private"):
        RecipientKey.from_jwk({**ec_jwk, "d": "AAAA"}, alg="ECDH-ES", enc="A256GCM")
    with pytest.raises(ConfigurationError, match="needs a RSA key"):
        RecipientKey.from_jwk(ec_jwk, alg="RSA-OAEP-256", enc="A256GCM")
    with pytest.raises(ConfigurationError, match="Bleichenbacher"):
        RecipientKey.from_jwk(ec_jwk, alg="RSA1_5", enc="A256GCM")
    with pytest.raises(ConfigurationError, match="not supported"):
        RecipientKey.from_jwk(ec_jwk, alg="ECDH-ES", enc="A512GCM")
    with pytest.raises(ConfigurationError, match="use"):
        RecipientKey.from_jwk({**ec_jwk, "use": "sig"}, alg="ECDH-ES", enc="A256GCM")
    with pytest.raises(ConfigurationError, match="three segments"):
        encrypt_nested("a.b", ec_jwk, "ECDH-ES", "A256GCM")


# -- fuzzed headers: a TokenError, never another exception

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)
_EPK = st.fixed_dictionaries(
    {},
    optional={
        "kty": st.sampled_from(["EC", "OKP", "RSA"]) | _JSON,
        "crv": st.sampled_from(["P-256", "P-384", "P-521", "X25519"]) | _JSON,
        "x": st.binary(max_size=70).map(b64url_encode) | _JSON,
        "y": st.binary(max_size=70).map(b64url_encode) | _JSON,
    },
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    header=st.fixed_dictionaries(
        {"alg": st.sampled_from(ALGS), "enc": st.sampled_from(ENCS)},
        optional={
            "epk": _EPK | _JSON,
            "apu": st.binary(max_size=40).map(b64url_encode) | _JSON,
            "apv": st.binary(max_size=40).map(b64url_encode) | _JSON,
            "kid": st.sampled_from(["enc-ec", "enc-rsa"]) | _JSON,
            "cty": st.just("JWT") | _JSON,
        },
    ),
    segments=st.lists(st.binary(max_size=300).map(b64url_encode), min_size=4, max_size=4),
)
def test_fuzzed_jwe_is_refused_with_a_token_error(
    header: dict[str, Any], segments: list[str], jwe_verifier: Callable[..., Verifier]
) -> None:
    token = ".".join([b64url_encode(json.dumps(header).encode()), *segments])
    with pytest.raises(TokenError):
        jwe_verifier().verify(token)
