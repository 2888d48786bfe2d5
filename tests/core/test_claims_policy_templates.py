"""Issuer templates ({tid}): one entry for every tenant of a multi-tenant issuer (Entra)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from werkzeug import Response

from jwt_guard_core import (
    BadIssuer,
    ConfigurationError,
    MissingClaim,
    TokenError,
    Verifier,
)
from jwt_guard_core.config import IssuerPolicy
from jwt_guard_core.settings import GuardSettings
from tests.core.remote_servers import JSON, jwks_response
from tests.factories import AUDIENCE, claims, sign

pytest_plugins = ["tests.core.remote_fixtures"]

TEMPLATE = "https://login.microsoftonline.com/{tid}/v2.0"
TID = "9188040d-6c67-4c5b-b112-36a304b66dad"
ENTRA = f"https://login.microsoftonline.com/{TID}/v2.0"


@pytest.fixture
def token_for(keyring):
    def _token(kid: str = "rsa-1", **overrides: Any) -> str:
        payload = claims(**{"iss": ENTRA, "tid": TID, **overrides})
        return sign({"alg": "RS256", "kid": kid}, payload, keyring.rsa)

    return _token


def rejected(verifier: Verifier, token: str, cls: type[TokenError], reason: str) -> None:
    with pytest.raises(TokenError) as info:
        verifier.verify(token)
    assert type(info.value) is cls
    assert info.value.reason == reason
    assert info.value.status == 401


def test_the_tenant_issuer_is_accepted_and_reported(make_verifier, token_for):
    result = make_verifier(issuer=TEMPLATE).verify(token_for())
    assert result.issuer == ENTRA


def test_entras_own_placeholder_spelling_works_too(make_verifier, token_for):
    verifier = make_verifier(issuer="https://login.microsoftonline.com/{tenantid}/v2.0")
    assert verifier.verify(token_for()).issuer == ENTRA


def test_iss_of_another_tenant_than_tid_is_bad_issuer(make_verifier, token_for):
    other = "https://login.microsoftonline.com/other-tenant/v2.0"
    rejected(make_verifier(issuer=TEMPLATE), token_for(iss=other), BadIssuer, "bad_issuer")


def test_the_template_itself_as_iss_is_bad_issuer(make_verifier, token_for):
    verifier = make_verifier(issuer=TEMPLATE)
    rejected(verifier, token_for(iss=TEMPLATE, tid="{tid}"), BadIssuer, "bad_issuer")
    rejected(verifier, token_for(iss=TEMPLATE), BadIssuer, "bad_issuer")


@pytest.mark.parametrize("tid", ["a/b", "", 5, None, "../x"])
def test_a_tid_that_is_not_a_tenant_id_is_bad_issuer(make_verifier, keyring, tid):
    iss = f"https://login.microsoftonline.com/{tid}/v2.0"
    token = sign(
        {"alg": "RS256", "kid": "rsa-1"}, {**claims(), "iss": iss, "tid": tid}, keyring.rsa
    )
    rejected(make_verifier(issuer=TEMPLATE), token, BadIssuer, "bad_issuer")


def test_a_token_without_tid_is_missing_claim(make_verifier, token_for):
    rejected(make_verifier(issuer=TEMPLATE), token_for(tid=None), MissingClaim, "missing_claim")


def test_an_issuer_of_another_shape_is_bad_issuer(make_verifier, token_for):
    token = token_for(iss="https://evil.example/9188/v2.0")
    rejected(make_verifier(issuer=TEMPLATE), token, BadIssuer, "bad_issuer")


def test_tenants_limit_the_template(make_verifier, token_for):
    verifier = make_verifier(issuer=TEMPLATE, tenants=[TID])
    assert verifier.verify(token_for())
    other = "https://login.microsoftonline.com/other/v2.0"
    rejected(verifier, token_for(iss=other, tid="other"), BadIssuer, "tenant_not_allowed")


def test_templates_and_exact_issuers_mix(make_verifier, rsa_keys, token_for):
    verifier = make_verifier(
        issuer=None,
        keys=None,
        issuers={
            "https://issuer.example": IssuerPolicy(keys=rsa_keys),
            TEMPLATE: IssuerPolicy(keys=rsa_keys, tenants=[TID]),
        },
    )
    assert verifier.verify(token_for()).issuer == ENTRA
    assert verifier.verify(token_for(iss="https://issuer.example", tid=None))


@pytest.mark.parametrize(
    "issuer",
    ["https://x/{tid}/{tid}", "https://x/{tenant}/v2", "https://x/{tid}/{", "https://x/}{tid}"],
)
def test_a_bad_template_is_a_configuration_error(make_verifier, issuer):
    with pytest.raises(ConfigurationError) as info:
        make_verifier(issuer=issuer)
    assert info.value.setting == "issuer"


def test_tenants_without_a_template_is_a_configuration_error(make_verifier):
    with pytest.raises(ConfigurationError) as info:
        make_verifier(tenants=["a"])
    assert info.value.setting == "tenants"


def test_entra_common_discovery_document_works_with_the_template(
    jwks_server, jwk_a, keyring, clock
):
    # Entra's common document publishes the template, spelt {tenantid}, as its issuer.
    jwks_server.handle(jwks_response(jwk_a), path="/common/discovery/v2.0/keys")
    document = {
        "issuer": jwks_server.origin + "/{tenantid}/v2.0",
        "jwks_uri": jwks_server.url("/common/discovery/v2.0/keys"),
    }
    jwks_server.add(
        "/common/v2.0/.well-known/openid-configuration",
        lambda request: Response(json.dumps(document), content_type=JSON),
    )
    template = jwks_server.origin + "/{tid}/v2.0"
    settings = GuardSettings.from_mapping(
        {
            "ALGORITHMS": ["RS256"],
            "ISSUER": template,
            "OIDC_ISSUER": jwks_server.url("/common/v2.0"),
            "AUDIENCE": AUDIENCE,
            "JWKS_OPTIONS": {"allow_http": True},
            "CLOCK": clock,
        },
        "django",
    )
    verifier = Verifier(settings.guard_config())
    iss = jwks_server.origin + f"/{TID}/v2.0"
    token = sign({"alg": "RS256", "kid": "a"}, claims(iss=iss, tid=TID), keyring.rsa)
    assert verifier.verify(token).issuer == iss
    forged = jwks_server.origin + "/other/v2.0"
    token = sign({"alg": "RS256", "kid": "a"}, claims(iss=forged, tid=TID), keyring.rsa)
    with pytest.raises(BadIssuer):
        verifier.verify(token)


def test_issuers_entry_tenants_and_claims_policy_keys_are_read(rsa_keys, clock):
    settings = GuardSettings.from_mapping(
        {
            "JWT_GUARD_ALGORITHMS": ["RS256"],
            "JWT_GUARD_AUDIENCE": AUDIENCE,
            "JWT_GUARD_CLOCK": clock,
            "JWT_GUARD_ISSUERS": {
                TEMPLATE: {"KEYS": rsa_keys, "TENANTS": [TID], "CLAIM_VALUES": {"ver": "2.0"}}
            },
        },
        "flask",
    )
    config = settings.guard_config()
    (policy,) = config.policies.values()
    assert policy.template is not None
    assert policy.template.tenants == {TID}
