"""The compact/JSON polyglot of CVE-2022-39227 (python-jwt < 3.3.4).

python-jwt parsed a token with one parser (jwcrypto, which accepts the JWS
JSON serialization) and read its claims with another (split on "."). A
JSON document whose member name holds "header.forged-payload." and whose
"protected"/"payload"/"signature" members hold a genuine token verified the
genuine signature while the application read the forged claims. jwt-guard
reads exactly one representation, the compact one, with strict base64url
in every segment, so each variant is malformed and the forged claims never
surface.
"""

from __future__ import annotations

import json
import logging

import pytest

from jwt_guard_core import MalformedToken
from jwt_guard_core.encoding import b64url_decode, b64url_encode
from tests.factories import claims, sign


@pytest.fixture
def genuine(keyring) -> str:
    return sign({"alg": "RS256", "kid": "rsa-1"}, claims(sub="user-1"), keyring.rsa)


def _forged_payload(payload: str) -> str:
    forged = json.loads(b64url_decode(payload))
    forged["sub"] = "admin"
    forged["is_admin"] = True
    return b64url_encode(json.dumps(forged, separators=(",", ":")).encode())


def _cve_poc(token: str) -> str:
    # The published proof of concept, byte for byte in structure.
    header, payload, signature = token.split(".")
    fake = _forged_payload(payload)
    return (
        '{"  '
        + header
        + "."
        + fake
        + '.":"","protected":"'
        + header
        + '", "payload":"'
        + payload
        + '","signature":"'
        + signature
        + '"}'
    )


def test_genuine_token_is_accepted(make_verifier, genuine, rejects):
    assert rejects.accepts(make_verifier(), genuine).subject == "user-1"


def test_cve_2022_39227_polyglot_is_rejected_as_malformed(make_verifier, genuine, rejects):
    polyglot = _cve_poc(genuine)
    # It really is a three-segment string, which is what fooled the split.
    assert len(polyglot.split(".")) == 3
    json.loads(polyglot)
    rejects(make_verifier(), polyglot, MalformedToken, "malformed", level=logging.WARNING)


def test_polyglot_with_a_valid_compact_prefix_is_rejected_as_malformed(
    make_verifier, genuine, rejects
):
    # Variant: genuine header, forged payload, and the JSON tail where the
    # signature should be. Strict base64url refuses the signature segment.
    header, payload, signature = genuine.split(".")
    tail = json.dumps({"protected": header, "payload": payload, "signature": signature})
    polyglot = f"{header}.{_forged_payload(payload)}.{tail}"
    rejects(make_verifier(), polyglot, MalformedToken, "malformed", level=logging.WARNING)


def test_polyglot_with_the_genuine_signature_and_json_tail_is_rejected_as_malformed(
    make_verifier, genuine, rejects
):
    header, payload, signature = genuine.split(".")
    polyglot = f'{header}.{payload}.{signature}","payload":"{_forged_payload(payload)}"}}'
    rejects(make_verifier(), polyglot, MalformedToken, "malformed")


def test_flattened_json_serialization_is_rejected_as_malformed(make_verifier, genuine, rejects):
    header, payload, signature = genuine.split(".")
    flattened = json.dumps({"protected": header, "payload": payload, "signature": signature})
    rejects(make_verifier(), flattened, MalformedToken, "malformed", level=logging.WARNING)


def test_general_json_serialization_is_rejected_as_malformed(make_verifier, genuine, rejects):
    header, payload, signature = genuine.split(".")
    general = json.dumps(
        {"payload": payload, "signatures": [{"protected": header, "signature": signature}]}
    )
    rejects(make_verifier(), general, MalformedToken, "malformed")


@pytest.mark.parametrize(
    "wrap",
    [
        pytest.param(lambda t: " " + t, id="leading-space"),
        pytest.param(lambda t: t + "\n", id="trailing-newline"),
        pytest.param(lambda t: t.replace(".", " . "), id="spaced-dots"),
        pytest.param(lambda t: '"' + t + '"', id="json-string"),
        pytest.param(lambda t: "Bearer " + t, id="scheme-included"),
    ],
)
def test_compact_token_with_extra_characters_is_rejected_as_malformed(
    make_verifier, genuine, rejects, wrap
):
    rejects(make_verifier(), wrap(genuine), MalformedToken, "malformed")
