"""Wycheproof ``json_web_encryption_test.json``: JWE is never mistaken for a JWS.

A verifier without a JWE policy (``GuardConfig(jwe=None)``, the default)
verifies compact JWS only. Every JWE of the file, valid or not as a JWE,
must be refused cleanly as ``malformed`` by both the full pipeline and the
signature-only entry point, whatever keys and algorithms the verifier is
configured with; no other exception escapes. Decrypting them is
``test_wycheproof_jwe_decrypt.py``.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from jwt_guard_core import MalformedToken, StaticKeySet, Verifier
from jwt_guard_core.algorithms import ALGORITHMS
from tests.factories import KeyRing
from tests.vectors._support import Case, cases, signature_verifier, wycheproof

FILE = "json_web_encryption_test.json"
CASES = list(cases(FILE))


@pytest.fixture(scope="module")
def verifiers(keyring: KeyRing) -> list[Callable[[str], object]]:
    hmac_keys = StaticKeySet.from_secret(keyring.secret, algorithm="HS256", kid="kid-aes-encrypt")
    hmac_verifier: Verifier = signature_verifier(hmac_keys)
    # Every algorithm is allowed, so only the token's shape can refuse it.
    assert hmac_verifier.config.all_algorithms == frozenset(ALGORITHMS)
    return [hmac_verifier.verify, hmac_verifier.verify_signature_only]


@pytest.fixture
def full_pipeline(make_verifier: Callable[..., Verifier]) -> Verifier:
    return make_verifier(algorithms=["RS256", "PS256"])


def test_the_file_has_every_test_it_announces() -> None:
    assert len(CASES) == wycheproof(FILE)["numberOfTests"] == 139


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_jwe_vector_is_rejected_as_malformed(
    case: Case, verifiers: list[Callable[[str], object]], full_pipeline: Verifier
) -> None:
    token = case.test["jwe"]
    for check in (*verifiers, full_pipeline.verify, full_pipeline.verify_signature_only):
        with pytest.raises(MalformedToken) as info:
            check(token)
        assert info.value.reason == "malformed"
        assert info.value.error == "invalid_token"
        assert info.value.status == 401
