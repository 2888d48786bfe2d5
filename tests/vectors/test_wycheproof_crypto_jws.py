"""Wycheproof ``json_web_crypto_test.json``, JWS groups, at the signature layer.

The JWE groups of the same file are in ``test_wycheproof_jwe_decrypt.py``.
Each group's key (a private JWK or JWKS, loaded with
``private_members="strip"``) builds a verifier with every algorithm it may
verify; a valid JWS gives back its payload, an invalid one is a
``TokenError``. A key set jwt-guard refuses to build (the ROCA-weak RSA key,
HMAC mixed with EC) makes every token of its group unverifiable, which is
the file's verdict for them.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from jwt_guard_core import ConfigurationError, StaticKeySet, TokenError
from jwt_guard_core.encoding import b64url_decode
from tests.vectors._local import load_data
from tests.vectors._support import signature_verifier

FILE = "json_web_crypto_test.json"
VERDICTS: Counter[str] = Counter()
CASES = [
    (group, test)
    for group in load_data("wycheproof", FILE)["testGroups"]
    if str(group["comment"]).startswith("jws")
    for test in group["tests"]
]


def _keys(group: dict[str, Any]) -> StaticKeySet:
    private = group["private"]
    jwks = private if "keys" in private else {"keys": [private]}
    return StaticKeySet.from_jwks(jwks, private_members="strip")


@pytest.mark.parametrize(("group", "test"), CASES, ids=[f"tc{t['tcId']}" for _, t in CASES])
def test_jws_verdict_matches(group: dict[str, Any], test: dict[str, Any]) -> None:
    try:
        keys = _keys(group)
    except ConfigurationError:
        assert test["result"] == "invalid"
        VERDICTS["key set refused"] += 1
        return
    verifier = signature_verifier(keys)
    token = test["jws"]
    if test["result"] == "valid":
        _, payload = verifier.verify_signature_only(token)
        assert payload == b64url_decode(token.split(".")[1])
        VERDICTS["valid"] += 1
    else:
        with pytest.raises(TokenError):
            verifier.verify_signature_only(token)
        VERDICTS["invalid"] += 1


def test_the_verdict_counts() -> None:
    """Runs after the parametrized tests (file order); pins what was exercised."""
    if sum(VERDICTS.values()) != len(CASES):
        pytest.skip("run together with the parametrized vector tests")
    assert Counter({"valid": 4, "invalid": 43, "key set refused": 2}) == VERDICTS
