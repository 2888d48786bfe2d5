"""Each TokenFactory variant is refused by a real Verifier with its reason; a valid one passes."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from jwt_guard_core import ConfigurationError, KeySource, StaticKeySet, TokenError
from jwt_guard_core.encoding import b64url_decode
from jwt_guard_core.signing import IssuanceError
from jwt_guard_core.testing import (
    DEFAULT_SUBJECT,
    WRONG_AUDIENCE,
    WRONG_ISSUER,
    LocalIssuer,
    TokenFactory,
)
from tests.factories import FakeClock

from .conftest import verifier_for

NOW = 1_900_000_000

VARIANTS: list[tuple[str, Callable[[TokenFactory], str], str]] = [
    ("expired", lambda t: t.expired(), "token_expired"),
    ("not_yet_valid", lambda t: t.not_yet_valid(), "not_yet_valid"),
    ("wrong_audience", lambda t: t.wrong_audience(), "bad_audience"),
    ("wrong_issuer", lambda t: t.wrong_issuer(), "bad_issuer"),
    ("unknown_key", lambda t: t.unknown_key(), "unknown_kid"),
    ("signed_by_rotated_key", lambda t: t.signed_by_rotated_key(), "unknown_kid"),
    ("alg_none", lambda t: t.alg_none(), "alg_not_allowed"),
    ("missing_exp", lambda t: t.missing_claim("exp"), "missing_claim"),
    ("missing_iat", lambda t: t.missing_claim("iat"), "missing_claim"),
    ("missing_sub", lambda t: t.missing_claim("sub"), "missing_claim"),
    ("missing_iss", lambda t: t.missing_claim("iss"), "missing_claim"),
    ("missing_aud", lambda t: t.missing_claim("aud"), "missing_claim"),
    ("tampered", lambda t: t.tampered(), "bad_signature"),
]


def parts(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    header, payload, signature = token.split(".")
    return json.loads(b64url_decode(header)), json.loads(b64url_decode(payload)), signature


def reason_for(verify: Callable[[str], Any], token: str) -> str:
    with pytest.raises(TokenError) as refused:
        verify(token)
    return refused.value.reason


@pytest.fixture(params=["static", "jwks", "discovery"])
def verify(
    request: pytest.FixtureRequest, issuer: LocalIssuer, key_source: Callable[[str], KeySource]
) -> Callable[[str], Any]:
    """``verify(token)`` by a verifier holding the issuer's keys statically, by URL or discovery."""
    return verifier_for(issuer, key_source(request.param)).verify


def test_a_valid_token_is_accepted_with_its_claims(
    verify: Callable[[str], Any], issuer: LocalIssuer, tokens: TokenFactory
) -> None:
    token = tokens.token(
        "alice", scopes=["orders:read", "profile"], roles=["staff"], claims={"tenant": "acme"}
    )
    result = verify(token)
    assert result.subject == "alice"
    assert result.issuer == issuer.url
    assert result.scopes == frozenset({"orders:read", "profile"})
    assert list(result.claims["roles"]) == ["staff"]
    assert result.claims["tenant"] == "acme"
    assert result.claims["aud"] == issuer.audience
    assert result.kid == issuer.kid
    assert result.header["typ"] == "at+jwt"
    assert result.algorithm == "ES256"


@pytest.mark.parametrize(
    ("make", "reason"), [(v[1], v[2]) for v in VARIANTS], ids=[v[0] for v in VARIANTS]
)
def test_each_bad_variant_is_refused_with_its_reason(
    verify: Callable[[str], Any],
    tokens: TokenFactory,
    make: Callable[[TokenFactory], str],
    reason: str,
) -> None:
    assert reason_for(verify, make(tokens)) == reason


@pytest.mark.parametrize("algorithm", ["ES256", "ES384", "ES512", "RS256", "PS256", "EdDSA"])
def test_every_algorithm_signs_tokens_its_jwks_verifies(algorithm: str) -> None:
    with LocalIssuer(algorithm=algorithm, serve=False) as local:
        verify = verifier_for(local, StaticKeySet.from_jwks(local.jwks())).verify
        tokens = local.tokens()
        assert verify(tokens.token()).algorithm == algorithm
        assert [k["alg"] for k in local.jwks()["keys"]] == [algorithm]
        assert reason_for(verify, tokens.tampered()) == "bad_signature"
        assert reason_for(verify, tokens.signed_by_rotated_key()) == "unknown_kid"
        assert reason_for(verify, tokens.alg_none()) == "alg_not_allowed"


# -- what each variant holds


@pytest.fixture
def at_now(issuer: LocalIssuer) -> TokenFactory:
    """A factory minting at the fixed time NOW."""
    return TokenFactory(issuer, clock=FakeClock(NOW))


def test_the_factory_clock_sets_the_time_claims(at_now: TokenFactory) -> None:
    _, claims, _ = parts(at_now.token(lifetime=60))
    assert (claims["iat"], claims["nbf"], claims["exp"]) == (NOW, NOW, NOW + 60)
    assert claims["sub"] == DEFAULT_SUBJECT
    assert isinstance(claims["jti"], str)


def test_expired_ended_by_seconds_ago(at_now: TokenFactory) -> None:
    _, claims, _ = parts(at_now.expired())
    assert claims["exp"] == NOW - 3600
    _, claims, _ = parts(at_now.expired(by=20, lifetime=60))
    assert (claims["iat"], claims["exp"]) == (NOW - 80, NOW - 20)


def test_an_expired_token_passes_a_verifier_living_at_its_minting_time(
    issuer: LocalIssuer, at_now: TokenFactory
) -> None:
    token = at_now.expired(by=120)
    keys = StaticKeySet.from_jwks(issuer.jwks())
    assert verifier_for(issuer, keys, clock=FakeClock(NOW - 200)).verify(token)
    assert reason_for(verifier_for(issuer, keys, clock=FakeClock(NOW)).verify, token) == (
        "token_expired"
    )


def test_not_yet_valid_starts_by_seconds_ahead(at_now: TokenFactory) -> None:
    _, claims, _ = parts(at_now.not_yet_valid(by=600))
    assert claims["nbf"] == NOW + 600


def test_wrong_audience_and_issuer_name_another_party(
    issuer: LocalIssuer, tokens: TokenFactory
) -> None:
    assert parts(tokens.wrong_audience())[1]["aud"] == WRONG_AUDIENCE
    assert (
        parts(tokens.wrong_audience(audience="https://x.invalid"))[1]["aud"] == "https://x.invalid"
    )
    header, claims, _ = parts(tokens.wrong_issuer())
    assert claims["iss"] == WRONG_ISSUER
    # Signed with the issuer's own key: only the iss is wrong. A verifier
    # trusting that other issuer with these keys accepts it.
    assert header["kid"] == issuer.kid
    keys = StaticKeySet.from_jwks(issuer.jwks())
    assert verifier_for(issuer, keys, issuer=WRONG_ISSUER).verify(tokens.wrong_issuer())


def test_unknown_key_is_one_foreign_key(issuer: LocalIssuer, tokens: TokenFactory) -> None:
    first, second = parts(tokens.unknown_key())[0], parts(tokens.unknown_key())[0]
    assert first["kid"] == second["kid"]
    assert first["kid"] not in {k["kid"] for k in issuer.jwks()["keys"]}


def test_signed_by_rotated_key_uses_the_key_last_removed(
    issuer: LocalIssuer, tokens: TokenFactory
) -> None:
    started_with = parts(tokens.signed_by_rotated_key())[0]["kid"]
    assert started_with not in {k["kid"] for k in issuer.jwks()["keys"]}
    old = issuer.kid
    issuer.rotate(keep_previous=False)
    assert parts(tokens.signed_by_rotated_key())[0]["kid"] == old
    assert old != started_with


def test_alg_none_is_the_same_token_unsigned(tokens: TokenFactory) -> None:
    header, claims, signature = parts(tokens.alg_none("bob", scopes=["admin"]))
    assert header["alg"] == "none"
    assert signature == ""
    assert (claims["sub"], claims["scope"]) == ("bob", "admin")


def test_missing_claim_removes_only_that_claim(tokens: TokenFactory) -> None:
    _, claims, _ = parts(tokens.missing_claim("exp", "bob"))
    assert "exp" not in claims
    assert {"iss", "sub", "aud", "iat", "nbf", "jti"} <= set(claims)
    assert claims["sub"] == "bob"


def test_missing_claim_of_an_optional_claim_is_accepted(
    issuer: LocalIssuer, tokens: TokenFactory
) -> None:
    verify = verifier_for(issuer, StaticKeySet.from_jwks(issuer.jwks())).verify
    assert "jti" not in verify(tokens.missing_claim("jti")).claims


def test_missing_claim_refuses_a_claim_the_token_lacks(tokens: TokenFactory) -> None:
    with pytest.raises(ConfigurationError, match="'scope' is not a claim"):
        tokens.missing_claim("scope")


def test_tampered_changes_the_payload_and_keeps_the_signature(tokens: TokenFactory) -> None:
    token = tokens.token("bob")
    assert parts(tokens.tampered("bob"))[1]["sub"] == "admin"
    assert parts(tokens.tampered("admin"))[1]["sub"] == "admin-tampered"
    _, claims, _ = parts(tokens.tampered(changes={"scope": "orders:write"}))
    assert claims["scope"] == "orders:write"
    assert token.count(".") == tokens.tampered().count(".") == 2


def test_sign_signs_a_claim_set_exactly_as_given(issuer: LocalIssuer, tokens: TokenFactory) -> None:
    claims = {"iss": issuer.url, "aud": issuer.audience, "sub": "x", "iat": NOW, "exp": "soon"}
    header, signed, _ = parts(tokens.sign(claims))
    assert signed == claims
    assert (header["alg"], header["kid"], header["typ"]) == ("ES256", issuer.kid, "at+jwt")
    verify = verifier_for(issuer, StaticKeySet.from_jwks(issuer.jwks())).verify
    assert reason_for(verify, tokens.sign(claims)) == "invalid_claim"
    assert parts(tokens.sign(claims, header={"typ": "JWT", "alg": "HS256"}))[0]["alg"] == "ES256"


def test_every_variant_takes_the_arguments_of_a_valid_token(tokens: TokenFactory) -> None:
    options: dict[str, Any] = {
        "scopes": ["orders:read"],
        "roles": ["staff"],
        "claims": {"tenant": "acme"},
        "lifetime": 2 * 3600,  # over KeyManager's default maximum, under the issuer's
    }
    made = {
        "expired": tokens.expired("erin", **options),
        "not_yet_valid": tokens.not_yet_valid("erin", **options),
        "wrong_audience": tokens.wrong_audience("erin", **options),
        "wrong_issuer": tokens.wrong_issuer("erin", **options),
        "unknown_key": tokens.unknown_key("erin", **options),
        "signed_by_rotated_key": tokens.signed_by_rotated_key("erin", **options),
        "alg_none": tokens.alg_none("erin", **options),
        "missing_claim": tokens.missing_claim("jti", "erin", **options),
        "tampered": tokens.tampered("erin", changes={"jti": "other"}, **options),
    }
    for name, token in made.items():
        claims = parts(token)[1]
        carried = (claims["sub"], claims["scope"], claims["roles"], claims["tenant"])
        assert carried == ("erin", "orders:read", ["staff"], "acme"), name
        assert claims["exp"] - claims["iat"] == 2 * 3600, name


# -- arguments


def test_bad_arguments_are_refused_with_the_argument_named(tokens: TokenFactory) -> None:
    with pytest.raises(ConfigurationError, match="roles"):
        tokens.token(roles="admin")
    with pytest.raises(ConfigurationError, match="by"):
        tokens.expired(by=0)
    with pytest.raises(ConfigurationError, match="by"):
        tokens.not_yet_valid(by=-5)
    with pytest.raises(IssuanceError, match="scopes"):
        tokens.token(scopes="orders:read")
    with pytest.raises(IssuanceError, match="claims"):
        tokens.token(claims={"exp": 1})
    with pytest.raises(IssuanceError, match="lifetime"):
        tokens.token(lifetime=10 * 86400)
    with pytest.raises(ConfigurationError, match="clock"):
        TokenFactory(tokens.issuer, clock=42)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda t: t.expired(by=float("inf")), "by"),
        (lambda t: t.expired(by=float("nan")), "by"),
        (lambda t: t.expired(by="1"), "by"),
        (lambda t: t.expired(lifetime=-1), "lifetime"),
        (lambda t: t.not_yet_valid(by=timedelta(0)), "by"),
        (lambda t: t.missing_claim(["exp"]), "name"),
        (lambda t: t.missing_claim(None), "name"),
        (lambda t: t.tampered(changes="sub=admin"), "changes"),
        (lambda t: t.tampered(changes={"sub": object()}), "changes"),
        (lambda t: t.tampered(changes={"exp": float("nan")}), "changes"),
        (lambda t: t.sign("sub=admin"), "claims"),
        (lambda t: t.sign({"sub": {1, 2}}), "claims"),
        (lambda t: t.sign({"sub": "x"}, header=["kid"]), "header"),
        (lambda t: t.sign({"sub": "x"}, header={"kid": b"bytes"}), "header"),
        (lambda t: t.wrong_issuer(issuer=""), "issuer"),
        (lambda t: t.wrong_audience(audience=7), "audience"),
        (lambda t: t.token(sub=7), "subject"),
        (lambda t: t.token(roles=7), "roles"),
        (lambda t: t.token(roles=["ok", ""]), "roles"),
        (lambda t: t.token(claims="tenant=acme"), "claims"),
        (lambda t: t.token(claims=[("tenant", "acme")]), "claims"),
        (lambda t: TokenFactory("issuer"), "issuer"),
    ],
)
def test_bad_input_of_any_shape_gets_an_error_naming_the_argument(
    tokens: TokenFactory, call: Callable[[Any], Any], argument: str
) -> None:
    with pytest.raises((ConfigurationError, IssuanceError)) as refused:
        call(tokens)
    named = getattr(refused.value, "setting", None) or getattr(refused.value, "argument", None)
    assert named == argument
