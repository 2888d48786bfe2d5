"""Interop: ML-DSA JOSE tokens between jwcrypto (PyPI, the Python JOSE library with RFC 9964)
and jwt-guard, both ways, for ML-DSA-44, -65 and -87.

jwcrypto generates an AKP key, signs an access token and exports its public
JWK; jwt-guard's verifier accepts the token from that JWK. jwt-guard's key
store and ``TokenIssuer`` sign a token with ML-DSA; jwcrypto verifies it with
the key from jwt-guard's published JWKS. jwcrypto is in the ``test`` extras.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from jwt_guard_core import BadSignature, GuardConfig, StaticKeySet, Verifier
from jwt_guard_core.signing import FileKeyStore, KeyManager, TokenIssuer
from tests.factories import AUDIENCE, ISSUER, FakeClock, claims

jwk_module = pytest.importorskip("jwcrypto.jwk")
jws_module = pytest.importorskip("jwcrypto.jws")

ALGS = ["ML-DSA-44", "ML-DSA-65", "ML-DSA-87"]


def _verifier(keys: StaticKeySet, alg: str, clock: FakeClock) -> Verifier:
    return Verifier(
        GuardConfig(
            algorithms=[alg],
            keys=keys,
            issuer=ISSUER,
            audience=AUDIENCE,
            clock=clock,
            max_token_bytes=16384,
        )
    )


@pytest.mark.parametrize("alg", ALGS)
def test_tokens_jwcrypto_signs_verify_in_jwt_guard(alg: str, clock: FakeClock) -> None:
    key = jwk_module.JWK.generate(kty="AKP", alg=alg, kid="jwcrypto-1")
    public: dict[str, Any] = json.loads(key.export_public())
    assert public["kty"] == "AKP"
    assert public["alg"] == alg
    signer = jws_module.JWS(json.dumps(claims()).encode())
    signer.add_signature(key, alg=alg, protected=json.dumps({"alg": alg, "kid": "jwcrypto-1"}))
    token = signer.serialize(compact=True)
    verifier = _verifier(StaticKeySet.from_jwks({"keys": [public]}), alg, clock)
    result = verifier.verify(token)
    assert (result.algorithm, result.kid, result.subject) == (alg, "jwcrypto-1", "user-1")
    # And a signature jwcrypto made over other claims does not transfer.
    head, _payload, sig = token.split(".")
    other = jws_module.JWS(json.dumps(claims(sub="mallory")).encode())
    other.add_signature(key, alg=alg, protected=json.dumps({"alg": alg, "kid": "jwcrypto-1"}))
    with pytest.raises(BadSignature):
        verifier.verify(f"{head}.{other.serialize(compact=True).split('.')[1]}.{sig}")


def test_jwcrypto_private_jwk_is_refused_as_a_verification_key() -> None:
    key = jwk_module.JWK.generate(kty="AKP", alg="ML-DSA-44")
    from jwt_guard_core import ConfigurationError

    with pytest.raises(ConfigurationError, match="private members priv"):
        StaticKeySet.from_jwks({"keys": [json.loads(key.export_private())]})


@pytest.mark.parametrize("alg", ALGS)
def test_tokens_jwt_guard_signs_verify_in_jwcrypto(
    alg: str, tmp_path: Path, clock: FakeClock
) -> None:
    manager = KeyManager(
        FileKeyStore(tmp_path / "keys", passphrase="correct horse battery staple 42"),
        algorithm=alg,
        clock=clock,
    )
    token = TokenIssuer(manager, issuer=ISSUER, audience=AUDIENCE).issue_access_token("user-3")
    keyset = jwk_module.JWKSet.from_json(json.dumps(manager.jwks()))
    (published,) = manager.jwks()["keys"]
    checker = jws_module.JWS()
    checker.deserialize(token)
    checker.verify(keyset.get_key(published["kid"]), alg=alg)
    assert json.loads(checker.payload)["sub"] == "user-3"
    assert checker.jose_header["kid"] == published["kid"]
    # jwcrypto computes the same RFC 9964 thumbprint jwt-guard used as kid.
    assert keyset.get_key(published["kid"]).thumbprint() == published["kid"]
