"""RFC 7520 (JOSE cookbook) section 4 signatures, and RFC 8037's Ed25519 example.

The key of each example is the cookbook's private JWK, loaded with
``private_members="strip"``; the compact serialization must verify at the
signature layer and give back the example's payload and protected header.
The JSON serializations and the detached-content example (section 4.5) are
not compact tokens with their payload, and must be refused.
"""

from __future__ import annotations

import json

import pytest

from jwt_guard_core import MalformedToken, StaticKeySet, TokenError, Verifier
from jwt_guard_core.algorithms import ALGORITHMS
from tests.vectors._support import load_json, signature_verifier

VERIFYING = {
    "4_1.rsa_v15_signature.json": "RS256",
    "4_2.rsa-pss_signature.json": "PS384",
    "4_3.ecdsa_signature.json": "ES512",
    "4_4.hmac-sha2_integrity_protection.json": "HS256",
    "jws.json": "EdDSA",
}
DETACHED = "4_5.signature_with_detached_content.json"


def _example(name: str) -> dict[str, object]:
    data = load_json("rfc7520", name)
    assert isinstance(data, dict)
    return data


def _keys(example: dict[str, object]) -> StaticKeySet:
    inputs = example["input"]
    assert isinstance(inputs, dict)
    return StaticKeySet.from_jwks({"keys": [inputs["key"]]}, private_members="strip")


def _verifier(example: dict[str, object], alg: str) -> Verifier:
    verifier = signature_verifier(_keys(example))
    assert alg in verifier.config.all_algorithms
    return verifier


@pytest.mark.parametrize("name", VERIFYING)
def test_cookbook_example_verifies_at_the_signature_layer(name: str) -> None:
    example = _example(name)
    alg = VERIFYING[name]
    assert example["input"]["alg"] == alg  # type: ignore[index]
    header, payload = _verifier(example, alg).verify_signature_only(
        example["output"]["compact"]  # type: ignore[index]
    )
    assert payload == example["input"]["payload"].encode("utf-8")  # type: ignore[index]
    assert dict(header) == example["signing"]["protected"]  # type: ignore[index]
    assert header["alg"] == alg


@pytest.mark.parametrize("name", VERIFYING)
def test_cookbook_key_verifies_only_its_own_algorithm_family(name: str) -> None:
    keys = _keys(_example(name))
    (key,) = keys.keys
    family = {a for a, spec in ALGORITHMS.items() if spec.kty == key.kty}
    assert VERIFYING[name] in key.algorithms <= family


@pytest.mark.parametrize("name", VERIFYING)
def test_cookbook_example_is_not_a_jwt_so_the_full_pipeline_refuses_it(name: str) -> None:
    # The payload is prose, not a claim set: verify() must not accept it.
    example = _example(name)
    with pytest.raises(MalformedToken) as info:
        _verifier(example, VERIFYING[name]).verify(example["output"]["compact"])  # type: ignore[index]
    assert info.value.reason == "malformed"


@pytest.mark.parametrize("name", [*VERIFYING, DETACHED])
@pytest.mark.parametrize("form", ["json", "json_flat"])
def test_json_serializations_are_refused_as_malformed(name: str, form: str) -> None:
    example = _example(name)
    alg = example["input"]["alg"]  # type: ignore[index]
    verifier = _verifier(example, alg)
    text = json.dumps(example["output"][form])  # type: ignore[index]
    with pytest.raises(MalformedToken) as info:
        verifier.verify_signature_only(text)
    assert info.value.reason == "malformed"


def test_detached_content_signature_is_rejected() -> None:
    # RFC 7520 section 4.5: the payload travels separately, so the compact
    # form has an empty payload segment and the signature covers content
    # the verifier never sees. A compact-token verifier must refuse it.
    example = _example(DETACHED)
    compact = example["output"]["compact"]  # type: ignore[index]
    assert compact.split(".")[1] == ""
    verifier = _verifier(example, "HS256")
    with pytest.raises(TokenError) as info:
        verifier.verify_signature_only(compact)
    assert info.value.reason == "bad_signature"
    with pytest.raises(TokenError):
        verifier.verify(compact)
