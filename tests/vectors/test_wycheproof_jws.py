"""Wycheproof ``json_web_signature_test.json`` at the signature layer.

Each group's key set is built the way a user would build it: from the
group's ``public`` JWK, or from its ``private`` JWK with
``private_members="strip"`` when the group has no public one (the HMAC
groups). Tokens go through ``Verifier.verify_signature_only``, which runs the
pipeline's shape, strict base64url, header, key-selection and signature
steps; the payloads are raw bytes, not JWT claims.

A key set that hygiene refuses (``use: enc``, ``key_ops`` without verify, an
unknown alg) rejects every token of its group. ``acceptable`` verdicts: the
file has none; jwt-guard would reject them (strict reading).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from functools import cache

import pytest

from jwt_guard_core import ConfigurationError, StaticKeySet, TokenError, Verifier
from jwt_guard_core.encoding import b64url_decode, b64url_encode
from tests.vectors._support import Case, cases, signature_verifier, wycheproof

FILE = "json_web_signature_test.json"
CASES = list(cases(FILE))

# Defects in the vectors themselves (listed in data/PROVENANCE.md): a
# correct verifier disagrees with these verdicts. Each reason is checked by
# test_known_defects_are_what_the_provenance_note_says below.
EXPECTED_DISAGREEMENTS = {
    367: "labelled invalid (bad padding) but byte-identical to the valid tcId 357",
    370: "labelled invalid (bad padding in payload) but byte-identical to the valid tcId 357",
    372: "labelled valid, but a '?' is inserted in the header: not base64url, MAC mismatch",
    373: "labelled valid, but a '?' is inserted in the payload: not base64url, MAC mismatch",
    346: "labelled valid, but a PS384 token is paired with a key whose alg is PS256",
    350: "labelled valid, but a PS384 token is paired with a key whose alg is PS256",
    347: "labelled valid, but the key's alg is 'ES521', which no JWA registry defines",
    351: "labelled valid, but the key's alg is 'ES521', which no JWA registry defines",
}


# A rejection must come from the check the test targets, not from an
# unrelated step that happens to refuse the token first.
FLAG_REASONS = {
    "AlgIsNone": {"alg_not_allowed"},
    "JsonSerialization": {"malformed"},
    "ModifiedSignature": {"bad_signature"},
    "ModifiedPadding": {"bad_signature"},
    # A token whose alg the key is not bound to, or signed with another primitive.
    "WrongPrimitive": {"alg_not_allowed", "bad_signature"},
}


@cache
def _verifier(group_index: int) -> Verifier | ConfigurationError:
    """The group's verifier, or the ConfigurationError its key set raised."""
    group = wycheproof(FILE)["testGroups"][group_index]
    try:
        if "public" in group:
            keys = StaticKeySet.from_jwks({"keys": [group["public"]]})
        else:
            keys = StaticKeySet.from_jwks({"keys": [group["private"]]}, private_members="strip")
    except ConfigurationError as exc:
        return exc
    return signature_verifier(keys)


def _outcome(case: Case) -> tuple[str, Exception | None]:
    verifier = _verifier(case.group_index)
    if isinstance(verifier, ConfigurationError):
        return "invalid", verifier
    try:
        header, payload = verifier.verify_signature_only(case.test["jws"])
    except TokenError as exc:
        return "invalid", exc
    # The returned parts are the token's own, decoded once.
    header_seg, payload_seg, _ = case.test["jws"].split(".")
    assert b64url_encode(payload) == payload_seg
    assert dict(header) == json.loads(b64url_decode(header_seg))
    return "valid", None


def test_the_file_has_every_test_it_announces() -> None:
    data = wycheproof(FILE)
    assert len(CASES) == data["numberOfTests"] == 401
    assert not [c.tc_id for c in CASES if c.result == "acceptable"]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_jws_vector_matches_its_verdict(case: Case) -> None:
    got, error = _outcome(case)
    if case.tc_id in EXPECTED_DISAGREEMENTS:
        assert got != case.result, (
            f"tcId {case.tc_id} is listed as a vector defect "
            f"({EXPECTED_DISAGREEMENTS[case.tc_id]}) but now agrees: update the list"
        )
        return
    assert got == case.result, f"tcId {case.tc_id} ({case.test['comment']}): {error!r}"
    if isinstance(error, TokenError):
        # Rejected cleanly, for a stated reason, never as an internal error.
        assert error.reason != "verification_error"
        assert error.status == 401
        for flag in case.test.get("flags") or ():
            assert error.reason in FLAG_REASONS[flag], (flag, error)


def _case(tc_id: int) -> Case:
    return next(c for c in CASES if c.tc_id == tc_id)


def test_known_defects_are_what_the_provenance_note_says() -> None:
    valid_357 = _case(357)
    assert valid_357.result == "valid"
    for tc_id in (367, 370):
        assert _case(tc_id).result == "invalid"
        assert _case(tc_id).test["jws"] == valid_357.test["jws"]

    secret = b64url_decode(valid_357.group["private"]["k"])
    for tc_id in (372, 373):
        case = _case(tc_id)
        assert case.result == "valid"
        signing_input, _, signature = case.test["jws"].rpartition(".")
        assert "?" in signing_input
        mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        assert not hmac.compare_digest(b64url_encode(mac), signature)

    for tc_id in (346, 350):
        case = _case(tc_id)
        header = b64url_decode(case.test["jws"].split(".")[0])
        assert b'"alg":"PS384"' in header
        assert case.group["public"]["alg"] == "PS256"

    for tc_id in (347, 351):
        assert _case(tc_id).group["public"]["alg"] == "ES521"


def test_vector_defects_are_rejected_for_the_stated_reason() -> None:
    # 346/350: the key is bound to PS256 only; a PS384 token may not use it.
    for tc_id in (346, 350):
        _, error = _outcome(_case(tc_id))
        assert isinstance(error, TokenError)
        assert error.reason == "alg_not_allowed"
    # 347/351: the key set itself is refused at start-up.
    for tc_id in (347, 351):
        _, error = _outcome(_case(tc_id))
        assert isinstance(error, ConfigurationError)
        assert "ES521" in str(error)
    # 372/373: strict base64url refuses the '?' before any MAC is computed.
    for tc_id in (372, 373):
        _, error = _outcome(_case(tc_id))
        assert isinstance(error, TokenError)
        assert error.reason == "malformed"
