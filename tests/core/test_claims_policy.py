"""The claims policy: required values, authorized parties, token kinds, the user's check."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from jwt_guard_core import (
    BadAudience,
    ConfigurationError,
    InvalidClaim,
    MissingClaim,
    TokenError,
    VerifiedToken,
    Verifier,
)
from jwt_guard_core.claims_policy import WrongTokenType
from jwt_guard_core.config import IssuerPolicy
from jwt_guard_core.http import error_response
from tests.factories import ISSUER, claims, sign


@pytest.fixture
def token_for(keyring):
    def _token(header: dict[str, Any] | None = None, **overrides: Any) -> str:
        return sign(
            {"alg": "RS256", "kid": "rsa-1", **(header or {})}, claims(**overrides), keyring.rsa
        )

    return _token


def rejected(verifier: Verifier, token: str, cls: type[TokenError], reason: str) -> TokenError:
    with pytest.raises(TokenError) as info:
        verifier.verify(token)
    error = info.value
    assert type(error) is cls
    assert error.reason == reason
    assert error.status == 401
    response = error_response(error)
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'
    assert reason not in str(response.body)
    return error


# -- required values


def test_a_claim_with_a_required_value_is_accepted(make_verifier, token_for):
    verifier = make_verifier(claim_values={"tenant": "acme", "level": [2, 3]})
    assert verifier.verify(token_for(tenant="acme", level=3)).subject == "user-1"


def test_a_missing_claim_with_a_required_value_is_missing_claim(make_verifier, token_for):
    verifier = make_verifier(claim_values={"tenant": "acme"})
    error = rejected(verifier, token_for(), MissingClaim, "missing_claim")
    assert "tenant" in error.detail


@pytest.mark.parametrize("value", ["other", ["other"], 1, None, {"acme": 1}, "ACME"])
def test_another_value_is_invalid_claim(make_verifier, keyring, value):
    verifier = make_verifier(claim_values={"tenant": "acme"})
    token = sign({"alg": "RS256", "kid": "rsa-1"}, {**claims(), "tenant": value}, keyring.rsa)
    rejected(verifier, token, InvalidClaim, "invalid_claim")


def test_a_list_valued_claim_passes_when_one_element_is_allowed(make_verifier, token_for):
    verifier = make_verifier(claim_values={"groups": ["staff", "admins"]})
    assert verifier.verify(token_for(groups=["users", "admins"]))
    rejected(verifier, token_for(groups=["users"]), InvalidClaim, "invalid_claim")
    rejected(verifier, token_for(groups=[]), InvalidClaim, "invalid_claim")


def test_json_true_is_not_the_number_one(make_verifier, token_for):
    verifier = make_verifier(claim_values={"level": 1})
    assert verifier.verify(token_for(level=1))
    rejected(verifier, token_for(level=True), InvalidClaim, "invalid_claim")
    verifier = make_verifier(claim_values={"email_verified": True})
    rejected(verifier, token_for(email_verified=1), InvalidClaim, "invalid_claim")


@pytest.mark.parametrize("value", ["tenant", {"tenant": {"a": 1}}, {"": "x"}, {"t": []}])
def test_claim_values_of_another_shape_are_a_configuration_error(make_verifier, value):
    with pytest.raises(ConfigurationError) as info:
        make_verifier(claim_values=value)
    assert info.value.setting.startswith("claim_values")


def test_claim_values_per_issuer_add_to_the_top_level_ones(make_verifier, rsa_keys, token_for):
    verifier = make_verifier(
        issuer=None,
        keys=None,
        claim_values={"tenant": "acme"},
        issuers={ISSUER: IssuerPolicy(keys=rsa_keys, claim_values={"region": "eu"})},
    )
    assert verifier.verify(token_for(tenant="acme", region="eu"))
    rejected(verifier, token_for(tenant="acme"), MissingClaim, "missing_claim")
    rejected(verifier, token_for(region="eu"), MissingClaim, "missing_claim")


# -- authorized parties


def test_azp_on_the_allowlist_is_accepted(make_verifier, token_for):
    verifier = make_verifier(authorized_parties=["spa", "cli"])
    assert verifier.verify(token_for(azp="cli"))


def test_client_id_is_read_when_there_is_no_azp(make_verifier, token_for):
    verifier = make_verifier(authorized_parties="spa")
    assert verifier.verify(token_for(client_id="spa"))


def test_azp_wins_over_client_id(make_verifier, token_for):
    verifier = make_verifier(authorized_parties=["spa"])
    token = token_for(azp="evil", client_id="spa")
    rejected(verifier, token, InvalidClaim, "unauthorized_party")


@pytest.mark.parametrize("party", ["evil", "SPA", 1, ["spa"], None])
def test_another_party_is_unauthorized_party(make_verifier, keyring, party):
    verifier = make_verifier(authorized_parties=["spa"])
    token = sign({"alg": "RS256", "kid": "rsa-1"}, {**claims(), "azp": party}, keyring.rsa)
    rejected(verifier, token, InvalidClaim, "unauthorized_party")


def test_a_token_naming_no_party_is_missing_claim(make_verifier, token_for):
    verifier = make_verifier(authorized_parties=["spa"])
    rejected(verifier, token_for(), MissingClaim, "missing_claim")


def test_authorized_parties_make_an_audience_unnecessary(make_verifier, token_for):
    # Cognito access tokens have no aud: client_id binds them to the app.
    verifier = make_verifier(audience=None, authorized_parties=["app-client"])
    assert "aud" not in verifier.config.required
    token = token_for(aud=None, client_id="app-client", token_use="access")
    assert verifier.verify(token).subject == "user-1"
    rejected(verifier, token_for(aud=None, client_id="other"), InvalidClaim, "unauthorized_party")


def test_without_audience_or_parties_the_configuration_is_refused(make_verifier):
    with pytest.raises(ConfigurationError) as info:
        make_verifier(audience=None)
    assert info.value.setting == "audience"
    assert "authorized_parties" in str(info.value)


@pytest.mark.parametrize("value", [[], [""], 5, {"a": 1}])
def test_authorized_parties_of_another_shape_are_a_configuration_error(make_verifier, value):
    with pytest.raises(ConfigurationError) as info:
        make_verifier(authorized_parties=value)
    assert info.value.setting == "authorized_parties"


# -- token kinds


@pytest.mark.parametrize(
    ("header", "extra"),
    [
        ({}, {"token_use": "id"}),  # Cognito ID token
        ({}, {"token_use": None}),
        ({}, {"typ": "ID"}),  # Keycloak ID token
        ({}, {"typ": "Refresh"}),  # Keycloak refresh token
        ({}, {"typ": "Logout"}),
        ({"typ": "dpop+jwt"}, {}),  # a DPoP proof
        ({"typ": "logout+jwt"}, {}),
        ({"typ": "application/secevent+jwt"}, {}),
    ],
)
def test_a_recognisable_non_access_token_is_wrong_token_type(make_verifier, keyring, header, extra):
    token = sign({"alg": "RS256", "kid": "rsa-1", **header}, {**claims(), **extra}, keyring.rsa)
    rejected(make_verifier(), token, WrongTokenType, "wrong_token_type")


def test_an_oidc_id_token_for_a_known_client_is_wrong_token_type(make_verifier, token_for):
    verifier = make_verifier(audience=["https://api.example", "spa"], authorized_parties=["spa"])
    id_token = token_for(aud="spa", azp="spa", nonce="n-1", at_hash="x", scope=None)
    rejected(verifier, id_token, WrongTokenType, "wrong_token_type")


@pytest.mark.parametrize(
    "extra",
    [
        {"token_use": "access", "client_id": "spa"},  # Cognito access token
        {"typ": "Bearer", "azp": "spa", "nonce": "n-1"},  # Keycloak access token with nonce
        {"azp": "spa", "scope": "openid", "nonce": "n"},  # scope: an access token
        {"azp": "spa"},
    ],
)
def test_access_tokens_are_never_taken_for_other_kinds(make_verifier, token_for, extra):
    verifier = make_verifier(audience=["https://api.example", "spa"], authorized_parties=["spa"])
    assert verifier.verify(token_for(**extra))


@pytest.mark.parametrize("typ", ["at+jwt", "application/at+jwt", "JWT"])
def test_access_token_typ_headers_are_accepted(make_verifier, token_for, typ):
    assert make_verifier().verify(token_for({"typ": typ}))


def test_token_kind_any_does_not_look(make_verifier, token_for):
    assert make_verifier(token_kind="any").verify(token_for(token_use="id"))


def test_an_unknown_token_kind_is_a_configuration_error(make_verifier):
    with pytest.raises(ConfigurationError) as info:
        make_verifier(token_kind="id")
    assert info.value.setting == "token_kind"


# -- the user's check


def test_a_claims_check_sees_the_verified_token(make_verifier, token_for):
    seen: list[VerifiedToken] = []
    verifier = make_verifier(claims_check=seen.append)
    result = verifier.verify(token_for())
    assert seen == [result]


def test_a_claims_check_refuses_with_invalid_claim(make_verifier, token_for, caplog):
    def check(token: VerifiedToken) -> None:
        if token.claims.get("plan") != "paid":
            raise InvalidClaim("the plan is not paid", reason="unpaid")

    verifier = make_verifier(claims_check=check)
    assert verifier.verify(token_for(plan="paid"))
    with caplog.at_level(logging.INFO, logger="jwt_guard"):
        error = rejected(verifier, token_for(), InvalidClaim, "unpaid")
    assert error.detail == "the plan is not paid"
    assert "unpaid" in caplog.text


def test_a_claims_check_returning_false_refuses(make_verifier, token_for):
    verifier = make_verifier(claims_check=lambda token: False)
    rejected(verifier, token_for(), InvalidClaim, "claims_check_failed")


@pytest.mark.parametrize("exc", [RuntimeError("bug"), KeyError("x"), ConfigurationError("a", "b")])
def test_any_other_exception_is_a_verification_error_never_a_crash(
    make_verifier, token_for, exc, caplog
):
    def check(token: VerifiedToken) -> None:
        raise exc

    with caplog.at_level(logging.ERROR, logger="jwt_guard"):
        rejected(make_verifier(claims_check=check), token_for(), TokenError, "verification_error")
    assert "claims check" in caplog.text


def test_the_claims_check_runs_after_every_built_in_check(make_verifier, token_for):
    calls: list[Any] = []
    verifier = make_verifier(claims_check=calls.append, claim_values={"tenant": "acme"})
    rejected(verifier, token_for(), MissingClaim, "missing_claim")
    rejected(verifier, token_for(tenant="acme", aud="other"), BadAudience, "bad_audience")
    assert calls == []


def test_an_async_claims_check_is_awaited_by_averify(make_verifier, token_for):
    async def check(token: VerifiedToken) -> None:
        await asyncio.sleep(0)
        if token.claims.get("plan") != "paid":
            raise InvalidClaim("unpaid")

    verifier = make_verifier(claims_check=check)
    assert asyncio.run(verifier.averify(token_for(plan="paid")))
    with pytest.raises(InvalidClaim):
        asyncio.run(verifier.averify(token_for()))
    async_bug = make_verifier(claims_check=_async_bug)
    with pytest.raises(TokenError) as info:
        asyncio.run(async_bug.averify(token_for()))
    assert info.value.reason == "verification_error"


async def _async_bug(token: VerifiedToken) -> None:
    raise RuntimeError("bug")


def test_a_sync_check_runs_under_averify(make_verifier, token_for):
    verifier = make_verifier(claims_check=lambda token: False)
    with pytest.raises(InvalidClaim) as info:
        asyncio.run(verifier.averify(token_for()))
    assert info.value.reason == "claims_check_failed"


def test_a_sync_verify_with_an_async_check_is_a_configuration_error(make_verifier, token_for):
    verifier = make_verifier(claims_check=_async_bug)
    with pytest.raises(ConfigurationError) as info:
        verifier.verify(token_for())
    assert info.value.setting == "claims_check"


def test_a_claims_check_that_is_not_callable_is_a_configuration_error(make_verifier):
    with pytest.raises(ConfigurationError) as info:
        make_verifier(claims_check="not.imported")
    assert info.value.setting == "claims_check"


def test_a_claims_check_per_issuer_replaces_the_top_level_one(make_verifier, rsa_keys, token_for):
    verifier = make_verifier(
        issuer=None,
        keys=None,
        claims_check=lambda token: False,
        issuers={ISSUER: IssuerPolicy(keys=rsa_keys, claims_check=lambda token: True)},
    )
    assert verifier.verify(token_for())
