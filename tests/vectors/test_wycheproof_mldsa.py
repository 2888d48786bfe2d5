"""Wycheproof ML-DSA verification vectors (FIPS 204) at the signature layer of RFC 9964.

Each group's public key is loaded as the AKP JWK a key set would hold
(``{"kty": "AKP", "alg": "ML-DSA-65", "pub": ...}``), through the same
hygiene checks; each signature is then checked with
:func:`~jwt_guard_core.algorithms.verify_signature`, the function the
verifier calls. Every verdict must match the file, with two rules from the
JOSE side: a key of the wrong length is refused when the key set is built,
and JOSE signs with the empty context, so a signature made over a non-empty
context never verifies (whatever its verdict with that context).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from jwt_guard_core.algorithms import verify_signature
from jwt_guard_core.encoding import b64url_encode
from jwt_guard_core.keys import KeyRejected, key_from_jwk
from tests.vectors._local import load_data

FILES = {
    "ML-DSA-44": "mldsa_44_verify_test.json",
    "ML-DSA-65": "mldsa_65_verify_test.json",
    "ML-DSA-87": "mldsa_87_verify_test.json",
}
VERDICTS: Counter[str] = Counter()


def _cases() -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    return [
        (alg, group, test)
        for alg, name in FILES.items()
        for group in load_data("wycheproof", name)["testGroups"]
        for test in group["tests"]
    ]


CASES = _cases()


def test_the_files_hold_the_tests_they_announce() -> None:
    for name in FILES.values():
        data = load_data("wycheproof", name)
        assert sum(len(g["tests"]) for g in data["testGroups"]) == data["numberOfTests"]
    assert len(CASES) == 180 + 210 + 241


@pytest.mark.parametrize(
    ("alg", "group", "test"), CASES, ids=[f"{a}-tc{t['tcId']}" for a, _, t in CASES]
)
def test_verdict_matches(alg: str, group: dict[str, Any], test: dict[str, Any]) -> None:
    jwk = {"kty": "AKP", "alg": alg, "pub": b64url_encode(bytes.fromhex(group["publicKey"]))}
    if "IncorrectPublicKeyLength" in test["flags"]:
        assert test["result"] == "invalid"
        with pytest.raises(KeyRejected, match="public key must be"):
            key_from_jwk(jwk)
        VERDICTS["key refused"] += 1
        return
    key = key_from_jwk(jwk)
    assert key.algorithms == frozenset({alg})
    ok = verify_signature(alg, key.key, bytes.fromhex(test["msg"]), bytes.fromhex(test["sig"]))
    if test.get("ctx"):
        assert not ok
        VERDICTS["context refused"] += 1
        return
    assert ok == (test["result"] == "valid"), test["comment"]
    VERDICTS[test["result"]] += 1


def test_the_verdict_counts() -> None:
    """Runs after the parametrized tests (file order); pins what was exercised."""
    if sum(VERDICTS.values()) != len(CASES):
        pytest.skip("run together with the parametrized vector tests")
    assert (
        Counter({"valid": 221, "invalid": 377, "key refused": 12, "context refused": 21})
        == VERDICTS
    )
