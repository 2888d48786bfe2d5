"""JWT_GUARD["INTROSPECTION"] and JWT_GUARD["JWE"]: opaque and encrypted tokens through Django.

The introspection endpoint is a real server on loopback; the client secret
comes from an environment variable. Every refusal asserts its reason, its
status and its challenge; configuration errors name the key to fix, and the
system checks report them under their own ids (E016, E017, W015, W016).
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from django.core.exceptions import ImproperlyConfigured
from werkzeug import Request, Response

from jwt_guard_django.checks import check_settings
from jwt_guard_django.verifier import get_verifier
from tests.beyond_jws_support import (
    DOWN_PATH,
    INACTIVE,
    OPAQUE,
    encrypt,
    introspection_settings,
    jwe_settings,
    tampered,
)
from tests.core.introspection_server import active, serve_metadata
from tests.factories import AUDIENCE

pytest_plugins = ["tests.core.remote_fixtures", "tests.beyond_jws_fixtures"]

INVALID = 'Bearer realm="api", error="invalid_token"'


@pytest.fixture
def introspecting(configure, auth_server, secret_env):
    configure(INTROSPECTION=introspection_settings(auth_server))
    return auth_server


@pytest.fixture
def encrypting(configure, enc_key_file):
    configure(JWE=jwe_settings(enc_key_file))


def _get(client, token):
    return client.get("/plain/", headers={"Authorization": f"Bearer {token}"})


def test_an_opaque_token_is_accepted_by_introspection(client, introspecting):
    response = _get(client, OPAQUE)
    assert response.status_code == 200
    assert response.json()["sub"] == "user-1"
    assert response.json()["scopes"] == ["orders:read", "profile"]
    assert introspecting.count() == 1


async def test_the_async_path_introspects_too(async_client, introspecting, rejected_reasons):
    response = await async_client.get(
        "/plain-async/", headers={"Authorization": f"Bearer {OPAQUE}"}
    )
    assert response.status_code == 200
    assert response.json()["sub"] == "user-1"
    refused = await async_client.get(
        "/plain-async/", headers={"Authorization": f"Bearer {INACTIVE}"}
    )
    assert refused.status_code == 401
    assert rejected_reasons == ["token_inactive"]


async def test_the_async_path_decrypts_too(
    async_client, encrypting, make_token, enc_private_key, rejected_reasons
):
    token = encrypt(make_token(), enc_private_key)
    response = await async_client.get("/plain-async/", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    bad = tampered(token)
    refused = await async_client.get("/plain-async/", headers={"Authorization": f"Bearer {bad}"})
    assert refused.status_code == 401
    assert rejected_reasons == ["decryption_failed"]


def test_a_jwt_still_verifies_locally_next_to_introspection(client, introspecting, make_token):
    assert _get(client, make_token()).status_code == 200
    assert introspecting.count() == 0


def test_an_inactive_opaque_token_is_401_token_inactive(client, introspecting, rejected_reasons):
    response = _get(client, INACTIVE)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == INVALID
    assert rejected_reasons == ["token_inactive"]


def test_an_introspection_outage_is_503_with_retry_after(
    client, configure, auth_server, secret_env, rejected_reasons
):
    configure(
        INTROSPECTION=introspection_settings(
            auth_server, ENDPOINT=auth_server.server.url(DOWN_PATH)
        )
    )
    response = _get(client, OPAQUE)
    assert response.status_code == 503
    assert int(response["Retry-After"]) >= 1
    assert "WWW-Authenticate" not in response
    assert response.json()["error"] == "temporarily_unavailable"


def test_discovery_finds_the_endpoint_in_the_issuers_metadata(
    client, configure, auth_server, secret_env, jwks_server
):
    serve_metadata(
        jwks_server,
        "/.well-known/oauth-authorization-server",
        jwks_server.origin,
        auth_server.url,
    )
    configure(
        INTROSPECTION=introspection_settings(
            auth_server, ENDPOINT="discovery", ISSUER=jwks_server.origin
        )
    )
    assert _get(client, OPAQUE).status_code == 200


def test_a_nested_jwe_is_decrypted_and_verified(client, encrypting, make_token, enc_private_key):
    response = _get(client, encrypt(make_token(), enc_private_key))
    assert response.status_code == 200
    assert response.json()["sub"] == "user-1"


def test_a_plain_jws_is_refused_when_encryption_is_required(
    client, encrypting, make_token, rejected_reasons
):
    response = _get(client, make_token())
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == INVALID
    assert rejected_reasons == ["encryption_required"]


def test_a_jwe_that_does_not_decrypt_is_401_decryption_failed(
    client, encrypting, make_token, enc_private_key, rejected_reasons
):
    response = _get(client, tampered(encrypt(make_token(), enc_private_key)))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == INVALID
    assert rejected_reasons == ["decryption_failed"]


def test_an_expired_token_inside_a_jwe_is_refused_as_expired(
    client, encrypting, make_token, enc_private_key, rejected_reasons, clock
):
    response = _get(client, encrypt(make_token(exp=int(clock()) - 3600), enc_private_key))
    assert response.status_code == 401
    assert rejected_reasons == ["token_expired"]


# -- configuration errors name the key


def _refusal() -> str:
    with pytest.raises(ImproperlyConfigured) as caught:
        get_verifier()
    return str(caught.value)


def test_a_client_secret_written_in_the_settings_is_refused(configure, auth_server):
    configure(INTROSPECTION=introspection_settings(auth_server, CLIENT_SECRET="hunter2"))
    message = _refusal()
    assert "JWT_GUARD['INTROSPECTION']['CLIENT_SECRET']" in message
    assert "hunter2" not in message
    messages = check_settings()
    assert [m.id for m in messages] == ["jwt_guard.E016"]
    assert "CLIENT_SECRET_ENV" in messages[0].msg


def test_an_unset_secret_variable_names_the_key(configure, auth_server, monkeypatch):
    monkeypatch.delenv("JWT_GUARD_TEST_INTROSPECTION_SECRET", raising=False)
    configure(INTROSPECTION=introspection_settings(auth_server))
    message = _refusal()
    assert "JWT_GUARD['INTROSPECTION']['CLIENT_SECRET_ENV']" in message
    assert "is not set" in message
    assert [m.id for m in check_settings()] == ["jwt_guard.E007"]


def test_a_bad_timeout_names_the_key(configure, auth_server, secret_env):
    configure(INTROSPECTION=introspection_settings(auth_server, TIMEOUT=-1))
    assert "JWT_GUARD['INTROSPECTION']['TIMEOUT']" in _refusal()


def test_an_unknown_introspection_key_is_e016(configure, auth_server, secret_env):
    configure(INTROSPECTION=introspection_settings(auth_server, POSITIV_TTL=30))
    messages = check_settings()
    assert [m.id for m in messages] == ["jwt_guard.E016"]
    assert "POSITIV_TTL" in messages[0].msg


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"POSITIVE_TTL": timedelta(hours=1)}, "POSITIVE_TTL"),
        ({"VERIFY_AUDIENCE": False}, "VERIFY_AUDIENCE"),
        ({"ALLOW_HTTP": True}, "ALLOW_HTTP"),
    ],
)
def test_risky_introspection_values_are_w015(configure, auth_server, secret_env, change, named):
    configure(INTROSPECTION=introspection_settings(auth_server, **change))
    messages = check_settings()
    assert [m.id for m in messages] == ["jwt_guard.W015"]
    assert f"JWT_GUARD['INTROSPECTION']['{named}']" in messages[0].msg


def test_jwe_without_an_enc_allowlist_is_e017(configure, enc_key_file):
    configure(JWE=jwe_settings(enc_key_file, ENCRYPTION=None))
    messages = check_settings()
    assert [m.id for m in messages] == ["jwt_guard.E017"]
    assert "JWT_GUARD['JWE']['ENCRYPTION']" in messages[0].msg


def test_a_private_key_written_in_the_settings_is_e017(configure, enc_key_file):
    configure(JWE=jwe_settings(enc_key_file, KEYS=enc_key_file.read_text()))
    messages = check_settings()
    assert [m.id for m in messages] == ["jwt_guard.E017"]
    assert "may not be written in the settings" in messages[0].msg
    assert "PRIVATE KEY" not in messages[0].msg


def test_a_key_file_others_can_read_is_refused(configure, enc_key_file):
    enc_key_file.chmod(0o644)
    configure(JWE=jwe_settings(enc_key_file))
    message = _refusal()
    assert "JWT_GUARD['JWE']['KEYS']" in message
    assert "chmod 600" in message


def test_optional_encryption_is_w016(configure, enc_key_file, make_token, client):
    configure(JWE=jwe_settings(enc_key_file, REQUIRED=False))
    assert [m.id for m in check_settings()] == ["jwt_guard.W016"]
    assert _get(client, make_token()).status_code == 200


def test_risky_values_are_logged_nowhere_but_the_checks(configure, enc_key_file, caplog):
    # Django reports through manage.py check; building the verifier logs nothing.
    configure(JWE=jwe_settings(enc_key_file, REQUIRED=False))
    with caplog.at_level(logging.WARNING):
        get_verifier()
    assert caplog.records == []


def test_private_key_jwt_from_an_encrypted_key_file(
    client, configure, jwks_server, keyring, tmp_path, monkeypatch
):
    public = keyring.p256.public_key()
    seen: list[dict[str, Any]] = []

    def endpoint(request: Request) -> Response:
        form = request.form
        claims = jwt.decode(
            form["client_assertion"],
            public,
            algorithms=["ES256"],
            audience=jwks_server.url("/pkjwt"),
            issuer="orders-api",
            options={"verify_iat": False, "verify_exp": False},
        )
        seen.append(claims)
        answer = active(aud=AUDIENCE) if form["token"] == OPAQUE else {"active": False}
        return Response(json.dumps(answer), content_type="application/json")

    jwks_server.add("/pkjwt", endpoint)
    key_file = tmp_path / "rs-key.pem"
    key_file.write_bytes(
        keyring.p256.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"key file password"),
        )
    )
    key_file.chmod(0o600)
    monkeypatch.setenv("RS_KEY_PASSWORD", "key file password")
    value = {
        "ENDPOINT": jwks_server.url("/pkjwt"),
        "CLIENT_ID": "orders-api",
        "CLIENT_AUTH": "private_key_jwt",
        "PRIVATE_KEY_FILE": str(key_file),
        "PRIVATE_KEY_PASSWORD_ENV": "RS_KEY_PASSWORD",
        "ASSERTION_ALGORITHM": "ES256",
        "ASSERTION_KID": "rs-key-1",
    }
    configure(INTROSPECTION=value)
    assert _get(client, OPAQUE).status_code == 200
    assert seen[0]["sub"] == "orders-api"
    monkeypatch.setenv("RS_KEY_PASSWORD", "wrong password")
    configure(INTROSPECTION=dict(value))
    message = _refusal()
    assert "JWT_GUARD['INTROSPECTION']['PRIVATE_KEY_FILE']" in message
    assert "key file password" not in message
    assert "wrong password" not in message
