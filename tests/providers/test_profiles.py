"""Provider profiles: expansion, parameters, and each provider's tokens through the core."""

from __future__ import annotations

import json
from typing import Any

import pytest

from jwt_guard_core import ConfigurationError, TokenError, Verifier
from jwt_guard_core.cli import main
from jwt_guard_core.providers import PROFILES, provider_settings
from jwt_guard_core.settings import GuardSettings, findings
from tests.factories import public_pem, sign
from tests.providers.shapes import SHAPES, Shape

IDS = [s.provider for s in SHAPES]


def test_every_listed_provider_has_a_profile_and_a_token_shape():
    assert sorted(PROFILES) == sorted(IDS)
    assert sorted(PROFILES) == sorted(
        [
            "auth0",
            "okta",
            "keycloak",
            "cognito",
            "entra",
            "google",
            "firebase",
            "zitadel",
            "clerk",
            "supabase",
            "hydra",
        ]
    )


def _verifier(shape: Shape, keyring: Any, clock: Any) -> Verifier:
    raw = {
        "PROVIDER": {"name": shape.provider, **shape.params},
        "VERIFYING_KEY": {"rsa-1": public_pem(keyring.rsa).decode()},
        "CLOCK": clock,
    }
    return Verifier(GuardSettings.from_mapping(raw, "django").guard_config())


def _token(shape: Shape, keyring: Any, **changes: Any) -> str:
    payload = {**shape.claims, **changes}
    payload = {k: v for k, v in payload.items() if v is not None}
    return sign({"alg": "RS256", "kid": "rsa-1", **shape.header}, payload, keyring.rsa)


@pytest.mark.parametrize("shape", SHAPES, ids=IDS)
def test_the_providers_access_token_is_accepted(shape, keyring, clock):
    result = _verifier(shape, keyring, clock).verify(_token(shape, keyring))
    assert result.roles == shape.roles
    assert result.scopes == shape.scopes
    assert result.issuer == shape.claims["iss"]


@pytest.mark.parametrize("shape", SHAPES, ids=IDS)
def test_the_providers_token_from_elsewhere_is_refused(shape, keyring, clock):
    verifier = _verifier(shape, keyring, clock)
    with pytest.raises(TokenError) as info:
        verifier.verify(_token(shape, keyring, iss="https://evil.example/"))
    assert info.value.reason == "bad_issuer"
    with pytest.raises(TokenError) as info:
        verifier.verify(_token(shape, keyring, exp=None))
    assert info.value.reason == "missing_claim"


@pytest.mark.parametrize(
    ("shape", "other"),
    [(s, o) for s in SHAPES for o in s.others],
    ids=[f"{s.provider}-{i}" for s in SHAPES for i, _ in enumerate(s.others)],
)
def test_the_providers_other_tokens_are_refused(shape, other, keyring, clock):
    with pytest.raises(TokenError) as info:
        _verifier(shape, keyring, clock).verify(_token(shape, keyring, **other))
    assert info.value.reason in {
        "missing_claim",
        "wrong_token_type",
        "invalid_claim",
        "unauthorized_party",
        "tenant_not_allowed",
    }
    assert info.value.status == 401


@pytest.mark.parametrize("shape", SHAPES, ids=IDS)
def test_no_profile_raises_a_start_up_finding(shape):
    raw = {"PROVIDER": {"name": shape.provider, **shape.params}}
    assert [f.code for f in findings(GuardSettings.from_mapping(raw, "django"))] == []


def test_profiles_name_the_remote_key_source():
    assert provider_settings("cognito", region="eu-west-1", user_pool_id="p", client_id="c")[
        "OIDC_ISSUER"
    ] == ("https://cognito-idp.eu-west-1.amazonaws.com/p")
    entra = provider_settings("entra", tenant="common", audience="api://x")
    assert entra["ISSUER"] == "https://login.microsoftonline.com/{tid}/v2.0"
    assert entra["OIDC_ISSUER"] == "https://login.microsoftonline.com/common/v2.0"
    single = provider_settings("entra", tenant="contoso-tenant", audience="api://x")
    assert "ISSUER" not in single


def test_given_settings_win_over_the_profile():
    raw = {
        "PROVIDER": {"name": "okta", "issuer": "https://dev-1.okta.com/oauth2/default"},
        "AUDIENCE": "api://orders",
    }
    settings = GuardSettings.from_mapping(raw, "django")
    assert settings.get("audience") == "api://orders"
    assert settings.get("oidc_issuer") == "https://dev-1.okta.com/oauth2/default"


@pytest.mark.parametrize(
    ("name", "params", "words"),
    [
        ("nope", {}, "not a known provider"),
        ("auth0", {"domain": "a.auth0.com"}, "missing audience"),
        ("auth0", {"domain": "a.auth0.com", "audience": "x", "colour": "red"}, "unknown colour"),
        ("okta", {"issuer": "http://dev.okta.com"}, "https"),
        ("keycloak", {"url": "https://kc", "realm": "a/b", "client_id": "c"}, "identifier"),
        ("auth0", {"domain": "a b", "audience": "x"}, "host name"),
    ],
)
def test_bad_profiles_are_configuration_errors(name, params, words):
    with pytest.raises(ConfigurationError) as info:
        provider_settings(name, **params)
    assert info.value.setting == "provider"
    assert words in str(info.value)


@pytest.mark.parametrize(
    "value", ["auth0", {"domain": "x"}, {"name": "auth0"}, {"name": "zzz", "a": "b"}]
)
def test_a_bad_provider_setting_names_the_key(value):
    settings = GuardSettings.from_mapping({"JWT_GUARD_PROVIDER": value}, "flask")
    with pytest.raises(ConfigurationError) as info:
        settings.guard_config()
    assert info.value.setting == "JWT_GUARD_PROVIDER"


def test_the_cli_prints_the_expansion(capsys):
    code = main(
        [
            "provider",
            "keycloak",
            "--param",
            "url=https://kc.example",
            "--param",
            "realm=main",
            "--param",
            "client_id=web",
        ]
    )
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["OIDC_ISSUER"] == "https://kc.example/realms/main"
    assert printed["ROLES_CLAIM"] == [
        ["realm_access", "roles"],
        ["resource_access", "web", "roles"],
    ]
    code = main(["provider", "supabase", "--param", "project_ref=abc", "--flask"])
    assert code == 0
    assert json.loads(capsys.readouterr().out)["JWT_GUARD_AUDIENCE"] == "authenticated"


@pytest.mark.parametrize(
    "argv", [["provider", "nope"], ["provider", "auth0"], ["provider", "auth0", "--param", "x"]]
)
def test_the_cli_refuses_bad_profiles_with_exit_2(argv, capsys):
    assert main(argv) == 2
    assert "configuration error" in capsys.readouterr().err
