"""Wycheproof signature primitives through jwt-guard's own key parsing and verification.

Keys are loaded the way configuration loads them (``publicKeyJwk``/``keyJwk``
through ``key_from_jwk``, else ``publicKeyPem`` through ``key_from_pem``),
then every test goes through ``jwt_guard_core.algorithms.verify_signature``
under the JWS algorithm the file's parameters define. The ECDSA files use the
IEEE P1363 ``r || s`` form that JWS uses (RFC 7518 section 3.4).

A key that hygiene refuses (for instance an RSA key under 2048 bits) counts
as a rejection of each of its tests.

``acceptable`` verdicts: the three RSA PKCS#1 v1.5 files each have one,
flagged ``MissingNull`` (a DigestInfo whose hash AlgorithmIdentifier omits
the NULL parameter). RFC 8017 section 9.2 notes that verifiers may accept
that encoding; jwt-guard takes the strict reading and rejects it, since one
valid encoding per signature leaves nothing for a parser differential. The
test asserts the rejection.
"""

from __future__ import annotations

from functools import cache

import pytest

from jwt_guard_core.algorithms import verify_signature
from jwt_guard_core.keys import KeyRejected, VerificationKey, key_from_jwk, key_from_pem
from tests.vectors._support import Case, cases, wycheproof

# File -> the JWS algorithm with exactly the file's parameters.
FILES = {
    "ecdsa_secp256r1_sha256_p1363_test.json": "ES256",
    "ecdsa_secp384r1_sha384_p1363_test.json": "ES384",
    "ecdsa_secp521r1_sha512_p1363_test.json": "ES512",
    "ed25519_test.json": "EdDSA",
    "rsa_pss_2048_sha256_mgf1_32_test.json": "PS256",
    "rsa_pss_4096_sha384_mgf1_48_test.json": "PS384",
    "rsa_pss_4096_sha512_mgf1_64_test.json": "PS512",
    "rsa_signature_2048_sha256_test.json": "RS256",
    "rsa_signature_3072_sha384_test.json": "RS384",
    "rsa_signature_4096_sha512_test.json": "RS512",
}
# The decision for "acceptable" verdicts, by flag (see the module docstring).
ACCEPTABLE_POLICY = {"MissingNull": "invalid"}

CASES = [case for name in FILES for case in cases(name)]


def _jwk(group: dict[str, object]) -> object:
    return group.get("publicKeyJwk") or group.get("keyJwk")


@cache
def _key(name: str, group_index: int) -> VerificationKey | KeyRejected:
    group = wycheproof(name)["testGroups"][group_index]
    jwk = _jwk(group)
    try:
        if isinstance(jwk, dict):
            return key_from_jwk(jwk)
        return key_from_pem(group["publicKeyPem"])
    except KeyRejected as exc:
        return exc


def _expected(case: Case) -> str:
    if case.result != "acceptable":
        return case.result
    decisions = {ACCEPTABLE_POLICY[flag] for flag in case.test["flags"]}
    assert len(decisions) == 1, f"no documented decision for {case.test['flags']}"
    return decisions.pop()


@pytest.mark.parametrize("name", FILES)
def test_file_parameters_are_those_of_the_jws_algorithm(name: str) -> None:
    data = wycheproof(name)
    alg = FILES[name]
    for group in data["testGroups"]:
        if alg[:2] != "Ed":
            assert group["sha"] == f"SHA-{alg[2:]}"
        if alg.startswith("PS"):
            # RFC 7518 section 3.5: MGF1 with the same hash, salt = hash length.
            assert group["mgf"] == "MGF1"
            assert group["mgfSha"] == group["sha"]
            assert group["sLen"] == int(alg[2:]) // 8
    assert sum(len(g["tests"]) for g in data["testGroups"]) == data["numberOfTests"]


@pytest.mark.parametrize("name", FILES)
def test_jwk_and_pem_forms_of_a_key_load_the_same_key(name: str) -> None:
    groups = wycheproof(name)["testGroups"]
    for index, group in enumerate(groups):
        from_jwk = _key(name, index)
        if not isinstance(_jwk(group), dict) or isinstance(from_jwk, KeyRejected):
            continue
        from_pem = key_from_pem(group["publicKeyPem"])
        assert from_pem.public_jwk is not None
        assert from_jwk.public_jwk is not None
        for member in ("kty", "crv", "n", "e", "x", "y"):
            assert from_pem.public_jwk.get(member) == from_jwk.public_jwk.get(member)


@pytest.mark.parametrize("case", CASES, ids=[f"{c.file[:-10]}-{c.id}" for c in CASES])
def test_primitive_vector_matches_its_verdict(case: Case) -> None:
    alg = FILES[case.file]
    key = _key(case.file, case.group_index)
    if isinstance(key, KeyRejected):
        got = "invalid"
    else:
        assert alg in key.algorithms, f"the key was not bound to {alg}: {key.algorithms}"
        ok = verify_signature(
            alg, key.key, bytes.fromhex(case.test["msg"]), bytes.fromhex(case.test["sig"])
        )
        got = "valid" if ok else "invalid"
    assert got == _expected(case), f"{case.file} tcId {case.tc_id}: {case.test['comment']}"
