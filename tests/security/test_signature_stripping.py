"""Stripped, truncated and tampered signatures.

A verifier must never treat a missing or short signature as "nothing to
check" (the 2015 JWT library bugs), and strict base64url means a signature
segment has exactly one accepted spelling (RFC 7515 section 2).
"""

from __future__ import annotations

import base64
import logging

import pytest

from jwt_guard_core import BadSignature, MalformedToken
from jwt_guard_core.encoding import b64url_decode, b64url_encode
from tests.factories import claims, sign


@pytest.fixture
def token(keyring) -> str:
    return sign({"alg": "RS256", "kid": "rsa-1"}, claims(sub="admin"), keyring.rsa)


def _with_signature(token: str, signature: str) -> str:
    head, payload, _ = token.split(".")
    return f"{head}.{payload}.{signature}"


def _sig(token: str) -> bytes:
    return b64url_decode(token.rsplit(".", 1)[1])


def test_untouched_token_is_accepted(make_verifier, token, rejects):
    assert rejects.accepts(make_verifier(), token).subject == "admin"


def test_stripped_signature_with_trailing_dot_is_rejected_as_malformed(
    make_verifier, token, rejects
):
    rejects(
        make_verifier(),
        _with_signature(token, ""),
        MalformedToken,
        "malformed",
        level=logging.WARNING,
        alg="RS256",
        kid="rsa-1",
    )


def test_signature_segment_removed_entirely_is_rejected_as_malformed(make_verifier, token, rejects):
    rejects(make_verifier(), token.rsplit(".", 1)[0], MalformedToken, "malformed")


@pytest.mark.parametrize("keep", [0, 1, 2, 32, 128, 255])
def test_truncated_signature_is_rejected_with_bad_signature(make_verifier, token, rejects, keep):
    truncated = b64url_encode(_sig(token)[:keep]) or "AA"
    rejects(
        make_verifier(),
        _with_signature(token, truncated),
        BadSignature,
        "bad_signature",
        level=logging.WARNING,
        alg="RS256",
        kid="rsa-1",
    )


def test_signature_truncated_by_one_character_is_rejected_as_malformed(
    make_verifier, token, rejects
):
    # 342 -> 341 characters leaves a length that no byte string encodes to,
    # or non-zero trailing bits: not canonical base64url either way.
    rejects(make_verifier(), token[:-1], MalformedToken, "malformed")


def test_signature_with_extra_bytes_is_rejected_with_bad_signature(make_verifier, token, rejects):
    longer = b64url_encode(_sig(token) + b"\x00")
    rejects(make_verifier(), _with_signature(token, longer), BadSignature, "bad_signature")


def test_signature_with_leading_zero_byte_is_rejected_with_bad_signature(
    make_verifier, token, rejects
):
    longer = b64url_encode(b"\x00" + _sig(token))
    rejects(make_verifier(), _with_signature(token, longer), BadSignature, "bad_signature")


@pytest.mark.parametrize("position", [0, 100, 255])
def test_signature_with_one_flipped_bit_is_rejected_with_bad_signature(
    make_verifier, token, rejects, position
):
    sig = bytearray(_sig(token))
    sig[position] ^= 0x01
    rejects(
        make_verifier(),
        _with_signature(token, b64url_encode(bytes(sig))),
        BadSignature,
        "bad_signature",
    )


@pytest.mark.parametrize("filler", [b"\x00" * 256, b"\xff" * 256, b"\x00"])
def test_all_zero_or_all_one_signature_is_rejected_with_bad_signature(
    make_verifier, token, rejects, filler
):
    rejects(
        make_verifier(),
        _with_signature(token, b64url_encode(filler)),
        BadSignature,
        "bad_signature",
    )


def test_signature_of_another_payload_is_rejected_with_bad_signature(
    make_verifier, keyring, token, rejects
):
    other = sign({"alg": "RS256", "kid": "rsa-1"}, claims(sub="someone-else"), keyring.rsa)
    rejects(
        make_verifier(),
        _with_signature(token, other.rsplit(".", 1)[1]),
        BadSignature,
        "bad_signature",
    )


def test_payload_swapped_under_a_valid_signature_is_rejected_with_bad_signature(
    make_verifier, keyring, token, rejects
):
    head, _, sig = token.split(".")
    payload = sign({"alg": "RS256"}, claims(sub="root"), keyring.rsa).split(".")[1]
    rejects(make_verifier(), f"{head}.{payload}.{sig}", BadSignature, "bad_signature")


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda s: s + "==", id="padding"),
        pytest.param(
            lambda s: s.replace("-", "+").replace("_", "/") + "+/", id="standard-alphabet"
        ),
        pytest.param(lambda s: s[:100] + "\n" + s[100:], id="newline"),
        pytest.param(lambda s: s[:100] + " " + s[100:], id="space"),
        pytest.param(lambda s: s + "%3D", id="percent-encoded"),
    ],
)
def test_non_canonical_signature_encoding_is_rejected_as_malformed(
    make_verifier, token, rejects, mangle
):
    sig = token.rsplit(".", 1)[1]
    rejects(
        make_verifier(),
        _with_signature(token, mangle(sig)),
        MalformedToken,
        "malformed",
        level=logging.WARNING,
    )


def test_signature_with_non_zero_trailing_bits_is_rejected_as_malformed(
    make_verifier, token, rejects
):
    # 256 bytes encode to 342 characters with 4 unused bits in the last one;
    # setting them gives a second spelling of the same bytes.
    sig = token.rsplit(".", 1)[1]
    assert len(sig) % 4 == 2
    last = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    twin = sig[:-1] + last[last.index(sig[-1]) + 1]
    # A lenient decoder (Python's own) reads both spellings as the same bytes.
    assert base64.urlsafe_b64decode(twin + "==") == _sig(token)
    rejects(make_verifier(), _with_signature(token, twin), MalformedToken, "malformed")
