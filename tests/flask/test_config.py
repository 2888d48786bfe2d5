"""JWT_GUARD_* keys -> GuardConfig: every key source, and errors naming the key."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from jwt_guard_core import ConfigurationError, IssuerPolicy, StaticKeySet
from jwt_guard_flask import jwt_required
from tests.factories import AUDIENCE, ISSUER, KeyRing, claims, public_pem, sign
from tests.flask.conftest import MakeApp, Mint, bearer

SECRET = "s3cr3t-for-tests-0123456789-abcdefghij-KLMNOP"


def _route(app: Flask) -> Flask:
    @app.get("/x")
    @jwt_required
    def x() -> dict[str, Any]:
        return {"ok": True}

    return app


def _accepts(app: Flask, token: str) -> bool:
    status = _route(app).test_client().get("/x", headers=bearer(token)).status_code
    assert status in (200, 401)
    return status == 200


@pytest.mark.parametrize(
    ("config", "key", "message"),
    [
        ({"JWT_GUARD_ALGORITHMS": None}, "JWT_GUARD_ALGORITHMS", "allowlist"),
        ({"JWT_GUARD_ALGORITHMS": ["none"]}, "JWT_GUARD_ALGORITHMS", "never be allowed"),
        ({"JWT_GUARD_ALGORITHMS": ["RS257"]}, "JWT_GUARD_ALGORITHMS", "unknown algorithm"),
        ({"JWT_GUARD_ALGORITHMS": ["HS256", "RS256"]}, "JWT_GUARD_ALGORITHMS", "confusion"),
        ({"JWT_GUARD_AUDIENCE": None}, "JWT_GUARD_AUDIENCE", "required"),
        ({"JWT_GUARD_ISSUER": None}, "JWT_GUARD_ISSUER", "required"),
        ({"JWT_GUARD_VERIFY_AUDIENCE": "False"}, "JWT_GUARD_VERIFY_AUDIENCE", "True or False"),
        ({"JWT_GUARD_LEEWAY": 301}, "JWT_GUARD_LEEWAY", "maximum of 300"),
        ({"JWT_GUARD_LEEWAY": "10"}, "JWT_GUARD_LEEWAY", "number of seconds"),
        ({"JWT_GUARD_MAX_TOKEN_LIFETIME": 0}, "JWT_GUARD_MAX_TOKEN_LIFETIME", "positive"),
        ({"JWT_GUARD_MAX_TOKEN_AGE": -1}, "JWT_GUARD_MAX_TOKEN_AGE", "negative"),
        ({"JWT_GUARD_MAX_TOKEN_BYTES": 10}, "JWT_GUARD_MAX_TOKEN_BYTES", "256 to"),
        ({"JWT_GUARD_REQUIRED_CLAIMS": "sub"}, "JWT_GUARD_REQUIRED_CLAIMS", "not a string"),
        ({"JWT_GUARD_EXPECTED_TYPE": ""}, "JWT_GUARD_EXPECTED_TYPE", "media type"),
        ({"JWT_GUARD_CLOCK": 5}, "JWT_GUARD_CLOCK", "callable"),
        ({"JWT_GUARD_REVOCATION": object()}, "JWT_GUARD_REVOCATION", "is_revoked"),
        ({"JWT_GUARD_TOKEN_LOCATION": ["query"]}, "JWT_GUARD_TOKEN_LOCATION", "'query'"),
        ({"JWT_GUARD_TOKEN_LOCATION": []}, "JWT_GUARD_TOKEN_LOCATION", "list of strings"),
        ({"JWT_GUARD_HEADER_TYPE": "Bear er"}, "JWT_GUARD_HEADER_TYPE", "auth-scheme"),
        ({"JWT_GUARD_COOKIE_NAME": "a b"}, "JWT_GUARD_COOKIE_NAME", "cookie or header name"),
        ({"JWT_GUARD_COOKIE_SECURE": "yes"}, "JWT_GUARD_COOKIE_SECURE", "True or False"),
        ({"JWT_GUARD_COOKIE_SAMESITE": "lax"}, "JWT_GUARD_COOKIE_SAMESITE", "'Strict'"),
        ({"JWT_GUARD_COOKIE_PATH": "api"}, "JWT_GUARD_COOKIE_PATH", "path"),
        ({"JWT_GUARD_COOKIE_DOMAIN": ""}, "JWT_GUARD_COOKIE_DOMAIN", "domain"),
        ({"JWT_GUARD_COOKIE_CSRF_PROTECT": 1}, "JWT_GUARD_COOKIE_CSRF_PROTECT", "True or"),
        ({"JWT_GUARD_CSRF_HEADER_NAME": "X CSRF"}, "JWT_GUARD_CSRF_HEADER_NAME", "header name"),
        ({"JWT_GUARD_CSRF_COOKIE_NAME": 5}, "JWT_GUARD_CSRF_COOKIE_NAME", "cookie or"),
        ({"JWT_GUARD_REALM": ""}, "JWT_GUARD_REALM", "printable"),
        ({"JWT_GUARD_REALM": "a\nb"}, "JWT_GUARD_REALM", "printable"),
        ({"JWT_GUARD_WARM_ON_STARTUP": "true"}, "JWT_GUARD_WARM_ON_STARTUP", "True or"),
        ({"JWT_GUARD_PUBLIC_KEY": None}, "JWT_GUARD_JWKS_URL", "no key source"),
        ({"JWT_GUARD_SECRET": SECRET}, "JWT_GUARD_PUBLIC_KEY", "give one key source"),
        ({"JWT_GUARD_PUBLIC_KEY": "-----BEGIN nonsense"}, "JWT_GUARD_PUBLIC_KEY", "PEM"),
        ({"JWT_GUARD_PUBLIC_KEY": "/no/such/key.pem"}, "JWT_GUARD_PUBLIC_KEY", "cannot read"),
        ({"JWT_GUARD_PUBLIC_KEY": 42}, "JWT_GUARD_PUBLIC_KEY", "not a PEM key"),
        ({"JWT_GUARD_ISSUERS": {}}, "JWT_GUARD_ISSUERS", "key source inside"),
        ({"JWT_GUARD_OIDC_ISSUER": "https://x"}, "JWT_GUARD_OIDC_ISSUER", "one key source"),
    ],
)
def test_misconfiguration_raises_at_init_app_naming_the_key(
    make_app: MakeApp, config: dict[str, Any], key: str, message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message) as info:
        make_app(
            **{k: v for k, v in config.items() if v is not None},
            **{k: None for k, v in config.items() if v is None},
        )
    assert info.value.setting == key
    assert str(info.value).startswith(f"{key}: ")


@pytest.fixture
def no_keys() -> dict[str, Any]:
    return {"JWT_GUARD_PUBLIC_KEY": None}


@pytest.mark.parametrize(
    ("config", "key", "message"),
    [
        ({"JWT_GUARD_JWKS": {"keys": []}}, "JWT_GUARD_JWKS", "empty"),
        ({"JWT_GUARD_JWKS": "{not json"}, "JWT_GUARD_JWKS", "not valid JSON"),
        ({"JWT_GUARD_JWKS": 3.5}, "JWT_GUARD_JWKS", "not a JWKS"),
        ({"JWT_GUARD_SECRET": "short"}, "JWT_GUARD_SECRET", "shorter"),
        ({"JWT_GUARD_SECRET": b""}, "JWT_GUARD_SECRET", "non-empty"),
        ({"JWT_GUARD_KEYS": "not a key set"}, "JWT_GUARD_KEYS", "not a key source"),
        ({"JWT_GUARD_JWKS_URL": "ftp://keys.example"}, "JWT_GUARD_JWKS_URL", "http"),
        ({"JWT_GUARD_JWKS_URL": "http://keys.example/jwks"}, "JWT_GUARD_JWKS_URL", "https"),
        (
            {"JWT_GUARD_JWKS_URL": "https://keys.example/jwks", "JWT_GUARD_JWKS_OPTIONS": []},
            "JWT_GUARD_JWKS_OPTIONS",
            "dict",
        ),
        (
            {
                "JWT_GUARD_JWKS_URL": "https://keys.example/jwks",
                "JWT_GUARD_JWKS_OPTIONS": {"ttl": 5},
            },
            "JWT_GUARD_JWKS_OPTIONS",
            "ttl",
        ),
        (
            {
                "JWT_GUARD_JWKS_URL": "https://keys.example/jwks",
                "JWT_GUARD_JWKS_OPTIONS": {"timeout": -1},
            },
            "JWT_GUARD_JWKS_URL",
            "timeout",
        ),
        ({"JWT_GUARD_ISSUERS": ["a"]}, "JWT_GUARD_ISSUERS", "non-empty dict"),
        ({"JWT_GUARD_ISSUERS": {"a": 1}}, "JWT_GUARD_ISSUERS['a']", "give a dict"),
        (
            {"JWT_GUARD_ISSUERS": {"a": {"JWKS_URI": "https://x"}}},
            "JWT_GUARD_ISSUERS['a']",
            "unknown key",
        ),
        ({"JWT_GUARD_ISSUERS": {"a": {}}}, "JWT_GUARD_ISSUERS['a']", "no key source"),
        (
            {"JWT_GUARD_ISSUERS": {"a": {"SECRET": "short"}}},
            "JWT_GUARD_ISSUERS['a']['SECRET']",
            "shorter",
        ),
        (
            {"JWT_GUARD_ISSUERS": {"a": {"SECRET": SECRET, "ALGORITHMS": ["HS256", "none"]}}},
            "JWT_GUARD_ISSUERS['a'].algorithms",
            "never",
        ),
    ],
)
def test_key_source_errors_name_the_key(
    make_app: MakeApp,
    no_keys: dict[str, Any],
    config: dict[str, Any],
    key: str,
    message: str,
) -> None:
    overrides = {**no_keys, **config}
    if "JWT_GUARD_ISSUERS" in config:
        overrides["JWT_GUARD_ISSUER"] = None
    if "JWT_GUARD_SECRET" in config:
        overrides["JWT_GUARD_ALGORITHMS"] = ["HS256"]
    with pytest.raises(ConfigurationError, match=message) as info:
        make_app(**overrides)
    assert info.value.setting == key


def test_issuers_with_issuer_is_refused(make_app: MakeApp, keyring: KeyRing) -> None:
    with pytest.raises(ConfigurationError, match="not both") as info:
        make_app(
            JWT_GUARD_PUBLIC_KEY=None,
            JWT_GUARD_ISSUERS={ISSUER: {"PUBLIC_KEY": public_pem(keyring.rsa)}},
        )
    assert info.value.setting == "JWT_GUARD_ISSUERS"


def test_public_key_as_pem_text_and_as_file(
    make_app: MakeApp, keyring: KeyRing, mint: Mint, tmp_path: Path
) -> None:
    pem = public_pem(keyring.rsa)
    path = tmp_path / "key.pem"
    path.write_bytes(pem)
    for value in (pem, pem.decode(), str(path), path):
        assert _accepts(make_app(JWT_GUARD_PUBLIC_KEY=value), mint(kid=None))
        other = make_app(
            JWT_GUARD_PUBLIC_KEY=public_pem(keyring.p256), JWT_GUARD_ALGORITHMS=["ES256"]
        )
        assert not _accepts(other, mint(kid=None))


def test_static_jwks_as_dict_json_and_file(
    make_app: MakeApp, rsa_keys: StaticKeySet, mint: Mint, tmp_path: Path
) -> None:
    jwks = rsa_keys.jwks()
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(jwks))
    for value in (jwks, json.dumps(jwks), str(path)):
        app = make_app(JWT_GUARD_PUBLIC_KEY=None, JWT_GUARD_JWKS=value)
        assert _accepts(app, mint())
        assert not _accepts(make_app(JWT_GUARD_PUBLIC_KEY=None, JWT_GUARD_JWKS=value), "x.y.z")


def test_hmac_secret_verifies_hs256_tokens(make_app: MakeApp) -> None:
    app = make_app(
        JWT_GUARD_PUBLIC_KEY=None, JWT_GUARD_SECRET=SECRET, JWT_GUARD_ALGORITHMS=["HS256"]
    )
    good = sign({"alg": "HS256"}, claims(), SECRET.encode())
    bad = sign({"alg": "HS256"}, claims(), b"another-secret-of-enough-length-0123456789")
    assert _accepts(app, good)
    assert not _accepts(
        make_app(
            JWT_GUARD_PUBLIC_KEY=None, JWT_GUARD_SECRET=SECRET, JWT_GUARD_ALGORITHMS=["HS256"]
        ),
        bad,
    )


def test_a_ready_key_source_in_keys(make_app: MakeApp, rsa_keys: StaticKeySet, mint: Mint) -> None:
    assert _accepts(make_app(JWT_GUARD_PUBLIC_KEY=None, JWT_GUARD_KEYS=rsa_keys), mint())


def test_environment_friendly_strings_for_lists(make_app: MakeApp, mint: Mint) -> None:
    app = make_app(JWT_GUARD_ALGORITHMS="RS256, ES256", JWT_GUARD_TOKEN_LOCATION="header,cookie")
    assert app.extensions["jwt_guard"].verifier(app).config.all_algorithms == {"RS256", "ES256"}
    client = _route(app).test_client()
    client.set_cookie("access_token", mint())
    assert client.get("/x").status_code == 200


def test_leeway_as_timedelta(make_app: MakeApp, mint: Mint) -> None:
    app = make_app(JWT_GUARD_LEEWAY=timedelta(seconds=90))
    assert app.extensions["jwt_guard"].verifier(app).config.leeway == 90
    from tests.factories import NOW

    assert _accepts(app, mint(exp=int(NOW) - 60))


def test_verify_issuer_false_accepts_any_issuer_sharing_the_keys(
    make_app: MakeApp, mint: Mint
) -> None:
    app = make_app(JWT_GUARD_ISSUER=None, JWT_GUARD_VERIFY_ISSUER=False)
    assert _accepts(app, mint(iss="https://anyone.example"))


def test_header_type_list_accepts_each_scheme(make_app: MakeApp, mint: Mint) -> None:
    app = _route(make_app(JWT_GUARD_HEADER_TYPE=["Bearer", "JWT"]))
    client = app.test_client()
    assert client.get("/x", headers={"Authorization": f"JWT {mint()}"}).status_code == 200
    assert client.get("/x", headers={"Authorization": f"bearer {mint()}"}).status_code == 200


def test_issuers_each_with_their_own_keys_and_audience(
    make_app: MakeApp, keyring: KeyRing, rsa_keys: StaticKeySet, mint: Mint
) -> None:
    idp = "https://idp.example"
    app = make_app(
        JWT_GUARD_PUBLIC_KEY=None,
        JWT_GUARD_ISSUER=None,
        JWT_GUARD_AUDIENCE=None,
        JWT_GUARD_ALGORITHMS=["RS256"],
        JWT_GUARD_ISSUERS={
            ISSUER: IssuerPolicy(keys=rsa_keys, audience=AUDIENCE),
            idp: {
                "PUBLIC_KEY": public_pem(keyring.p256),
                "ALGORITHMS": "ES256",
                "AUDIENCE": "idp-api",
            },
        },
    )
    idp_token = sign({"alg": "ES256"}, claims(iss=idp, aud="idp-api"), keyring.p256)
    wrong_aud = sign({"alg": "ES256"}, claims(iss=idp), keyring.p256)
    client = _route(app).test_client()
    assert client.get("/x", headers=bearer(mint())).status_code == 200
    assert client.get("/x", headers=bearer(idp_token)).status_code == 200
    assert client.get("/x", headers=bearer(wrong_aud)).status_code == 401
    rsa_as_idp = mint(iss=idp, aud="idp-api")
    assert client.get("/x", headers=bearer(rsa_as_idp)).status_code == 401


def test_oidc_issuer_is_the_expected_iss_when_no_issuer_is_set(make_app: MakeApp) -> None:
    app = make_app(
        JWT_GUARD_PUBLIC_KEY=None,
        JWT_GUARD_ISSUER=None,
        JWT_GUARD_OIDC_ISSUER="https://login.example.com/tenant/",
    )
    config = app.extensions["jwt_guard"].verifier(app).config
    assert set(config.policies) == {"https://login.example.com/tenant/"}
