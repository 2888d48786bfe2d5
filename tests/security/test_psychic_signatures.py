"""Psychic ECDSA signatures (CVE-2022-21449) and out-of-range r, s.

Java 15-18 accepted the ECDSA signature r = s = 0 for any message and key.
RFC 7518 section 3.4 signatures are R || S; ECDSA requires 1 <= r, s <= n-1
where n is the curve's group order. Every value of 0 or n, for each curve,
must be a bad signature, not an exception and not an acceptance.
"""

from __future__ import annotations

import logging

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from jwt_guard_core import BadSignature, GuardConfig, StaticKeySet, Verifier
from jwt_guard_core.encoding import b64url_decode, b64url_encode
from tests.factories import AUDIENCE, ISSUER, claims, public_pem, sign

# Group orders from SEC 2 (secp256r1, secp384r1, secp521r1), written out so
# the tests do not trust the library under test for them.
ORDERS = {
    "ES256": int("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551", 16),
    "ES384": int(
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77A"
        "ECEC196ACCC52973",
        16,
    ),
    "ES512": int(
        "01FF" + "FFFFFFFF" * 7 + "FFFFFFFA"
        "51868783BF2F966B7FCC0148F709A5D03BB5C9B8899C47AEBB6FB71E91386409",
        16,
    ),
}
SIZES = {"ES256": 32, "ES384": 48, "ES512": 66}
CURVE_KEY = {"ES256": "p256", "ES384": "p384", "ES512": "p521"}
HASHES = {"ES256": hashes.SHA256(), "ES384": hashes.SHA384(), "ES512": hashes.SHA512()}
ALGS = list(ORDERS)


@pytest.fixture
def ec_verifier(keyring, clock):
    def _make(alg: str) -> Verifier:
        key = getattr(keyring, CURVE_KEY[alg])
        return Verifier(
            GuardConfig(
                algorithms=[alg],
                keys=StaticKeySet.from_pem(public_pem(key), kid="ec-1"),
                issuer=ISSUER,
                audience=AUDIENCE,
                clock=clock,
            )
        )

    return _make


def _genuine(keyring, alg: str) -> tuple[str, int, int]:
    token = sign({"alg": alg, "kid": "ec-1"}, claims(sub="admin"), getattr(keyring, CURVE_KEY[alg]))
    raw = b64url_decode(token.rsplit(".", 1)[1])
    size = SIZES[alg]
    return token, int.from_bytes(raw[:size], "big"), int.from_bytes(raw[size:], "big")


def _with_rs(token: str, alg: str, r: int, s: int) -> str:
    size = SIZES[alg]
    sig = r.to_bytes(size, "big") + s.to_bytes(size, "big")
    return token.rsplit(".", 1)[0] + "." + b64url_encode(sig)


@pytest.mark.parametrize("alg", ALGS)
def test_curve_order_constants_are_the_real_group_orders(keyring, alg):
    # (r, n - s) is the other valid signature of the same message: it only
    # verifies if n is the group order, so the constants above are right.
    key = getattr(keyring, CURVE_KEY[alg])
    r, s = decode_dss_signature(key.sign(b"message", ec.ECDSA(HASHES[alg])))
    twin = encode_dss_signature(r, ORDERS[alg] - s)
    key.public_key().verify(twin, b"message", ec.ECDSA(HASHES[alg]))
    assert ORDERS[alg].bit_length() == key.curve.key_size


@pytest.mark.parametrize("alg", ALGS)
def test_genuine_ecdsa_token_is_accepted(ec_verifier, keyring, rejects, alg):
    token, _, _ = _genuine(keyring, alg)
    assert rejects.accepts(ec_verifier(alg), token).subject == "admin"


PSYCHIC = [
    ("zero", "zero"),
    ("zero", "valid"),
    ("valid", "zero"),
    ("n", "n"),
    ("n", "valid"),
    ("valid", "n"),
    ("zero", "n"),
    ("n", "zero"),
]


@pytest.mark.parametrize(("r_kind", "s_kind"), PSYCHIC)
@pytest.mark.parametrize("alg", ALGS)
def test_r_or_s_equal_to_zero_or_the_curve_order_is_rejected_with_bad_signature(
    ec_verifier, keyring, rejects, alg, r_kind, s_kind
):
    token, r, s = _genuine(keyring, alg)
    pick = {"zero": 0, "n": ORDERS[alg]}
    forged = _with_rs(token, alg, pick.get(r_kind, r), pick.get(s_kind, s))
    rejects(
        ec_verifier(alg),
        forged,
        BadSignature,
        "bad_signature",
        level=logging.WARNING,
        alg=alg,
        kid="ec-1",
    )


@pytest.mark.parametrize("alg", ALGS)
def test_r_and_s_above_the_curve_order_are_rejected_with_bad_signature(
    ec_verifier, keyring, rejects, alg
):
    token, r, s = _genuine(keyring, alg)
    top = 2 ** (8 * SIZES[alg]) - 1  # all-ones field: above n on every curve
    for forged in (_with_rs(token, alg, top, s), _with_rs(token, alg, r, top)):
        rejects(ec_verifier(alg), forged, BadSignature, "bad_signature")


def test_r_plus_n_is_not_accepted_as_r_on_p521(ec_verifier, keyring, rejects):
    # Some verifiers reduce r mod n, so r + n would alias r. Only P-521's
    # 66-byte field has room for r + n (on P-256/P-384 it overflows the field).
    token, r, s = _genuine(keyring, "ES512")
    forged = _with_rs(token, "ES512", r + ORDERS["ES512"], s)
    rejects(ec_verifier("ES512"), forged, BadSignature, "bad_signature")
    forged = _with_rs(token, "ES512", r, s + ORDERS["ES512"])
    rejects(ec_verifier("ES512"), forged, BadSignature, "bad_signature")


@pytest.mark.parametrize("alg", ALGS)
def test_der_encoded_signature_is_rejected_with_bad_signature(ec_verifier, keyring, rejects, alg):
    # RFC 7518 section 3.4 wants raw R || S; a DER signature is the wrong shape.
    token, r, s = _genuine(keyring, alg)
    der = encode_dss_signature(r, s)
    forged = token.rsplit(".", 1)[0] + "." + b64url_encode(der)
    rejects(ec_verifier(alg), forged, BadSignature, "bad_signature")


@pytest.mark.parametrize("alg", ALGS)
@pytest.mark.parametrize("delta", [-1, 1])
def test_signature_one_byte_off_the_curve_size_is_rejected_with_bad_signature(
    ec_verifier, keyring, rejects, alg, delta
):
    token, _, _ = _genuine(keyring, alg)
    raw = b64url_decode(token.rsplit(".", 1)[1])
    sig = raw[:delta] if delta < 0 else raw + b"\x00"
    forged = token.rsplit(".", 1)[0] + "." + b64url_encode(sig)
    rejects(ec_verifier(alg), forged, BadSignature, "bad_signature")
