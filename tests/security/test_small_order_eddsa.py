"""Small-order and non-canonical EdDSA public keys are refused when a key set is built.

With a small-order Ed25519 public key (32 zero bytes is the order-4 point
(sqrt(-1), 0)), the signature R = identity, S = 0 satisfies the
verification equation [S]B = R + [k]A for every message whose k is a
multiple of 4: one token in four, forged by anyone. The key is refused in a
static set (JWK or PEM) and skipped in a remote JWKS, so such a token finds
no key. Ed448's small-order points and every non-canonical encoding are
refused the same way.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed448, ed25519

from jwt_guard_core import ConfigurationError, GuardConfig, StaticKeySet, UnknownKid, Verifier
from jwt_guard_core.encoding import b64url_encode
from jwt_guard_core.keys import KeyRejected, key_from_jwk
from tests.core.remote_servers import named, public_jwk
from tests.factories import AUDIENCE, ISSUER, KeyRing, claims
from tests.security.helpers import Rejects

pytest_plugins = ["tests.core.remote_fixtures"]

P25519 = 2**255 - 19
P448 = 2**448 - 2**224 - 1

# libsodium's blocklist (ed25519_ref10.c, ge25519_has_small_order): the
# torsion points' y-coordinates, canonical and p + y, compared without the
# sign bit; both sign bits are tested below.
ED25519_SMALL_ORDER = {
    "order-4-y0": "0000000000000000000000000000000000000000000000000000000000000000",
    "identity": "0100000000000000000000000000000000000000000000000000000000000000",
    "order-8-a": "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "order-8-b": "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "order-2": "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "p-is-0": "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "p+1-is-1": "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
}


def _with_sign(encoding: bytes, sign: int) -> bytes:
    return encoding[:-1] + bytes([encoding[-1] & 0x7F | (sign << 7)])


def _ed25519_cases() -> dict[str, bytes]:
    cases = {}
    for name, hexed in ED25519_SMALL_ORDER.items():
        for sign in (0, 1):
            cases[f"{name}-sign{sign}"] = _with_sign(bytes.fromhex(hexed), sign)
    for y in (P25519 + 2, P25519 + 10, 2**255 - 1):  # other y >= p: not canonical
        cases[f"y=p+{y - P25519}"] = y.to_bytes(32, "little")
    return cases


def _ed448(y: int, last: int = 0) -> bytes:
    return y.to_bytes(56, "little") + bytes([last])


ED448_CASES = {
    "identity": _ed448(1),
    "identity-sign1": _ed448(1, 0x80),
    "order-2": _ed448(P448 - 1),
    "order-2-sign1": _ed448(P448 - 1, 0x80),
    "order-4-x-1": _ed448(0),
    "order-4-x+1": _ed448(0, 0x80),
    "y=p": _ed448(P448),
    "y=p+1": _ed448(P448 + 1),
    "stray-bits": _ed448(2, 0x01),
}
ED25519_CASES = _ed25519_cases()


def _okp(crv: str, raw: bytes, kid: str = "evil") -> dict[str, Any]:
    return {"kty": "OKP", "crv": crv, "x": b64url_encode(raw), "kid": kid}


def _spki_pem(public: Any) -> bytes:
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@pytest.mark.parametrize("raw", ED25519_CASES.values(), ids=ED25519_CASES.keys())
def test_small_order_or_non_canonical_ed25519_keys_are_refused_at_build(raw: bytes) -> None:
    with pytest.raises(ConfigurationError) as info:
        StaticKeySet.from_jwks({"keys": [_okp("Ed25519", raw)]})
    assert info.value.setting == "keys"
    assert "Ed25519 public key" in str(info.value)


@pytest.mark.parametrize("raw", ED448_CASES.values(), ids=ED448_CASES.keys())
def test_small_order_or_non_canonical_ed448_keys_are_refused_at_build(raw: bytes) -> None:
    with pytest.raises(KeyRejected, match="Ed448 public key"):
        key_from_jwk(_okp("Ed448", raw))


def test_a_small_order_key_given_as_pem_is_refused() -> None:
    public = ed25519.Ed25519PublicKey.from_public_bytes(bytes(32))
    with pytest.raises(ConfigurationError, match="small order"):
        StaticKeySet.from_pem(_spki_pem(public), kid="evil")


def test_real_eddsa_keys_still_pass(keyring: KeyRing) -> None:
    for private in (keyring.ed25519, keyring.ed448):
        assert key_from_jwk(public_jwk(private, "good")).kty == "OKP"
    for _ in range(20):
        assert StaticKeySet.from_pem(_spki_pem(ed25519.Ed25519PrivateKey.generate().public_key()))
        assert StaticKeySet.from_pem(_spki_pem(ed448.Ed448PrivateKey.generate().public_key()))


def _forged_token() -> str:
    """The finding's token: sub=admin, signature R = identity || S = 0, one that really verifies."""
    zero_key = ed25519.Ed25519PublicKey.from_public_bytes(bytes(32))
    signature = b"\x01" + bytes(31) + bytes(32)
    header = b64url_encode(json.dumps({"alg": "EdDSA", "kid": "evil"}).encode())
    for n in range(200):
        payload = b64url_encode(json.dumps(claims(sub="admin", jti=f"forged-{n}")).encode())
        signing_input = f"{header}.{payload}"
        try:
            zero_key.verify(signature, signing_input.encode())
        except InvalidSignature:
            continue
        return f"{signing_input}.{b64url_encode(signature)}"
    raise AssertionError("no forgery found in 200 tries (1 in 4 is expected)")


def test_the_forged_token_finds_no_key_in_a_remote_jwks(
    jwks_server: Any,
    make_jwks: Callable[..., Any],
    keyring: KeyRing,
    clock: Any,
    rejects: Rejects,
    seen: list[Any],
) -> None:
    jwks_server.serve_keys(_okp("Ed25519", bytes(32)), public_jwk(keyring.ed25519, "good"))
    verifier = Verifier(
        GuardConfig(
            algorithms=["EdDSA"],
            keys=make_jwks(jwks_server.url()),
            issuer=ISSUER,
            audience=AUDIENCE,
            clock=clock,
        )
    )
    rejects(verifier, _forged_token(), UnknownKid, "unknown_kid", kid="evil")
    skipped = named(seen, "jwks_key_skipped")
    assert skipped
    assert skipped[0].level == logging.WARNING
    assert "small order" in skipped[0].fields["problem"]
