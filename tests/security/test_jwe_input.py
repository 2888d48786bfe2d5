"""JWE-shaped input: five segments, or a JWE header on three.

jwt-guard verifies signed tokens only. A JWE (RFC 7516) handed to it must be
refused as malformed, never decrypted, and never mistaken for a JWS whose
"signature" is the ciphertext. Key-management algorithms in ``alg`` are not
signature algorithms and are refused by the allowlist.
"""

from __future__ import annotations

import json
import logging
import secrets

import pytest

from jwt_guard_core import AlgorithmNotAllowed, MalformedToken
from jwt_guard_core.encoding import b64url_encode
from tests.factories import claims, sign


def _segment(value: bytes) -> str:
    return b64url_encode(value)


def _jwe(header: dict[str, object]) -> str:
    return ".".join(
        [
            _segment(json.dumps(header).encode()),
            _segment(secrets.token_bytes(256)),  # encrypted key
            _segment(secrets.token_bytes(12)),  # IV
            _segment(json.dumps(claims()).encode()),  # "ciphertext"
            _segment(secrets.token_bytes(16)),  # tag
        ]
    )


@pytest.mark.parametrize(
    "header",
    [
        {"alg": "RSA-OAEP", "enc": "A256GCM", "kid": "rsa-1"},
        {"alg": "dir", "enc": "A128CBC-HS256"},
        {"alg": "RS256", "enc": "A256GCM", "kid": "rsa-1"},
        {"alg": "none", "enc": "A256GCM"},
    ],
    ids=["rsa-oaep", "dir", "jws-alg-in-jwe", "alg-none"],
)
def test_five_segment_jwe_is_rejected_as_malformed(make_verifier, rejects, header):
    rejects(make_verifier(), _jwe(header), MalformedToken, "malformed", level=logging.WARNING)


def test_five_segment_jwe_error_says_jwe_is_not_accepted(make_verifier, rejects):
    result = rejects(
        make_verifier(), _jwe({"alg": "RSA-OAEP", "enc": "A256GCM"}), MalformedToken, "malformed"
    )
    assert "JWE" in result.error.detail


def test_five_segments_built_from_a_valid_jws_are_rejected_as_malformed(
    make_verifier, keyring, rejects
):
    token = sign({"alg": "RS256", "kid": "rsa-1"}, claims(), keyring.rsa)
    assert rejects.accepts(make_verifier(), token)
    rejects(make_verifier(), token + "..", MalformedToken, "malformed")
    rejects(make_verifier(), "." + token + ".", MalformedToken, "malformed")


@pytest.mark.parametrize("count", [1, 2, 4, 6, 7])
def test_other_segment_counts_are_rejected_as_malformed(make_verifier, keyring, rejects, count):
    token = sign({"alg": "RS256", "kid": "rsa-1"}, claims(), keyring.rsa)
    parts = token.split(".")
    shaped = ".".join((parts * 3)[:count])
    rejects(make_verifier(), shaped, MalformedToken, "malformed")


@pytest.mark.parametrize(
    "alg", ["RSA-OAEP", "RSA-OAEP-256", "RSA1_5", "A128KW", "dir", "ECDH-ES", "PBES2-HS256+A128KW"]
)
def test_jwe_key_management_alg_on_three_segments_is_rejected_with_alg_not_allowed(
    make_verifier, keyring, rejects, alg
):
    # Signed with the right key so only alg can be the reason.
    token = sign({"alg": alg, "enc": "A256GCM", "kid": "rsa-1"}, claims(), keyring.rsa, "RS256")
    rejects(
        make_verifier(),
        token,
        AlgorithmNotAllowed,
        "alg_not_allowed",
        level=logging.WARNING,
        alg=alg,
    )
