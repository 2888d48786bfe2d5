"""Verifier.verify_signature_only: the pipeline up to the signature, for non-JWT payloads."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest

from jwt_guard_core import (
    AlgorithmNotAllowed,
    BadSignature,
    ConfigurationError,
    GuardConfig,
    IssuerPolicy,
    MalformedToken,
    SecurityEvent,
    StaticKeySet,
    TokenTooLarge,
    UnknownKid,
    Verifier,
    subscribe,
)
from jwt_guard_core.encoding import b64url_encode
from tests.factories import AUDIENCE, ISSUER, FakeClock, KeyRing, claims, public_pem, sign


def _verifier(keyring: KeyRing, **overrides: object) -> Verifier:
    options: dict[str, object] = {
        "algorithms": ["RS256", "ES256"],
        "keys": StaticKeySet.from_pem(
            {"rsa-1": public_pem(keyring.rsa), "ec-1": public_pem(keyring.p256)}
        ),
        "verify_issuer": False,
        "verify_audience": False,
    }
    options.update(overrides)
    return Verifier(GuardConfig(**options))  # type: ignore[arg-type]


def test_raw_payload_is_returned_with_the_header(keyring: KeyRing) -> None:
    token = sign({"alg": "ES256", "kid": "ec-1", "cty": "text/plain"}, b"\x00\xffraw", keyring.p256)
    header, payload = _verifier(keyring).verify_signature_only(token)
    assert payload == b"\x00\xffraw"
    assert dict(header) == {"alg": "ES256", "kid": "ec-1", "cty": "text/plain"}
    with pytest.raises(TypeError):
        header["alg"] = "none"  # type: ignore[index]


NESTED_HEADER = {
    "alg": "RS256",
    "kid": "rsa-1",
    "ext": {"list": [1, {"deep": "x"}], "obj": {"a": 1}},
    "tags": ["signed"],
}


@pytest.mark.parametrize(
    "mutate",
    [
        lambda h: h.__setitem__("x5u", "https://attacker.example"),
        lambda h: h["ext"].__setitem__("injected", True),
        lambda h: h["ext"]["obj"].update(a=2),
        lambda h: h["ext"]["list"].append("injected"),
        lambda h: h["ext"]["list"][1].__setitem__("deep", "changed"),
        lambda h: h["tags"].clear(),
    ],
    ids=["top", "nested-object", "object-update", "nested-array", "array-element", "array-clear"],
)
def test_the_returned_header_cannot_change_what_a_later_verification_reports(
    keyring: KeyRing, mutate: Callable[[Any], None]
) -> None:
    verifier = _verifier(keyring, algorithms=["RS256"], clock=FakeClock())
    token = sign(NESTED_HEADER, claims(), keyring.rsa)
    header, _ = verifier.verify_signature_only(token)
    with pytest.raises((TypeError, AttributeError)):
        mutate(header)
    signed = json.loads(json.dumps(NESTED_HEADER))
    assert json.loads(json.dumps(verifier.verify(token).header)) == signed
    again, _ = verifier.verify_signature_only(token)
    assert json.loads(json.dumps(again)) == signed
    assert json.loads(json.dumps(dict(header))) == signed


def test_a_copy_of_the_returned_header_is_mutable_and_leaves_the_cache_alone(
    keyring: KeyRing,
) -> None:
    verifier = _verifier(keyring, algorithms=["RS256"], clock=FakeClock())
    token = sign(NESTED_HEADER, claims(), keyring.rsa)
    header, _ = verifier.verify_signature_only(token)
    copy = dict(header)
    copy["x5u"] = "https://attacker.example"
    assert "x5u" not in verifier.verify(token).header


def test_claims_are_not_checked_but_the_signature_is(keyring: KeyRing) -> None:
    expired = claims(exp=1, iss="https://someone-else.example")
    token = sign({"alg": "RS256", "kid": "rsa-1"}, expired, keyring.rsa)
    _, payload = _verifier(keyring).verify_signature_only(token)
    assert json.loads(payload) == expired
    with pytest.raises(BadSignature) as info:
        _verifier(keyring).verify_signature_only(
            token[:-4] + ("AAAA" if token[-4:] != "AAAA" else "BBBB")
        )
    assert info.value.reason == "bad_signature"


def test_the_same_token_still_fails_full_verification(keyring: KeyRing) -> None:
    token = sign({"alg": "RS256", "kid": "rsa-1"}, b"not a claim set", keyring.rsa)
    verifier = _verifier(keyring)
    assert verifier.verify_signature_only(token)[1] == b"not a claim set"
    with pytest.raises(MalformedToken):
        verifier.verify(token)


@pytest.mark.parametrize(
    ("make", "error", "reason"),
    [
        (lambda k: "a.b", MalformedToken, "malformed"),
        (lambda k: "a.b.c.d.e", MalformedToken, "malformed"),
        (lambda k: "x" * 9000, TokenTooLarge, "token_too_large"),
        (lambda k: sign({"alg": "RS256", "kid": "rsa-1"}, b"x", k.rsa)[:-1] + "=", MalformedToken,
         "malformed"),
        (lambda k: sign({"alg": "RS256", "kid": "rsa-1"}, b"x", k.rsa).replace(".", ".+", 1),
         MalformedToken, "malformed"),
        (lambda k: sign({"alg": "PS256", "kid": "rsa-1"}, b"x", k.rsa), AlgorithmNotAllowed,
         "alg_not_allowed"),
        (lambda k: sign({"alg": "ES256", "kid": "rsa-1"}, b"x", k.p256), AlgorithmNotAllowed,
         "alg_not_allowed"),
        (lambda k: sign({"alg": "RS256", "kid": "other"}, b"x", k.rsa), UnknownKid, "unknown_kid"),
        (lambda k: sign({"alg": "none"}, b"x", k.rsa, alg="RS256"), AlgorithmNotAllowed,
         "alg_not_allowed"),
    ],
    ids=["two-segments", "jwe", "too-large", "padded-signature", "plus-in-payload",
         "alg-outside-allowlist", "key-bound-to-another-alg", "unknown-kid", "alg-none"],
)  # fmt: skip
def test_rejections_carry_the_same_reasons_as_verify(
    keyring: KeyRing, make: Callable[[KeyRing], str], error: type[Exception], reason: str
) -> None:
    with pytest.raises(error) as info:
        _verifier(keyring).verify_signature_only(make(keyring))
    assert getattr(info.value, "reason", None) == reason


def test_rejection_is_reported_as_a_security_event(keyring: KeyRing) -> None:
    header = b64url_encode(b'{"alg":"RS256","kid":"rsa-1"}')
    verifier = _verifier(keyring)
    seen: list[SecurityEvent] = []
    unsubscribe = subscribe(seen.append)
    try:
        with pytest.raises(BadSignature):
            verifier.verify_signature_only(f"{header}.eA.{'A' * 342}")
    finally:
        unsubscribe()
    (event,) = [e for e in seen if e.name == "token_rejected"]
    assert event.reason == "bad_signature"
    assert event.fields["kid"] == "rsa-1"
    assert event.fields["alg"] == "RS256"


def test_async_variant_gives_the_same_result(keyring: KeyRing) -> None:
    token = sign({"alg": "RS256", "kid": "rsa-1"}, b"payload", keyring.rsa)
    verifier = _verifier(keyring)
    header, payload = asyncio.run(verifier.averify_signature_only(token))
    assert (dict(header), payload) == ({"alg": "RS256", "kid": "rsa-1"}, b"payload")
    with pytest.raises(BadSignature):
        asyncio.run(verifier.averify_signature_only(token[:-4] + "AAAA"))


def test_several_issuers_sharing_one_key_set_are_supported(keyring: KeyRing) -> None:
    verifier = _verifier(keyring, verify_issuer=True, issuer=[ISSUER, "https://other.example"])
    token = sign({"alg": "RS256", "kid": "rsa-1"}, b"payload", keyring.rsa)
    assert verifier.verify_signature_only(token)[1] == b"payload"


def test_issuers_with_different_key_sets_cannot_pick_a_key(keyring: KeyRing) -> None:
    verifier = Verifier(
        GuardConfig(
            issuers={
                ISSUER: IssuerPolicy(keys=StaticKeySet.from_pem(public_pem(keyring.rsa))),
                "https://other.example": IssuerPolicy(
                    keys=StaticKeySet.from_pem(public_pem(keyring.p256))
                ),
            },
            algorithms=["RS256", "ES256"],
            audience=AUDIENCE,
        )
    )
    token = sign({"alg": "RS256"}, b"payload", keyring.rsa)
    with pytest.raises(ConfigurationError, match="one key source and allowlist"):
        verifier.verify_signature_only(token)
