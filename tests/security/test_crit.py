"""``crit`` (RFC 7515 section 4.1.11): extensions the verifier does not know.

A recipient must reject a JWS whose ``crit`` lists an extension it does not
understand; ignoring it lets the sender attach semantics (an unencoded
payload, a time limit, a binding) that the verifier silently skips. jwt-guard
implements no extension, so any ``crit`` is refused, including malformed
ones and the forbidden empty list.
"""

from __future__ import annotations

import logging

import pytest

from jwt_guard_core import UnknownCrit
from tests.factories import claims, sign


def test_header_without_crit_is_accepted(make_verifier, keyring, rejects):
    token = sign({"alg": "RS256", "kid": "rsa-1", "typ": "JWT"}, claims(), keyring.rsa)
    assert rejects.accepts(make_verifier(), token)


@pytest.mark.parametrize(
    "extra",
    [
        {"crit": ["exp"], "exp": 1},
        {"crit": ["http://example.com/must-understand"], "http://example.com/must-understand": 1},
        {"crit": ["b64"], "b64": False},
        {"crit": ["b64"], "b64": True},
        {"crit": ["listed-but-absent"]},
        {"crit": []},  # forbidden: "MUST NOT be an empty list"
        {"crit": ["alg"]},  # forbidden: registered names may not be listed
        {"crit": "exp", "exp": 1},
        {"crit": [1]},
        {"crit": None},
        {"crit": {"exp": True}},
    ],
    ids=[
        "private-name",
        "uri-name",
        "b64-false",
        "b64-true",
        "absent-member",
        "empty-list",
        "registered-name",
        "string",
        "non-string-item",
        "null",
        "object",
    ],
)
def test_any_crit_is_rejected_with_unknown_crit(make_verifier, keyring, rejects, extra):
    token = sign({"alg": "RS256", "kid": "rsa-1", **extra}, claims(), keyring.rsa)
    rejects(
        make_verifier(),
        token,
        UnknownCrit,
        "unknown_crit",
        level=logging.WARNING,
        alg="RS256",
        kid="rsa-1",
    )


@pytest.mark.parametrize("b64", [False, True])
def test_b64_header_without_crit_is_rejected_with_unknown_crit(
    make_verifier, keyring, rejects, b64
):
    # RFC 7797 unencoded payloads change what the signature covers; refusing
    # b64 even without crit closes the "crit forgotten" variant.
    token = sign({"alg": "RS256", "kid": "rsa-1", "b64": b64}, claims(), keyring.rsa)
    result = rejects(make_verifier(), token, UnknownCrit, "unknown_crit", level=logging.WARNING)
    assert "b64" in result.error.detail
