"""Wycheproof JWE vectors against the decryption layer (``decrypt_compact``).

``json_web_encryption_test.json`` and the JWE groups of
``json_web_crypto_test.json``. For each test the group's private key is
loaded when jwt-guard accepts it (RSA-OAEP-256 and ECDH-ES keys); every
supported ``alg``/``enc`` is allowed, so the verdict comes from the token.
Where the token's algorithms are supported and fit the key, the verdict must
match the file: a valid JWE decrypts to its ``pt``, an invalid one raises a
``TokenError``. Every other test (RSA1_5, RSA-OAEP with SHA-1, AES key wrap
and ``dir`` with symmetric keys, JSON serialization) is refused cleanly
with a ``TokenError``: never another exception. The counts are asserted so
that a change which silently stops decrypting shows up.
"""

from __future__ import annotations

import base64
import json
from collections import Counter
from collections.abc import Mapping
from typing import Any

import pytest

from jwt_guard_core import TokenError
from jwt_guard_core.jwe import DecryptionFailed, decrypt_compact
from tests.vectors._local import load_data
from tests.vectors.jwe_support import MAX_BYTES, applicable, policy_for

VERDICTS: Counter[str] = Counter()


def _cases() -> list[tuple[str, Mapping[str, Any], Mapping[str, Any]]]:
    found = []
    for name in ("json_web_encryption_test.json", "json_web_crypto_test.json"):
        for group in load_data("wycheproof", name)["testGroups"]:
            if not str(group.get("comment", "")).startswith("jwe"):
                continue
            for test in group["tests"]:
                found.append((name, group, test))
    return found


CASES = _cases()


def _header(token: object) -> Mapping[str, Any]:
    if not isinstance(token, str):
        return {}
    segment = token.split(".")[0]
    try:
        value = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


@pytest.mark.parametrize(
    ("name", "group", "test"),
    CASES,
    ids=[f"{n.split('_test')[0]}-tc{t['tcId']}-{t['comment'][:30]}" for n, _, t in CASES],
)
def test_verdict_matches_or_the_token_is_refused_cleanly(
    name: str, group: Mapping[str, Any], test: Mapping[str, Any]
) -> None:
    policy, key_refusal = policy_for(group["private"])
    token = test["jwe"]
    if key_refusal is None and applicable(policy, _header(token)):
        if test["result"] == "valid":
            _, plaintext = decrypt_compact(token, policy, MAX_BYTES)
            # json_web_crypto's valid JWE carry no "pt": decrypting is the verdict.
            if "pt" in test:
                assert plaintext == bytes.fromhex(test["pt"])
            VERDICTS["decrypted"] += 1
        else:
            assert test["result"] == "invalid"
            with pytest.raises(TokenError) as info:
                decrypt_compact(token, policy, MAX_BYTES)
            assert info.value.status == 401
            VERDICTS[f"rejected:{info.value.reason}"] += 1
        return
    with pytest.raises(TokenError) as info:
        decrypt_compact(token, policy, MAX_BYTES)
    assert info.value.status == 401
    VERDICTS[f"refused:{info.value.reason}"] += 1


def test_the_verdict_counts_cover_the_supported_algorithms() -> None:
    """Runs after the parametrized tests (file order); pins what was exercised."""
    if sum(VERDICTS.values()) != len(CASES):
        pytest.skip("run together with the parametrized vector tests")
    # 31 valid JWE decrypt, 29 invalid ones are rejected (21 at the
    # cryptography, 8 for their shape), 101 use algorithms or keys that are
    # never accepted and are refused before any decryption.
    assert VERDICTS["decrypted"] == 31
    assert VERDICTS["rejected:decryption_failed"] == 21
    assert VERDICTS["rejected:malformed"] == 8
    assert sum(v for k, v in VERDICTS.items() if k.startswith("refused:")) == 101


def test_every_modified_part_of_a_supported_vector_fails_as_decryption_failed() -> None:
    group = next(
        g
        for g in load_data("wycheproof", "json_web_encryption_test.json")["testGroups"]
        if g["private"].get("alg") == "ECDH-ES+A128KW"
    )
    policy, refusal = policy_for(group["private"])
    assert refusal is None
    kinds = ("ModifiedAuthenticationTag", "ModifiedCiphertext", "ModifiedIv", "ModifiedEncrypted")
    modified = [t for t in group["tests"] if t["comment"].endswith(kinds)]
    assert modified
    for test in modified:
        with pytest.raises(DecryptionFailed) as info:
            decrypt_compact(test["jwe"], policy, MAX_BYTES)
        assert info.value.reason == "decryption_failed"
