"""Input of any shape gives a TokenError with a known reason, never anything else.

Property-based: hypothesis generates arbitrary text, mutations of a valid
token, and arbitrary JSON headers and payloads carrying a genuine signature.
Whatever comes in, ``verify`` and ``averify`` either accept (only a genuine
token can be accepted) or raise a ``TokenError`` whose reason is one of the
documented codes; ``verification_error`` (the safety net for a bug) never
appears, and the error text never echoes the token. Examples are derandomized
so a failure reproduces on every run.
"""

from __future__ import annotations

import asyncio
import functools
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jwt_guard_core import GuardConfig, StaticKeySet, TokenError, Verifier
from jwt_guard_core.encoding import b64url_encode
from tests.factories import AUDIENCE, ISSUER, FakeClock, KeyRing, claims, public_pem, sign

KNOWN_REASONS = frozenset(
    {
        "malformed",
        "token_too_large",
        "alg_not_allowed",
        "embedded_key",
        "unknown_crit",
        "bad_type",
        "unknown_kid",
        "bad_signature",
        "token_expired",
        "not_yet_valid",
        "issued_in_future",
        "token_too_old",
        "bad_issuer",
        "bad_audience",
        "missing_claim",
        "invalid_claim",
        "lifetime_too_long",
    }
)
FUZZ = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@functools.cache
def _setup() -> tuple[Verifier, KeyRing, str]:
    keyring = KeyRing()
    verifier = Verifier(
        GuardConfig(
            algorithms=["RS256", "PS256"],
            keys=StaticKeySet.from_pem(public_pem(keyring.rsa), kid="rsa-1"),
            issuer=ISSUER,
            audience=AUDIENCE,
            expected_type="at+jwt",
            max_token_age=3600,
            max_lifetime=7200,
            clock=FakeClock(),
        )
    )
    genuine = sign({"alg": "RS256", "kid": "rsa-1", "typ": "at+jwt"}, claims(), keyring.rsa)
    return verifier, keyring, genuine


def _outcome(token: Any) -> list[str]:
    """Run sync and async; return the reasons (or "accepted") and check the rules."""
    verifier, _, _ = _setup()
    outcomes = []
    for run in (verifier.verify, lambda t: asyncio.run(verifier.averify(t))):
        error: TokenError | None = None
        try:
            run(token)
        except TokenError as exc:
            error = exc
        if error is None:
            outcomes.append("accepted")
            continue
        assert error.reason in KNOWN_REASONS, error.reason
        assert error.status == 401
        assert error.error == "invalid_token"
        if isinstance(token, str) and len(token) >= 16:
            assert token not in str(error)
            assert token not in repr(error)
        outcomes.append(error.reason)
    assert outcomes[0] == outcomes[1], "sync and async disagree"
    return outcomes


def test_genuine_token_is_accepted_by_the_fuzz_verifier():
    _, _, genuine = _setup()
    assert _outcome(genuine) == ["accepted", "accepted"]


@FUZZ
@given(st.text(max_size=400))
def test_arbitrary_text_is_rejected_with_a_known_reason(text):
    assert "accepted" not in _outcome(text)


@FUZZ
@given(st.binary(max_size=200), st.binary(max_size=200), st.binary(max_size=300))
def test_arbitrary_segments_are_rejected_with_a_known_reason(header, payload, signature):
    token = ".".join(b64url_encode(part) for part in (header, payload, signature))
    assert "accepted" not in _outcome(token)


@FUZZ
@given(st.data())
def test_mutated_genuine_token_is_never_accepted(data):
    _, _, genuine = _setup()
    start = data.draw(st.integers(0, len(genuine) - 1))
    end = data.draw(st.integers(start, min(len(genuine), start + 20)))
    replacement = data.draw(
        st.text(
            alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ ",
            max_size=20,
        )
    )
    token = genuine[:start] + replacement + genuine[end:]
    outcome = _outcome(token)
    if token != genuine:
        # A different string can only verify if it decodes to the same
        # bytes, which strict base64url rules out.
        assert "accepted" not in outcome


JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
HEADER_NAMES = st.sampled_from(
    ["alg", "kid", "typ", "crit", "jku", "jwk", "x5c", "b64", "cty", "zip"]
)
CLAIM_NAMES = st.sampled_from(["iss", "aud", "sub", "exp", "nbf", "iat", "jti", "scope", "scp"])


@FUZZ
@given(st.dictionaries(HEADER_NAMES | st.text(max_size=6), JSON_VALUES, max_size=6))
def test_arbitrary_header_with_a_genuine_signature_is_never_an_internal_error(header):
    _, keyring, _ = _setup()
    token = sign(json.dumps(header).encode(), claims(), keyring.rsa, alg="RS256")
    _outcome(token)


@FUZZ
@given(st.dictionaries(CLAIM_NAMES, JSON_VALUES, max_size=9))
def test_arbitrary_claim_values_with_a_genuine_signature_are_never_an_internal_error(overrides):
    _, keyring, _ = _setup()
    payload = {**claims(), **overrides}
    token = sign({"alg": "RS256", "kid": "rsa-1", "typ": "at+jwt"}, payload, keyring.rsa)
    outcome = _outcome(token)
    if outcome[0] == "accepted":
        # Only claims that pass every check can get through.
        assert payload["iss"] == ISSUER
        assert AUDIENCE in ([payload["aud"]] if isinstance(payload["aud"], str) else payload["aud"])
        assert isinstance(payload["sub"], str)
        assert payload["sub"]
