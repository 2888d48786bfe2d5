"""Wycheproof ``json_web_key_test.json``: key-set hygiene at start-up.

Each test's ``private`` JWKS is loaded with
``StaticKeySet.from_jwks(private_members="strip")``, as an application that
was handed a private JWKS would. A set the vectors call invalid must be
refused with a ConfigurationError that names the problem; a valid one must
load and then verify the test's ``jws`` at the signature layer.
"""

from __future__ import annotations

import pytest

from jwt_guard_core import ConfigurationError, StaticKeySet, TokenError
from tests.vectors._support import Case, cases, signature_verifier, wycheproof

FILE = "json_web_key_test.json"
CASES = list(cases(FILE))

# What the ConfigurationError must say, per invalid set (group comment / tcId).
REFUSAL_PHRASES = {
    1: "mixes HMAC secrets with asymmetric keys",  # mixed symmetric / asymmetric set
    4: "duplicate kid 'kid-aes-sign'",
    6: "use is 'enc'",
    7: "ROCA",
    8: "1024 bits; at least 2048",
    9: "exponent",
    10: "shorter than HS256",
    11: "shorter than HS384",
    12: "shorter than HS512",
    16: "HMAC secret is empty",
    17: "HMAC secret is empty",
    18: "HMAC secret is empty",
    19: "'ES521'",  # alg/curve mismatch with a non-existent alg
    20: "'ES224'",
    21: "use is 'enc'",
    22: "not on P-256",  # invalid point
    23: "'ES256' does not fit this EC key on P-384",  # curve mismatch
    24: "'ES256' does not fit this RSA key",  # wrong kty
    25: "AES",
    26: "AES",
}
# The only invalid test whose key set is sound: the token itself is forged.
BAD_TOKEN_WITH_SOUND_KEYS = {3: "bad_signature"}


def test_the_file_has_every_test_it_announces() -> None:
    assert len(CASES) == wycheproof(FILE)["numberOfTests"] == 26
    invalid = {c.tc_id for c in CASES if c.result == "invalid"}
    assert invalid == set(REFUSAL_PHRASES) | set(BAD_TOKEN_WITH_SOUND_KEYS)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_jwk_set_vector_matches_its_verdict(case: Case) -> None:
    jwks = case.group["private"]
    if case.tc_id in REFUSAL_PHRASES:
        with pytest.raises(ConfigurationError) as info:
            StaticKeySet.from_jwks(jwks, private_members="strip")
        assert info.value.setting == "keys"
        assert REFUSAL_PHRASES[case.tc_id] in str(info.value)
        return

    keys = StaticKeySet.from_jwks(jwks, private_members="strip")
    verifier = signature_verifier(keys)
    if case.result == "valid":
        _, payload = verifier.verify_signature_only(case.test["jws"])
        assert payload == b"foo"
    else:
        with pytest.raises(TokenError) as rejected:
            verifier.verify_signature_only(case.test["jws"])
        assert rejected.value.reason == BAD_TOKEN_WITH_SOUND_KEYS[case.tc_id]


def test_no_refusal_message_carries_key_material() -> None:
    for case in CASES:
        if case.tc_id not in REFUSAL_PHRASES:
            continue
        with pytest.raises(ConfigurationError) as info:
            StaticKeySet.from_jwks(case.group["private"], private_members="strip")
        message = str(info.value)
        for jwk in case.group["private"]["keys"]:
            for member in ("k", "n", "x", "y", "d", "p", "q"):
                value = jwk.get(member)
                if isinstance(value, str) and len(value) >= 8:
                    assert value not in message, (case.tc_id, member)


def test_valid_private_sets_are_refused_unless_stripping_is_asked_for() -> None:
    # By default a private key in a verifier's configuration is a leaked key.
    asymmetric = [c for c in CASES if c.result == "valid" and c.group["comment"] == "rs256"]
    assert asymmetric
    with pytest.raises(ConfigurationError, match="private members"):
        StaticKeySet.from_jwks(asymmetric[0].group["private"])
