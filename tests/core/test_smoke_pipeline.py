from __future__ import annotations

import pytest

from jwt_guard_core import BadSignature
from tests.factories import claims, sign


@pytest.mark.parametrize("alg", ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"])
def test_rsa_token_verifies_and_tampered_one_is_rejected(make_verifier, keyring, alg):
    verifier = make_verifier(algorithms=[alg])
    token = sign({"alg": alg, "kid": "rsa-1"}, claims(), keyring.rsa)
    result = verifier.verify(token)
    assert result.subject == "user-1"
    assert result.kid == "rsa-1"
    with pytest.raises(BadSignature) as info:
        verifier.verify(token[:-6] + ("AAAAAA" if not token.endswith("AAAAAA") else "BBBBBB"))
    assert info.value.reason == "bad_signature"
    assert info.value.status == 401
