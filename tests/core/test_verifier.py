"""The pipeline's order, key selection, revocation and internal-error handling.

A recording key source and revocation check (real implementations of the
protocols over a real ``StaticKeySet``) show which steps ran: cheap
rejections never reach the key source, and revocation is asked only about
tokens whose signature and claims have been verified.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from jwt_guard_core import (
    GuardConfig,
    IssuerPolicy,
    KeySource,
    KeySourceUnavailable,
    RevocationCheck,
    StaticKeySet,
    TokenError,
    TokenRevoked,
    VerificationKey,
    VerifiedToken,
    Verifier,
)
from jwt_guard_core.encoding import b64url_encode
from jwt_guard_core.http import error_response
from tests.factories import AUDIENCE, ISSUER, NOW, claims, public_pem, sign

T = int(NOW)


class RecordingKeySource:
    """A KeySource over a StaticKeySet that records every lookup."""

    def __init__(self, inner: StaticKeySet, fail_with: Exception | None = None) -> None:
        self.inner = inner
        self.fail_with = fail_with
        self.calls: list[tuple[str | None, str]] = []

    @property
    def allows_hmac(self) -> bool:
        return self.inner.allows_hmac

    def get_key(self, kid: str | None, alg: str) -> VerificationKey:
        self.calls.append((kid, alg))
        if self.fail_with is not None:
            raise self.fail_with
        return self.inner.get_key(kid, alg)

    async def aget_key(self, kid: str | None, alg: str) -> VerificationKey:
        self.calls.append((kid, alg))
        await asyncio.sleep(0)
        if self.fail_with is not None:
            raise self.fail_with
        return await self.inner.aget_key(kid, alg)


class RecordingRevocation:
    """A RevocationCheck with a jti denylist that records what it was asked."""

    def __init__(self, revoked: set[str] = frozenset(), fail_with: Exception | None = None) -> None:  # type: ignore[assignment]
        self.revoked = set(revoked)
        self.fail_with = fail_with
        self.asked: list[tuple[dict[str, Any], str | None]] = []

    def is_revoked(self, claims: Mapping[str, Any], issuer: str | None) -> bool:
        self.asked.append((dict(claims), issuer))
        if self.fail_with is not None:
            raise self.fail_with
        return claims.get("jti") in self.revoked

    async def ais_revoked(self, claims: Mapping[str, Any], issuer: str | None) -> bool:
        await asyncio.sleep(0)
        return self.is_revoked(claims, issuer)


@pytest.fixture(params=["sync", "async"])
def run(request: pytest.FixtureRequest) -> Callable[[Verifier, Any], VerifiedToken]:
    """Runs ``verify`` or ``averify``, so each pipeline test covers both paths."""

    def _run(verifier: Verifier, token: Any) -> VerifiedToken:
        if request.param == "sync":
            return verifier.verify(token)
        return asyncio.run(verifier.averify(token))

    return _run


@pytest.fixture
def source(rsa_keys: StaticKeySet) -> RecordingKeySource:
    return RecordingKeySource(rsa_keys)


@pytest.fixture
def verifier_with(clock):
    def _make(keys: Any, **overrides: Any) -> Verifier:
        options: dict[str, Any] = {
            "algorithms": ["RS256"],
            "keys": keys,
            "issuer": ISSUER,
            "audience": AUDIENCE,
            "clock": clock,
        }
        options.update(overrides)
        return Verifier(GuardConfig(**options))

    return _make


def rejected(run: Callable[..., Any], verifier: Verifier, token: Any, reason: str) -> TokenError:
    with pytest.raises(TokenError) as info:
        run(verifier, token)
    assert info.value.reason == reason
    return info.value


def rsa_token(keyring: Any, header: dict[str, Any] | None = None, **overrides: Any) -> str:
    return sign(
        {"alg": "RS256", "kid": "rsa-1", **(header or {})}, claims(**overrides), keyring.rsa
    )


def test_the_recording_doubles_implement_the_protocols(source):
    assert isinstance(source, KeySource)
    assert isinstance(RecordingRevocation(), RevocationCheck)


def test_verifier_needs_a_guard_config():
    with pytest.raises(TypeError, match="GuardConfig"):
        Verifier({"algorithms": ["RS256"]})  # type: ignore[arg-type]


# -- cheap rejections never reach the key source


def test_a_valid_token_looks_up_its_key_once(run, verifier_with, source, keyring):
    result = run(verifier_with(source), rsa_token(keyring))
    assert result.kid == "rsa-1"
    assert source.calls == [("rsa-1", "RS256")]


def test_expired_token_is_rejected_without_calling_the_key_source(
    run, verifier_with, source, keyring
):
    error = rejected(run, verifier_with(source), rsa_token(keyring, exp=T - 3600), "token_expired")
    assert error.status == 401
    assert source.calls == []


def test_unknown_issuer_is_rejected_without_calling_the_key_source(
    run, verifier_with, source, keyring
):
    token = rsa_token(keyring, iss="https://evil.example")
    error = rejected(run, verifier_with(source), token, "bad_issuer")
    assert error_response(error).headers["WWW-Authenticate"].endswith('error="invalid_token"')
    assert source.calls == []


def test_missing_issuer_is_rejected_without_calling_the_key_source(
    run, verifier_with, source, keyring
):
    rejected(run, verifier_with(source), rsa_token(keyring, iss=None), "missing_claim")
    assert source.calls == []


@pytest.mark.parametrize(
    ("alg", "key_attr"),
    [("ES256", "p256"), ("HS256", "secret"), ("PS256", "rsa"), ("EdDSA", "ed25519")],
)
def test_disallowed_alg_is_rejected_without_calling_the_key_source(
    run, verifier_with, source, keyring, alg, key_attr
):
    token = sign({"alg": alg, "kid": "rsa-1"}, claims(), getattr(keyring, key_attr))
    error = rejected(run, verifier_with(source), token, "alg_not_allowed")
    assert error.status == 401
    assert source.calls == []


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_alg_none_is_rejected_without_calling_the_key_source(run, verifier_with, source, alg):
    header = b64url_encode(json.dumps({"alg": alg}).encode())
    payload = b64url_encode(json.dumps(claims()).encode())
    rejected(run, verifier_with(source), f"{header}.{payload}.", "alg_not_allowed")
    assert source.calls == []


def test_wrong_type_is_rejected_without_calling_the_key_source(run, verifier_with, source, keyring):
    verifier = verifier_with(source, expected_type="at+jwt")
    rejected(run, verifier, rsa_token(keyring, {"typ": "JWT"}), "bad_type")
    assert source.calls == []


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("", "malformed"),
        ("a.b", "malformed"),
        ("a.b.c.d.e", "malformed"),
        (None, "malformed"),
        (b"a.b.c", "malformed"),
        ("x" * 9000, "token_too_large"),
    ],
)
def test_garbage_is_rejected_without_calling_the_key_source(
    run, verifier_with, source, token, reason
):
    rejected(run, verifier_with(source), token, reason)
    assert source.calls == []


def test_a_forged_token_with_wrong_claims_is_reported_as_bad_signature(
    run, verifier_with, source, keyring
):
    # Claims of an unverified token are not trusted enough to be reported on.
    token = rsa_token(keyring, aud="https://evil.example", sub="")
    forged = token[:-8] + ("AAAAAAAA" if not token.endswith("AAAAAAAA") else "BBBBBBBB")
    rejected(run, verifier_with(source), forged, "bad_signature")
    assert source.calls == [("rsa-1", "RS256")]


# -- key selection


def test_token_without_kid_verifies_with_the_only_candidate_key(run, verifier_with, keyring):
    keys = StaticKeySet.from_pem(public_pem(keyring.rsa), kid="only")
    result = run(verifier_with(keys), sign({"alg": "RS256"}, claims(), keyring.rsa))
    assert result.kid == "only"


def test_token_without_kid_verifies_with_a_kidless_key(run, verifier_with, keyring):
    keys = StaticKeySet.from_pem(public_pem(keyring.rsa))
    result = run(verifier_with(keys), sign({"alg": "RS256"}, claims(), keyring.rsa))
    assert result.kid is None


def test_token_without_kid_picks_the_one_key_bound_to_its_alg(run, verifier_with, keyring):
    keys = StaticKeySet(
        [
            *StaticKeySet.from_pem(public_pem(keyring.rsa), kid="rsa").keys,
            *StaticKeySet.from_pem(public_pem(keyring.p256), kid="ec").keys,
        ]
    )
    verifier = verifier_with(keys, algorithms=["RS256", "ES256"])
    assert run(verifier, sign({"alg": "ES256"}, claims(), keyring.p256)).kid == "ec"
    assert run(verifier, sign({"alg": "RS256"}, claims(), keyring.rsa)).kid == "rsa"


def test_token_without_kid_and_several_candidate_keys_is_rejected_with_unknown_kid(
    run, verifier_with, keyring
):
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(65537, 2048)
    keys = StaticKeySet.from_pem({"a": public_pem(keyring.rsa), "b": public_pem(other)})
    error = rejected(
        run, verifier_with(keys), sign({"alg": "RS256"}, claims(), keyring.rsa), "unknown_kid"
    )
    assert (error.status, error.error) == (401, "invalid_token")


def test_unknown_kid_is_rejected_with_unknown_kid(run, verifier_with, source, keyring):
    token = rsa_token(keyring, {"kid": "rsa-2"})
    rejected(run, verifier_with(source), token, "unknown_kid")
    assert source.calls == [("rsa-2", "RS256")]


def test_key_bound_to_another_alg_is_rejected_with_alg_not_allowed(
    run, verifier_with, keyring, caplog
):
    keys = StaticKeySet.from_pem(public_pem(keyring.rsa), kid="rsa-1", algorithms=["RS256"])
    verifier = verifier_with(keys, algorithms=["RS256", "PS256"])
    token = sign({"alg": "PS256", "kid": "rsa-1"}, claims(), keyring.rsa)
    with caplog.at_level(logging.INFO, logger="jwt_guard.security"):
        rejected(run, verifier, token, "alg_not_allowed")
    (record,) = [r for r in caplog.records if r.name == "jwt_guard.security"]
    assert record.levelno == logging.WARNING
    # The same key still verifies the algorithm it is bound to.
    assert run(verifier, rsa_token(keyring)).algorithm == "RS256"


# -- revocation


def test_revoked_token_is_rejected_with_revoked(run, verifier_with, keyring):
    revocation = RecordingRevocation(revoked={"jti-1"})
    verifier = verifier_with(
        StaticKeySet.from_pem(public_pem(keyring.rsa), kid="rsa-1"), revocation=revocation
    )
    error = rejected(run, verifier, rsa_token(keyring), "revoked")
    assert isinstance(error, TokenRevoked)
    assert (error.status, error.error) == (401, "invalid_token")
    assert error_response(error).headers["WWW-Authenticate"] == (
        'Bearer realm="api", error="invalid_token"'
    )
    assert run(verifier, rsa_token(keyring, jti="jti-2")).jti == "jti-2"


def test_revocation_is_asked_with_the_verified_claims_and_issuer(
    run, verifier_with, source, keyring
):
    revocation = RecordingRevocation()
    run(verifier_with(source, revocation=revocation), rsa_token(keyring))
    assert revocation.asked == [(claims(), ISSUER)]


@pytest.mark.parametrize(
    ("overrides", "tamper", "reason"),
    [
        ({}, True, "bad_signature"),
        ({"exp": T - 3600}, False, "token_expired"),
        ({"aud": "https://evil.example"}, False, "bad_audience"),
        ({"nbf": T + 3600}, False, "not_yet_valid"),
        ({"sub": ""}, False, "invalid_claim"),
        ({"iss": "https://evil.example"}, False, "bad_issuer"),
    ],
)
def test_revocation_is_consulted_only_after_the_signature_and_claims_verify(
    run, verifier_with, source, keyring, overrides, tamper, reason
):
    revocation = RecordingRevocation(revoked={"jti-1"})
    token = rsa_token(keyring, **overrides)
    if tamper:
        token = token[:-8] + ("AAAAAAAA" if not token.endswith("AAAAAAAA") else "BBBBBBBB")
    rejected(run, verifier_with(source, revocation=revocation), token, reason)
    assert revocation.asked == []


def test_revocation_state_unavailable_fails_closed_with_503(run, verifier_with, source, keyring):
    revocation = RecordingRevocation(fail_with=KeySourceUnavailable(retry_after=7))
    error = rejected(
        run,
        verifier_with(source, revocation=revocation),
        rsa_token(keyring),
        "key_source_unavailable",
    )
    assert isinstance(error, KeySourceUnavailable)
    assert error.status == 503
    response = error_response(error)
    assert response.status == 503
    assert response.headers == {"Retry-After": "7"}


# -- unexpected failures never propagate


@pytest.mark.parametrize(
    "failure",
    [RuntimeError("backend exploded"), KeyError("kid"), ValueError("bad"), OSError(5, "io")],
)
def test_key_source_raising_unexpectedly_becomes_verification_error(
    run, verifier_with, rsa_keys, keyring, caplog, failure
):
    source = RecordingKeySource(rsa_keys, fail_with=failure)
    with caplog.at_level(logging.INFO, logger="jwt_guard"):
        error = rejected(run, verifier_with(source), rsa_token(keyring), "verification_error")
    assert type(error) is TokenError
    assert (error.status, error.error) == (401, "invalid_token")
    # The original exception is not chained onto what a caller (or a
    # framework's error page) would show.
    assert error.__cause__ is None
    assert error.__suppress_context__
    assert str(failure) not in str(error)
    internal = [r for r in caplog.records if r.name == "jwt_guard.verifier"]
    assert len(internal) == 1
    assert internal[0].levelno == logging.ERROR
    assert internal[0].exc_info is not None
    assert internal[0].exc_info[1] is failure
    events = [r for r in caplog.records if r.name == "jwt_guard.security"]
    assert [getattr(r, "reason", None) for r in events] == ["verification_error"]


def test_revocation_check_raising_unexpectedly_becomes_verification_error(
    run, verifier_with, source, keyring
):
    revocation = RecordingRevocation(fail_with=RuntimeError("redis gone"))
    error = rejected(
        run, verifier_with(source, revocation=revocation), rsa_token(keyring), "verification_error"
    )
    assert type(error) is TokenError


def test_key_source_unavailable_is_a_503_not_an_invalid_token(
    run, verifier_with, rsa_keys, keyring
):
    source = RecordingKeySource(rsa_keys, fail_with=KeySourceUnavailable(retry_after=30))
    error = rejected(run, verifier_with(source), rsa_token(keyring), "key_source_unavailable")
    assert (error.status, error.error) == (503, "temporarily_unavailable")
    assert error_response(error).headers == {"Retry-After": "30"}


# -- several issuers: the token's iss picks the key source


@pytest.fixture
def two_issuers(keyring, rsa_keys, clock):
    a = RecordingKeySource(rsa_keys)
    b = RecordingKeySource(StaticKeySet.from_pem(public_pem(keyring.p256), kid="ec-1"))
    verifier = Verifier(
        GuardConfig(
            algorithms=["RS256", "ES256"],
            audience=AUDIENCE,
            clock=clock,
            issuers={
                "https://a.example": IssuerPolicy(keys=a, algorithms=["RS256"]),
                "https://b.example": IssuerPolicy(keys=b, algorithms=["ES256"]),
            },
        )
    )
    return verifier, a, b


def test_the_tokens_iss_selects_which_key_source_is_asked(run, two_issuers, keyring):
    verifier, a, b = two_issuers
    token = sign({"alg": "ES256", "kid": "ec-1"}, claims(iss="https://b.example"), keyring.p256)
    assert run(verifier, token).issuer == "https://b.example"
    assert (a.calls, b.calls) == ([], [("ec-1", "ES256")])


def test_unknown_iss_asks_no_issuers_key_source(run, two_issuers, keyring):
    verifier, a, b = two_issuers
    token = sign({"alg": "RS256", "kid": "rsa-1"}, claims(iss="https://c.example"), keyring.rsa)
    rejected(run, verifier, token, "bad_issuer")
    assert (a.calls, b.calls) == ([], [])


def test_another_issuers_algorithm_asks_no_key_source(run, two_issuers, keyring):
    verifier, a, b = two_issuers
    token = sign({"alg": "ES256", "kid": "ec-1"}, claims(iss="https://a.example"), keyring.p256)
    rejected(run, verifier, token, "alg_not_allowed")
    assert (a.calls, b.calls) == ([], [])


def test_a_list_of_issuers_sharing_keys_reports_the_matched_issuer(run, verifier_with, keyring):
    keys = StaticKeySet.from_pem(public_pem(keyring.rsa), kid="rsa-1")
    verifier = verifier_with(keys, issuer=["https://a.example", "https://b.example"])
    for iss in ("https://a.example", "https://b.example"):
        token = sign({"alg": "RS256", "kid": "rsa-1"}, claims(iss=iss), keyring.rsa)
        assert run(verifier, token).issuer == iss
    token = sign({"alg": "RS256", "kid": "rsa-1"}, claims(iss=ISSUER), keyring.rsa)
    rejected(run, verifier, token, "bad_issuer")
