"""JWT_GUARD settings: read lazily, translated to the core config, errors named."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from jwt_guard_core import BadType, ConfigurationError, TokenTooOld
from jwt_guard_django.conf import DEFAULTS, conf
from jwt_guard_django.verifier import build_config, get_verifier, key_set_health
from tests.factories import AUDIENCE, ISSUER, claims, public_pem, sign

SECRET = "hmac-secret-hmac-secret-hmac-secret-0123456789"


def test_settings_are_read_on_every_access(settings):
    assert conf.AUDIENCE == AUDIENCE
    with override_settings(JWT_GUARD={**settings.JWT_GUARD, "AUDIENCE": "other"}):
        assert conf.AUDIENCE == "other"
    assert conf.AUDIENCE == AUDIENCE


def test_missing_keys_take_their_defaults(settings):
    settings.JWT_GUARD = {}
    assert conf.TOKEN_LOCATIONS == ("header",)
    assert conf.AUTH_HEADER_TYPES == ("Bearer",)
    assert conf.AUTH_COOKIE == "access_token"
    assert conf.LEEWAY == DEFAULTS["LEEWAY"] == 10
    assert conf.REALM == "api"
    assert conf.USER_ID_CLAIM == "sub"


def test_override_settings_rebuilds_the_verifier(settings, make_token):
    token = make_token()
    assert get_verifier().verify(token).subject == "user-1"
    with override_settings(JWT_GUARD={**settings.JWT_GUARD, "ISSUER": "https://x.example"}):
        assert get_verifier().config.issuer == "https://x.example"
    assert get_verifier().config.issuer == ISSUER


@pytest.mark.parametrize("form", ["pem-text", "pem-bytes", "kid-map", "jwks-dict", "jwks-json"])
def test_verifying_key_forms(configure, keyring, form):
    pem = public_pem(keyring.rsa)
    jwks = {"keys": [{"kty": "RSA", "kid": "rsa-1", **_rsa_numbers(keyring)}]}
    value = {
        "pem-text": pem.decode(),
        "pem-bytes": pem,
        "kid-map": {"rsa-1": pem.decode()},
        "jwks-dict": jwks,
        "jwks-json": json.dumps(jwks),
    }[form]
    configure(VERIFYING_KEY=value)
    kid = None if form.startswith("pem") else "rsa-1"
    header = {"alg": "RS256", **({"kid": kid} if kid else {})}
    token = sign(header, claims(), keyring.rsa)
    assert get_verifier().verify(token).subject == "user-1"


@pytest.mark.parametrize("kind", ["pem", "jwks"])
def test_verifying_key_from_a_file(configure, keyring, tmp_path, kind):
    path = tmp_path / f"key.{kind}"
    if kind == "pem":
        path.write_bytes(public_pem(keyring.rsa))
        header = {"alg": "RS256"}
    else:
        path.write_text(json.dumps({"keys": [{"kty": "RSA", "kid": "k", **_rsa_numbers(keyring)}]}))
        header = {"alg": "RS256", "kid": "k"}
    configure(VERIFYING_KEY=str(path))
    assert get_verifier().verify(sign(header, claims(), keyring.rsa)).subject == "user-1"
    configure(VERIFYING_KEY=path)
    assert get_verifier().verify(sign(header, claims(), keyring.rsa)).subject == "user-1"


def test_private_key_as_verifying_key_is_refused(configure, keyring):
    from cryptography.hazmat.primitives import serialization

    private = keyring.rsa.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    configure(VERIFYING_KEY=private.decode())
    with pytest.raises(ImproperlyConfigured, match="private key"):
        get_verifier()


def test_signing_key_is_the_hmac_secret(client, configure, keyring):
    configure(ALGORITHMS=["HS256"], VERIFYING_KEY=None, SIGNING_KEY=SECRET)
    token = sign({"alg": "HS256"}, claims(), SECRET.encode())
    response = client.get("/plain/", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.json()["sub"] == "user-1"
    # A token signed with RS256 is refused by an HMAC-only configuration.
    rs256 = sign({"alg": "RS256"}, claims(), keyring.rsa)
    response = client.get("/plain/", headers={"Authorization": f"Bearer {rs256}"})
    assert response.status_code == 401


def test_several_issuers_each_with_their_keys(client, configure, keyring):
    configure(
        VERIFYING_KEY=None,
        ISSUER=None,
        ISSUERS={
            "https://rsa.example": {"VERIFYING_KEY": {"r": public_pem(keyring.rsa).decode()}},
            "https://ec.example": {
                "VERIFYING_KEY": {"e": public_pem(keyring.p256).decode()},
                "ALGORITHMS": ["ES256"],
                "AUDIENCE": "ec-api",
            },
        },
    )
    rsa_token = sign({"alg": "RS256", "kid": "r"}, claims(iss="https://rsa.example"), keyring.rsa)
    ec_token = sign(
        {"alg": "ES256", "kid": "e"}, claims(iss="https://ec.example", aud="ec-api"), keyring.p256
    )
    crossed = sign({"alg": "RS256", "kid": "r"}, claims(iss="https://ec.example"), keyring.rsa)
    assert (
        client.get("/plain/", headers={"Authorization": f"Bearer {rsa_token}"}).json()["sub"]
        == "user-1"
    )
    assert client.get("/plain/", headers={"Authorization": f"Bearer {ec_token}"}).status_code == 200
    assert client.get("/plain/", headers={"Authorization": f"Bearer {crossed}"}).status_code == 401


def test_leeway_accepts_a_timedelta(configure, make_token, clock):
    token = make_token()
    clock.advance(600 + 40)
    configure(LEEWAY=timedelta(minutes=1))
    assert get_verifier().verify(token).subject == "user-1"


def test_max_token_age_and_expected_type_reach_the_core(configure, make_token, keyring, clock):
    configure(MAX_TOKEN_AGE=timedelta(seconds=30))
    with pytest.raises(TokenTooOld):
        get_verifier().verify(make_token())
    configure(MAX_TOKEN_AGE=None, EXPECTED_TYPE="at+jwt")
    with pytest.raises(BadType):
        get_verifier().verify(make_token())
    at_jwt = sign({"alg": "RS256", "kid": "rsa-1", "typ": "at+jwt"}, claims(), keyring.rsa)
    assert get_verifier().verify(at_jwt).subject == "user-1"


def test_clock_by_dotted_path(configure):
    configure(CLOCK="time.time")
    import time

    assert get_verifier().config.clock is time.time


def test_two_key_sources_are_refused(configure):
    configure(JWKS_URL="https://idp.example/jwks")
    with pytest.raises(ImproperlyConfigured, match="give one key source"):
        get_verifier()


def test_bad_setting_is_named_in_the_error(configure):
    configure(ALGORITHMS=["none"])
    with pytest.raises(ImproperlyConfigured, match="JWT_GUARD: algorithms: 'none' can never be"):
        get_verifier()


def test_unimportable_revocation_is_named(configure):
    configure(REVOCATION="tests.django.nope.Revocation")
    with pytest.raises(ConfigurationError, match="REVOCATION: cannot import"):
        build_config()


def test_static_key_set_health(configure):
    assert key_set_health() == {"ok": True, "key_sets": {ISSUER: {"type": "static", "keys": 1}}}


def _rsa_numbers(keyring):
    from jwt_guard_core.encoding import b64url_encode

    numbers = keyring.rsa.public_key().public_numbers()
    return {
        "n": b64url_encode(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
        "e": b64url_encode(numbers.e.to_bytes(3, "big")),
    }


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"JWKS_URL": "https://idp.example/jwks", "JWKS_OPTIONS": {"min_ttl": -1}},
            "JWT_GUARD['JWKS_URL'] (JWKS_OPTIONS['min_ttl']): -1 is not accepted",
        ),
        (
            {"JWKS_URL": "https://idp.example/jwks", "JWKS_OPTIONS": {"bogus": 1}},
            "JWT_GUARD['JWKS_URL'] (JWKS_OPTIONS): ",
        ),
        (
            {"ISSUER": None, "ISSUERS": {"https://x.example": {"JWKS_URL": "ftp://x.example"}}},
            "JWT_GUARD['ISSUERS']['https://x.example']['JWKS_URL']: 'ftp://x.example' must be",
        ),
        (
            {"VERIFYING_KEY": {"keys": [{"kty": "oct", "k": "AAAA"}]}},
            "JWT_GUARD['VERIFYING_KEY']: key #0: HMAC secret of 3 bytes is shorter",
        ),
    ],
)
def test_key_source_errors_name_the_django_setting(configure, changes, message):
    configure(VERIFYING_KEY=None)
    configure(**changes)
    with pytest.raises(ImproperlyConfigured) as info:
        get_verifier()
    assert str(info.value).startswith(message)
