"""alg "none" (RFC 7518 section 3.6) is never accepted, in any casing or shape.

The unsecured JWT is the oldest JWT forgery: rewrite the header to
``{"alg": "none"}``, drop the signature, and a verifier that lets the token
choose its algorithm accepts any claims (RFC 8725 section 2.1).
"""

from __future__ import annotations

import itertools
import json
import logging

import pytest

from jwt_guard_core import AlgorithmNotAllowed, ConfigurationError, GuardConfig, MalformedToken
from jwt_guard_core.encoding import b64url_encode
from tests.factories import AUDIENCE, ISSUER, claims, sign

EVERY_CASING = sorted(
    {"".join(chars) for chars in itertools.product(*((c.lower(), c.upper()) for c in "none"))}
)


def _unsigned(alg: object, signature: str = "") -> str:
    head = b64url_encode(json.dumps({"alg": alg, "kid": "rsa-1"}).encode())
    payload = b64url_encode(json.dumps(claims(sub="admin")).encode())
    return f"{head}.{payload}.{signature}"


def test_every_casing_of_none_is_enumerated():
    assert len(EVERY_CASING) == 16
    assert {"none", "NONE", "None", "nOnE"} <= set(EVERY_CASING)


def test_legitimate_rs256_token_is_accepted(make_verifier, keyring, rejects):
    token = sign({"alg": "RS256", "kid": "rsa-1"}, claims(sub="admin"), keyring.rsa)
    assert rejects.accepts(make_verifier(), token).subject == "admin"


@pytest.mark.parametrize("alg", EVERY_CASING)
def test_alg_none_with_empty_signature_is_rejected_with_alg_not_allowed(
    make_verifier, rejects, alg
):
    rejects(
        make_verifier(),
        _unsigned(alg),
        AlgorithmNotAllowed,
        "alg_not_allowed",
        level=logging.WARNING,
        alg=alg,
        kid="rsa-1",
    )


@pytest.mark.parametrize("alg", EVERY_CASING)
def test_alg_none_keeping_a_valid_rs256_signature_is_rejected_with_alg_not_allowed(
    make_verifier, keyring, rejects, alg
):
    # The attacker keeps the original token's signature: a verifier that
    # skipped the header for "none" would still have nothing to check.
    genuine = sign({"alg": "RS256", "kid": "rsa-1"}, claims(sub="admin"), keyring.rsa)
    token = _unsigned(alg, signature=genuine.rsplit(".", 1)[1])
    rejects(
        make_verifier(),
        token,
        AlgorithmNotAllowed,
        "alg_not_allowed",
        level=logging.WARNING,
        alg=alg,
    )


def test_alg_none_is_refused_even_when_every_other_check_would_pass(make_verifier, rejects):
    # Same kid, issuer, audience and times as a valid token: only alg differs.
    result = rejects(make_verifier(), _unsigned("none"), AlgorithmNotAllowed, "alg_not_allowed")
    assert "none" in result.error.detail


@pytest.mark.parametrize(
    ("alg", "logged"),
    [
        ("none ", "none "),
        (" none", " none"),
        ("non\u0435", "non\\u0435"),  # Cyrillic "e": a lookalike, not none
        ("none\x00", "none\\x00"),
        ("", ""),
    ],
)
def test_lookalikes_of_none_are_rejected_with_alg_not_allowed(make_verifier, rejects, alg, logged):
    result = rejects(
        make_verifier(),
        _unsigned(alg),
        AlgorithmNotAllowed,
        "alg_not_allowed",
        level=logging.WARNING,
    )
    # The attacker-chosen alg reaches the log escaped: no control characters.
    assert result.record.alg == logged
    assert result.record.alg.isprintable()


@pytest.mark.parametrize("header", [{"kid": "rsa-1"}, {"alg": None}, {"alg": ["none"]}, {"alg": 0}])
def test_header_without_an_alg_string_is_rejected_as_malformed(make_verifier, rejects, header):
    head = b64url_encode(json.dumps(header).encode())
    payload = b64url_encode(json.dumps(claims()).encode())
    rejects(
        make_verifier(),
        f"{head}.{payload}.",
        MalformedToken,
        "malformed",
        level=logging.WARNING,
    )


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_configuration_can_never_allow_alg_none(rsa_keys, alg):
    with pytest.raises(ConfigurationError) as info:
        GuardConfig(algorithms=["RS256", alg], keys=rsa_keys, issuer=ISSUER, audience=AUDIENCE)
    assert info.value.setting == "algorithms"
    assert "never" in str(info.value)
