"""Known answers from the RFCs, and proofs made by an independent library (PyJWT)."""

from __future__ import annotations

import json
import random

import jwt
import pytest
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from jwt_guard_core.dpop import (
    DPoPPolicy,
    RequestURL,
    access_token_hash,
    jwk_thumbprint,
    normalize_htu,
)
from tests.core.dpop_support import URL, dpop_request, issue_token
from tests.factories import NOW

RFC7638_RSA = {
    "kty": "RSA",
    "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_B"
    "JECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2Q"
    "vzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6W"
    "eZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
    "e": "AQAB",
    "alg": "RS256",
    "kid": "2011-04-29",
}
RFC9449_JWK = {
    "kty": "EC",
    "x": "l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs",
    "y": "9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA",
    "crv": "P-256",
}


def test_rfc_7638_section_3_1_thumbprint():
    assert jwk_thumbprint(RFC7638_RSA) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_rfc_9449_example_key_has_the_jkt_of_section_6_1():
    assert jwk_thumbprint(RFC9449_JWK) == "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"


def test_rfc_9449_section_7_example_ath():
    token = "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"
    assert access_token_hash(token) == "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"


@pytest.mark.parametrize("jwk", [{"kty": "oct", "k": "x"}, {"kty": "EC", "crv": "P-256"}, {}])
def test_a_thumbprint_needs_a_public_key_type_and_its_members(jwk):
    with pytest.raises(ValueError):  # noqa: PT011 - the message names the member
        jwk_thumbprint(jwk)


# -- proofs from PyJWT

_TO_JWK = {
    "ES256": ECAlgorithm,
    "ES384": ECAlgorithm,
    "EdDSA": OKPAlgorithm,
    "PS256": RSAAlgorithm,
    "RS256": RSAAlgorithm,
}


@pytest.mark.parametrize(
    ("alg", "attr"),
    [
        ("ES256", "p256"),
        ("ES384", "p384"),
        ("EdDSA", "ed25519"),
        ("PS256", "rsa"),
        ("RS256", "rsa"),
    ],
)
def test_proofs_made_by_pyjwt_are_accepted(keyring, make_verifier, clock, alg, attr):
    key = getattr(keyring, attr)
    public = json.loads(_TO_JWK[alg].to_jwk(key.public_key()))
    raw, token = issue_token(keyring, make_verifier(), cnf={"jkt": jwk_thumbprint(public)})
    proof = jwt.encode(
        {
            "jti": f"pyjwt-{alg}",
            "htm": "GET",
            "htu": URL,
            "iat": int(NOW),
            "ath": access_token_hash(raw),
        },
        key,
        algorithm=alg,
        headers={"typ": "dpop+jwt", "jwk": public},
    )
    assert DPoPPolicy(clock=clock).check(dpop_request(proof), token, raw).jkt == jwk_thumbprint(
        public
    )


# -- URL reconstruction never raises, whatever the parts


def _noise(rng: random.Random, length: int) -> str:
    alphabet = "abc:/?#[]@%25.é\ud800 \t\x00%zz"
    return "".join(rng.choice(alphabet) for _ in range(length))


def test_normalize_htu_and_request_url_never_raise():
    rng = random.Random(9449)
    url = RequestURL({"proto": "X-P", "host": "X-H", "port": "X-Port", "prefix": "X-Prefix"})
    for _ in range(3000):
        value = _noise(rng, rng.randrange(0, 30))
        result = normalize_htu("https://" + value)
        assert result is None or result.isascii()
        headers = {
            "x-p": _noise(rng, 5),
            "x-h": _noise(rng, 8),
            "x-port": _noise(rng, 3),
            "x-prefix": _noise(rng, 6),
        }
        url.build(scheme=_noise(rng, 4), host=_noise(rng, 8), path=_noise(rng, 12), headers=headers)
        url.build(scheme="https", host="api.example", path=value, headers={})
