"""Hostile ``kid`` values: path traversal, SQL, shell, log injection.

Verifiers that read a key file named by ``kid``, or look it up with string
built SQL, have been forged with ``kid: "../../dev/null"`` (an empty key)
and ``kid: "' UNION SELECT 'secret"`` (a chosen key). jwt-guard only ever
looks ``kid`` up in an in-memory dictionary of configured keys, so every
such value is simply unknown; these tests pin that, and that the value
reaches the log escaped and bounded.
"""

from __future__ import annotations

import logging

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from jwt_guard_core import (
    AlgorithmNotAllowed,
    GuardConfig,
    MalformedToken,
    StaticKeySet,
    UnknownKid,
    Verifier,
)
from tests.factories import AUDIENCE, ISSUER, claims, public_pem, sign

HOSTILE_KIDS = [
    "../../../../../../dev/null",
    "/dev/null",
    "..\\..\\..\\windows\\win.ini",
    "../../../../etc/passwd%00",
    "file:///etc/passwd",
    "' OR '1'='1",
    "x' UNION SELECT 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' --",
    "1; DROP TABLE keys; --",
    "$(touch /tmp/pwned)",
    "`id`",
    "| cat /etc/passwd",
    "rsa-1; rm -rf /",
    "rsa-1\x00",
    "rsa-1 ",
    "RSA-1",
    "rsa-1\n",
    "{{7*7}}",
    "${jndi:ldap://127.0.0.1/a}",
    "",
]


def test_trusted_kid_is_accepted(make_verifier, keyring, rejects):
    token = sign({"alg": "RS256", "kid": "rsa-1"}, claims(), keyring.rsa)
    assert rejects.accepts(make_verifier(), token).kid == "rsa-1"


@pytest.mark.parametrize("kid", HOSTILE_KIDS)
def test_hostile_kid_is_rejected_with_unknown_kid(make_verifier, keyring, rejects, kid):
    # Signed with the genuine key: only the kid is wrong, and it must not
    # be normalised (trimmed, case-folded, NUL-truncated) into "rsa-1".
    token = sign({"alg": "RS256", "kid": kid}, claims(), keyring.rsa)
    result = rejects(make_verifier(), token, UnknownKid, "unknown_kid", alg="RS256")
    logged = result.record.kid
    assert logged.isprintable()
    assert logged.isascii()


@pytest.mark.parametrize("kid", ["../../../../../../dev/null", "' OR '1'='1"])
def test_hostile_kid_signed_with_an_empty_or_guessed_hmac_key_is_rejected(
    make_verifier, rejects, kid
):
    # The classic payload: kid points at an empty file and the token is
    # HS256-signed with the empty string.
    token = sign({"alg": "HS256", "kid": kid}, claims(sub="admin"), b"")
    rejects(make_verifier(), token, AlgorithmNotAllowed, "alg_not_allowed", level=logging.WARNING)


def test_newline_in_kid_cannot_forge_a_log_line(make_verifier, keyring, rejects):
    kid = "x\nCRITICAL jwt_guard.security token accepted"
    token = sign({"alg": "RS256", "kid": kid}, claims(), keyring.rsa)
    result = rejects(make_verifier(), token, UnknownKid, "unknown_kid")
    assert "\n" not in result.record.kid
    assert "\n" not in result.record.getMessage()
    assert result.record.kid == "x\\nCRITICAL jwt_guard.security token accepted"


def test_lone_surrogate_in_kid_is_rejected_and_logged_escaped(make_verifier, keyring, rejects):
    token = sign(b'{"alg":"RS256","kid":"\\ud800"}', claims(), keyring.rsa, alg="RS256")
    result = rejects(make_verifier(), token, UnknownKid, "unknown_kid")
    assert result.record.kid == "\\ud800"


def test_kid_of_256_characters_is_looked_up_and_unknown(make_verifier, keyring, rejects):
    token = sign({"alg": "RS256", "kid": "k" * 256}, claims(), keyring.rsa)
    result = rejects(make_verifier(), token, UnknownKid, "unknown_kid")
    # Logged bounded, not the whole attacker-chosen value.
    assert len(result.record.kid) <= 131


def test_kid_over_256_characters_is_rejected_as_malformed(make_verifier, keyring, rejects):
    token = sign({"alg": "RS256", "kid": "k" * 257}, claims(), keyring.rsa)
    rejects(make_verifier(), token, MalformedToken, "malformed", level=logging.WARNING)


@pytest.mark.parametrize(
    "kid",
    [1, 0, True, ["rsa-1"], {"$ne": None}, {"kid": "rsa-1"}, 1.5, None],
    ids=["int", "zero", "bool", "list", "nosql-operator", "object", "float", "null"],
)
def test_kid_that_is_not_a_string_is_rejected_as_malformed(make_verifier, keyring, rejects, kid):
    token = sign({"alg": "RS256", "kid": kid}, claims(), keyring.rsa)
    result = rejects(make_verifier(), token, MalformedToken, "malformed", level=logging.WARNING)
    assert not isinstance(getattr(result.record, "kid", None), (list, dict))


def test_missing_kid_uses_the_only_key_that_fits(make_verifier, keyring, rejects):
    token = sign({"alg": "RS256"}, claims(), keyring.rsa)
    assert rejects.accepts(make_verifier(), token).kid == "rsa-1"


def test_missing_kid_with_several_candidate_keys_is_rejected_with_unknown_kid(
    keyring, clock, rejects
):
    second = rsa.generate_private_key(65537, 2048)
    keys = StaticKeySet.from_pem({"rsa-1": public_pem(keyring.rsa), "rsa-2": public_pem(second)})
    verifier = Verifier(
        GuardConfig(algorithms=["RS256"], keys=keys, issuer=ISSUER, audience=AUDIENCE, clock=clock)
    )
    token = sign({"alg": "RS256"}, claims(), keyring.rsa)
    rejects(verifier, token, UnknownKid, "unknown_kid")
