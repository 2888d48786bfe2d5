"""``averify`` gives exactly what ``verify`` gives, for every algorithm and rejection."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from typing import Any

import pytest

from jwt_guard_core import (
    GuardConfig,
    StaticKeySet,
    TokenError,
    VerificationKey,
    VerifiedToken,
    Verifier,
)
from jwt_guard_core.encoding import b64url_encode
from tests.factories import (
    ALGORITHM_CASE_IDS,
    ALGORITHM_CASES,
    AUDIENCE,
    ISSUER,
    NOW,
    KeyRing,
    claims,
    public_pem,
    sign,
)

T = int(NOW)

ALGS = ALGORITHM_CASES


class DenyList:
    """A RevocationCheck over a set of revoked jti values."""

    def __init__(self, *revoked: str) -> None:
        self.revoked = frozenset(revoked)

    def is_revoked(self, claims: Mapping[str, Any], issuer: str | None) -> bool:
        return claims.get("jti") in self.revoked

    async def ais_revoked(self, claims: Mapping[str, Any], issuer: str | None) -> bool:
        await asyncio.sleep(0)
        return claims.get("jti") in self.revoked


class AsyncOnlyKeys:
    """A KeySource whose blocking lookup must never be used by ``averify``."""

    def __init__(self, inner: StaticKeySet) -> None:
        self.inner = inner
        self.async_calls = 0

    @property
    def allows_hmac(self) -> bool:
        return self.inner.allows_hmac

    def get_key(self, kid: str | None, alg: str) -> VerificationKey:
        raise AssertionError("averify called the blocking get_key")

    async def aget_key(self, kid: str | None, alg: str) -> VerificationKey:
        self.async_calls += 1
        await asyncio.sleep(0)
        return self.inner.get_key(kid, alg)


def build(keyring: KeyRing, clock: Any, alg: str, attr: str, **extra: Any) -> Verifier:
    if attr == "secret":
        keys = StaticKeySet.from_secret(keyring.secret, algorithm=alg, kid="k1")
    else:
        keys = StaticKeySet.from_pem(public_pem(getattr(keyring, attr)), kid="k1")
    options: dict[str, Any] = {
        "algorithms": [alg],
        "keys": keys,
        "issuer": ISSUER,
        "audience": AUDIENCE,
        "clock": clock,
        "expected_type": "at+jwt",
        "max_token_age": 3600,
        "max_lifetime": 3600,
        "revocation": DenyList("revoked-jti"),
    }
    options.update(extra)
    return Verifier(GuardConfig(**options))


def tokens(keyring: KeyRing, alg: str, attr: str) -> dict[str, Any]:
    """A broad set of tokens: one valid, the rest each failing one step."""
    key = getattr(keyring, attr)
    header = {"alg": alg, "kid": "k1", "typ": "at+jwt"}

    def tok(h: dict[str, Any] | None = None, **overrides: Any) -> str:
        return sign({**header, **(h or {})}, claims(**overrides), key, alg=alg)

    valid = tok()
    head, body, sig = valid.split(".")
    none_header = b64url_encode(json.dumps({"alg": "none"}).encode())
    return {
        "valid": valid,
        "valid_list_aud_scp": tok(aud=[AUDIENCE, "x"], scope=None, scp=["a", "b"]),
        "tampered_payload": f"{head}.{b64url_encode(json.dumps(claims(sub='x')).encode())}.{sig}",
        "stripped_signature": f"{head}.{body}.",
        "alg_none": f"{none_header}.{body}.",
        "expired": tok(exp=T - 11),
        "not_yet_valid": tok(nbf=T + 11),
        "issued_in_future": tok(iat=T + 11, nbf=None),
        "too_old": tok(iat=T - 3700, nbf=None, exp=T + 60),
        "lifetime_too_long": tok(iat=T - 60, exp=T + 3600),
        "bad_issuer": tok(iss="https://evil.example"),
        "bad_audience": tok(aud="https://evil.example"),
        "missing_sub": tok(sub=None),
        "empty_sub": tok(sub=""),
        "bad_scope": tok(scope=["a"]),
        "bad_type": tok({"typ": "JWT"}),
        "unknown_kid": tok({"kid": "k2"}),
        "embedded_jwk": tok({"jwk": {"kty": "oct", "k": "AAAA"}}),
        "unknown_crit": tok({"crit": ["exp"], "exp": 1}),
        "revoked": tok(jti="revoked-jti"),
        "jwe_shape": "a.b.c.d.e",
        "two_segments": f"{head}.{body}",
        "too_large": "a" * 9000,
        "not_a_string": None,
        "non_ascii": f"{head}.{body}.\u00e9",
    }


def outcome(call: Any) -> tuple[str, Any]:
    try:
        result = call()
    except TokenError as exc:
        return ("error", (type(exc), exc.reason, exc.error, exc.status, exc.detail))
    assert isinstance(result, VerifiedToken)
    return ("ok", result)


@pytest.mark.parametrize(("alg", "attr"), ALGS, ids=ALGORITHM_CASE_IDS)
async def test_averify_matches_verify_on_every_token(keyring, clock, alg, attr, caplog):
    verifier = build(keyring, clock, alg, attr)
    cases = tokens(keyring, alg, attr)
    with caplog.at_level(logging.INFO, logger="jwt_guard.security"):
        for name, token in cases.items():
            caplog.clear()
            sync = outcome(lambda token=token: verifier.verify(token))
            sync_events = [
                (r.levelno, r.getMessage(), getattr(r, "reason", None)) for r in caplog.records
            ]
            caplog.clear()
            try:
                asynchronous: tuple[str, Any] = ("ok", await verifier.averify(token))
            except TokenError as exc:
                asynchronous = ("error", (type(exc), exc.reason, exc.error, exc.status, exc.detail))
            async_events = [
                (r.levelno, r.getMessage(), getattr(r, "reason", None)) for r in caplog.records
            ]
            assert asynchronous == sync, name
            assert async_events == sync_events, name
            expected_ok = name.startswith("valid")
            assert (sync[0] == "ok") is expected_ok, (name, sync)


@pytest.mark.parametrize(("alg", "attr"), ALGS, ids=ALGORITHM_CASE_IDS)
async def test_averify_result_equals_verify_result(keyring, clock, alg, attr):
    verifier = build(keyring, clock, alg, attr)
    token = tokens(keyring, alg, attr)["valid"]
    sync = verifier.verify(token)
    asynchronous = await verifier.averify(token)
    assert asynchronous == sync
    assert asynchronous.algorithm == alg
    assert asynchronous.scopes == {"orders:read", "profile"}


async def test_averify_uses_only_the_async_key_lookup(keyring, clock):
    keys = AsyncOnlyKeys(StaticKeySet.from_pem(public_pem(keyring.rsa), kid="k1"))
    verifier = build(keyring, clock, "RS256", "rsa", keys=keys)
    result = await verifier.averify(tokens(keyring, "RS256", "rsa")["valid"])
    assert result.kid == "k1"
    assert keys.async_calls == 1


async def test_concurrent_averify_calls_give_independent_results(keyring, clock):
    verifier = build(keyring, clock, "ES256", "p256")
    key = keyring.p256
    header = {"alg": "ES256", "kid": "k1", "typ": "at+jwt"}
    good = [sign(header, claims(sub=f"user-{i}", jti=f"j-{i}"), key) for i in range(20)]
    bad = [sign(header, claims(aud=f"https://other-{i}.example"), key) for i in range(20)]
    results = await asyncio.gather(
        *(verifier.averify(t) for t in [*good, *bad]), return_exceptions=True
    )
    assert [r.subject for r in results[:20]] == [f"user-{i}" for i in range(20)]
    assert all(isinstance(r, TokenError) and r.reason == "bad_audience" for r in results[20:])
