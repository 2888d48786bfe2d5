"""JWT_GUARD_INTROSPECTION and JWT_GUARD_JWE: opaque and encrypted tokens through Flask.

The introspection endpoint is a real server on loopback; the client secret
comes from an environment variable. Every refusal asserts its reason, its
status and its challenge; configuration errors raised by ``init_app`` name
the key to fix, and risky values are logged at start-up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask

from jwt_guard_core import ConfigurationError, StaticKeySet
from jwt_guard_core.keys import key_from_public_key
from jwt_guard_flask import current_token, jwt_required
from tests.beyond_jws_support import (
    DOWN_PATH,
    INACTIVE,
    OPAQUE,
    encrypt,
    introspection_settings,
    jwe_settings,
    tampered,
)
from tests.core.introspection_server import (
    CLIENT_ID,
    PATH,
    SECRET,
    AuthServer,
    SignedServer,
    active,
    serve_metadata,
)
from tests.core.remote_servers import JWKSServer
from tests.factories import AUDIENCE, ISSUER, KeyRing, public_pem
from tests.flask.conftest import MakeApp, Mint, bearer, expect_error

pytest_plugins = ["tests.core.remote_fixtures", "tests.beyond_jws_fixtures"]


@pytest.fixture
def app_with(make_app: MakeApp) -> Iterator[Callable[..., Flask]]:
    """``app_with(**config)``: an app with a protected ``/me`` (introspection closed after)."""
    made: list[Flask] = []

    def _make(**config: Any) -> Flask:
        app = make_app(**config)

        @app.get("/me")
        @jwt_required
        def me() -> dict[str, Any]:
            return {"sub": current_token.subject, "scopes": sorted(current_token.scopes)}

        made.append(app)
        return app

    yield _make
    for app in made:
        source = app.extensions["jwt_guard"]._state_for(app).verifier.config.opaque_source
        if source is not None:
            source.close()


@pytest.fixture
def introspecting(app_with, auth_server: AuthServer, secret_env: str) -> Flask:
    return app_with(JWT_GUARD_INTROSPECTION=introspection_settings(auth_server))


@pytest.fixture
def encrypting(app_with, enc_key_file: Path) -> Flask:
    return app_with(JWT_GUARD_JWE=jwe_settings(enc_key_file))


def _get(app: Flask, token: str) -> Any:
    return app.test_client().get("/me", headers=bearer(token))


def test_an_opaque_token_is_accepted_by_introspection(
    introspecting: Flask, auth_server: AuthServer
) -> None:
    response = _get(introspecting, OPAQUE)
    assert response.status_code == 200
    assert response.get_json() == {"sub": "user-1", "scopes": ["orders:read", "profile"]}
    assert auth_server.count() == 1


def test_a_jwt_still_verifies_locally_next_to_introspection(
    introspecting: Flask, auth_server: AuthServer, mint: Mint
) -> None:
    assert _get(introspecting, mint()).status_code == 200
    assert auth_server.count() == 0


def test_an_inactive_opaque_token_is_401_token_inactive(
    introspecting: Flask, rejected: list[str]
) -> None:
    expect_error(_get(introspecting, INACTIVE), 401, "invalid_token")
    assert rejected == ["token_inactive"]


def test_an_introspection_outage_is_503_with_retry_after(
    app_with, auth_server: AuthServer, secret_env: str
) -> None:
    app = app_with(
        JWT_GUARD_INTROSPECTION=introspection_settings(
            auth_server, ENDPOINT=auth_server.server.url(DOWN_PATH)
        )
    )
    expect_error(_get(app, OPAQUE), 503, "temporarily_unavailable")


def test_discovery_finds_the_endpoint_in_the_issuers_metadata(
    app_with, auth_server: AuthServer, secret_env: str, jwks_server: JWKSServer
) -> None:
    serve_metadata(
        jwks_server,
        "/.well-known/oauth-authorization-server",
        jwks_server.origin,
        auth_server.url,
    )
    app = app_with(
        JWT_GUARD_INTROSPECTION=introspection_settings(
            auth_server, ENDPOINT="discovery", ISSUER=jwks_server.origin
        )
    )
    assert _get(app, OPAQUE).status_code == 200


def test_client_secret_post_from_a_private_file(
    app_with, jwks_server: JWKSServer, tmp_path: Path
) -> None:

    server = AuthServer(jwks_server, auth="post")
    server.answers[OPAQUE] = active(aud=AUDIENCE)
    secret_file = tmp_path / "client-secret"
    secret_file.write_text(SECRET + "\n")
    secret_file.chmod(0o600)
    app = app_with(
        JWT_GUARD_INTROSPECTION=introspection_settings(
            server,
            CLIENT_AUTH="client_secret_post",
            CLIENT_SECRET_ENV=None,
            CLIENT_SECRET_FILE=str(secret_file),
        )
    )
    assert _get(app, OPAQUE).status_code == 200


def test_a_nested_jwe_is_decrypted_and_verified(
    encrypting: Flask, mint: Mint, enc_private_key: ec.EllipticCurvePrivateKey
) -> None:
    response = _get(encrypting, encrypt(mint(), enc_private_key))
    assert response.status_code == 200
    assert response.get_json()["sub"] == "user-1"


def test_a_plain_jws_is_refused_when_encryption_is_required(
    encrypting: Flask, mint: Mint, rejected: list[str]
) -> None:
    expect_error(_get(encrypting, mint()), 401, "invalid_token")
    assert rejected == ["encryption_required"]


def test_a_jwe_that_does_not_decrypt_is_401_decryption_failed(
    encrypting: Flask, mint: Mint, enc_private_key: ec.EllipticCurvePrivateKey, rejected: list[str]
) -> None:
    expect_error(_get(encrypting, tampered(encrypt(mint(), enc_private_key))), 401, "invalid_token")
    assert rejected == ["decryption_failed"]


# -- configuration errors name the key; risky values are logged


def _refusal(app_with: Callable[..., Flask], **config: Any) -> ConfigurationError:
    with pytest.raises(ConfigurationError) as caught:
        app_with(**config)
    return caught.value


def test_a_client_secret_written_in_the_settings_is_refused(
    app_with, auth_server: AuthServer
) -> None:
    error = _refusal(
        app_with,
        JWT_GUARD_INTROSPECTION=introspection_settings(auth_server, CLIENT_SECRET="hunter2"),
    )
    assert error.setting == "JWT_GUARD_INTROSPECTION['CLIENT_SECRET']"
    assert "hunter2" not in str(error)


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"CLIENT_ID": None}, "CLIENT_ID"),
        ({"TIMEOUT": 0}, "TIMEOUT"),
        ({"CLIENT_AUTH": "tls_client_auth"}, "CLIENT_AUTH"),
        ({"ENDPOINT": "http://auth.example/introspect"}, "ENDPOINT"),
        ({"CLIENT_AUTH": "private_key_jwt", "CLIENT_SECRET_ENV": None}, "PRIVATE_KEY_FILE"),
    ],
)
def test_a_bad_introspection_value_names_its_key(
    app_with, auth_server: AuthServer, secret_env: str, change: dict[str, Any], key: str
) -> None:
    error = _refusal(
        app_with, JWT_GUARD_INTROSPECTION=introspection_settings(auth_server, **change)
    )
    assert error.setting == f"JWT_GUARD_INTROSPECTION[{key!r}]"


def test_a_bad_jwe_value_names_its_key(app_with, enc_key_file: Path) -> None:
    error = _refusal(app_with, JWT_GUARD_JWE=jwe_settings(enc_key_file, ALGORITHMS=["RSA1_5"]))
    assert error.setting == "JWT_GUARD_JWE['ALGORITHMS']"
    assert "Bleichenbacher" in str(error)
    error = _refusal(
        app_with, JWT_GUARD_JWE=jwe_settings(enc_key_file, ALGORITHMS=["RSA-OAEP-256"])
    )
    assert error.setting == "JWT_GUARD_JWE['ALGORITHMS']"
    assert "no decryption key" in str(error)


def test_risky_values_are_logged_at_init_app(
    app_with, auth_server: AuthServer, secret_env: str, enc_key_file: Path, caplog
) -> None:
    caplog.set_level(logging.WARNING, logger="jwt_guard.flask")
    app_with(
        JWT_GUARD_INTROSPECTION=introspection_settings(
            auth_server, POSITIVE_TTL=timedelta(hours=1)
        ),
        JWT_GUARD_JWE=jwe_settings(enc_key_file, REQUIRED=False),
    )
    logged = [r.getMessage() for r in caplog.records if r.name == "jwt_guard.flask"]
    assert len(logged) == 2
    assert "JWT_GUARD_INTROSPECTION['POSITIVE_TTL'] is 3600 seconds" in logged[0]
    assert "JWT_GUARD_JWE['REQUIRED'] is False" in logged[1]


# -- signed answers (RFC 9701) with the issuer's own key source


def test_signed_responses_are_verified_with_the_issuers_key_source(
    app_with, jwks_server: JWKSServer, keyring: KeyRing, secret_env: str
) -> None:
    signed = SignedServer(jwks_server, keyring.p256)
    signed.members = active(aud=AUDIENCE)
    issuer_jwks = StaticKeySet([key_from_public_key(keyring.p256.public_key(), kid="as-1")]).jwks()
    app = app_with(
        JWT_GUARD_ALGORITHMS=["ES256"],
        JWT_GUARD_PUBLIC_KEY=None,
        JWT_GUARD_JWKS=issuer_jwks,
        JWT_GUARD_ISSUER=jwks_server.origin,
        JWT_GUARD_INTROSPECTION={
            "ENDPOINT": jwks_server.url(PATH),
            "CLIENT_ID": CLIENT_ID,
            "CLIENT_SECRET_ENV": secret_env,
            "SIGNED_RESPONSES": True,
        },
    )
    assert _get(app, OPAQUE).get_json()["sub"] == "user-1"
    signed.tamper = True
    signed.members = active(aud=AUDIENCE, sub="user-2")  # a new answer, not the cached one
    response = _get(app, "another-opaque-token")
    expect_error(response, 503, "temporarily_unavailable")


def test_with_issuers_the_introspected_issuer_must_be_named(
    app_with, auth_server: AuthServer, secret_env: str, keyring: KeyRing
) -> None:
    issuers = {
        ISSUER: {"PUBLIC_KEY": {"rsa-1": public_pem(keyring.rsa)}, "AUDIENCE": AUDIENCE},
    }
    error = _refusal(
        app_with,
        JWT_GUARD_ISSUER=None,
        JWT_GUARD_ISSUERS=issuers,
        JWT_GUARD_PUBLIC_KEY=None,
        JWT_GUARD_INTROSPECTION=introspection_settings(auth_server),
    )
    assert error.setting == "JWT_GUARD_INTROSPECTION['ISSUER']"
    app = app_with(
        JWT_GUARD_ISSUER=None,
        JWT_GUARD_ISSUERS=issuers,
        JWT_GUARD_PUBLIC_KEY=None,
        JWT_GUARD_INTROSPECTION=introspection_settings(auth_server, ISSUER=ISSUER),
    )
    assert _get(app, OPAQUE).status_code == 200


@pytest.mark.parametrize("setting", ["JWT_GUARD_INTROSPECTION", "JWT_GUARD_JWE"])
def test_a_value_that_is_not_a_dict_is_refused_without_echoing_it(app_with, setting: str) -> None:
    error = _refusal(app_with, **{setting: "s3cr3t-pasted-here"})
    assert error.setting == setting
    assert "s3cr3t" not in str(error)
