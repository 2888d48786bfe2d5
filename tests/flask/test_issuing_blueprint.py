"""The issuing blueprint: /.well-known/jwks.json and /.well-known/openid-configuration."""

from __future__ import annotations

import json
import logging
import os
import socket
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from jwt_guard_core import ConfigurationError, GuardConfig, StaticKeySet, Verifier
from jwt_guard_core.signing import FileKeyStore
from jwt_guard_flask.blueprint import issuing_blueprint
from jwt_guard_flask.issuing import get_key_manager, get_token_issuer
from tests.factories import FakeClock

from .issuing_fixtures import (
    AUDIENCE,
    BAD_SETTINGS,
    ISSUER_URL,
    PASSPHRASE,
    IssuingApp,
    issuing_app,
    key_dir,
)

__all__ = ["issuing_app", "key_dir"]


def test_jwks_route_serves_the_manager_document_with_its_headers(
    issuing_app: IssuingApp,
) -> None:
    app = issuing_app()
    response = app.test_client().get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/jwk-set+json"
    assert response.headers["Cache-Control"] == "public, max-age=600"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    document = json.loads(response.data)
    assert document == get_key_manager(app).jwks()
    (jwk,) = document["keys"]
    assert jwk["kid"] == get_key_manager(app).active_key().kid
    assert jwk["use"] == "sig"
    assert "d" not in jwk


def test_a_token_issued_here_verifies_with_the_served_jwks(
    issuing_app: IssuingApp, clock: FakeClock
) -> None:
    app = issuing_app(ALGORITHM="EdDSA")
    token = get_token_issuer(app).issue_access_token("user-1")
    served = json.loads(app.test_client().get("/.well-known/jwks.json").data)
    config = GuardConfig(
        keys=StaticKeySet.from_jwks(served),
        algorithms=["EdDSA"],
        issuer=ISSUER_URL,
        audience=AUDIENCE,
        clock=clock,
    )
    assert Verifier(config).verify(token).subject == "user-1"


def test_jwks_route_keeps_the_retired_key_after_a_rotation(issuing_app: IssuingApp) -> None:
    app = issuing_app(JWKS_MAX_AGE=30)
    old = get_key_manager(app).active_key().kid
    new = get_key_manager(app).rotate().kid
    response = app.test_client().get("/.well-known/jwks.json")
    assert [k["kid"] for k in json.loads(response.data)["keys"]] == [new, old]
    assert response.headers["Cache-Control"] == "public, max-age=30"


def test_head_answers_without_a_body(issuing_app: IssuingApp) -> None:
    response = issuing_app().test_client().head("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.data == b""


@pytest.mark.parametrize("path", ["/.well-known/jwks.json", "/.well-known/openid-configuration"])
def test_unsafe_methods_are_refused_with_405(issuing_app: IssuingApp, path: str) -> None:
    response = issuing_app().test_client().post(path)
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


def test_an_unreachable_key_store_is_503_with_retry_after(issuing_app: IssuingApp) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = issuing_app(KEY_DIR=None, REDIS_URL=f"redis://127.0.0.1:{port}/0")
    response = app.test_client().get("/.well-known/jwks.json")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.json == {
        "error": "temporarily_unavailable",
        "error_description": "Token verification is temporarily unavailable.",
    }


def test_discovery_document_names_the_issuer_and_the_jwks_uri(issuing_app: IssuingApp) -> None:
    response = (
        issuing_app()
        .test_client()
        .get("/.well-known/openid-configuration", headers={"Host": "evil.example"})
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Cache-Control"] == "public, max-age=600"
    assert response.json == {
        "issuer": ISSUER_URL,
        "jwks_uri": f"{ISSUER_URL}/.well-known/jwks.json",
    }


def test_the_blueprint_mounts_under_a_prefix(
    key_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JWT_GUARD_KEY_PASSPHRASE", PASSPHRASE)
    app = Flask("prefixed")
    app.config.update(
        JWT_GUARD_ISSUING_ISSUER=ISSUER_URL + "/tenant", JWT_GUARD_ISSUING_KEY_DIR=str(key_dir)
    )
    app.register_blueprint(issuing_blueprint, url_prefix="/tenant")
    client = app.test_client()
    assert client.get("/tenant/.well-known/jwks.json").status_code == 200
    assert client.get("/tenant/.well-known/openid-configuration").json == {
        "issuer": ISSUER_URL + "/tenant",
        "jwks_uri": ISSUER_URL + "/tenant/.well-known/jwks.json",
    }


def test_registering_the_blueprint_alone_adds_the_cli(
    key_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JWT_GUARD_KEY_PASSPHRASE", PASSPHRASE)
    app = Flask("issuer_only")
    app.config.update(JWT_GUARD_ISSUING_ISSUER=ISSUER_URL, JWT_GUARD_ISSUING_KEY_DIR=str(key_dir))
    app.register_blueprint(issuing_blueprint)
    result = app.test_cli_runner().invoke(args=["jwt-guard", "keygen"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("created signing key ")


@pytest.mark.parametrize(("suffixes", "key"), BAD_SETTINGS)
def test_registering_the_blueprint_refuses_a_bad_setting_naming_the_key(
    issuing_app: IssuingApp, key_dir: Path, suffixes: dict[str, Any], key: str
) -> None:
    os.environ.pop("JWT_GUARD_TEST_UNSET_VARIABLE", None)
    with pytest.raises(ConfigurationError) as info:
        issuing_app(**suffixes)
    assert info.value.setting == f"JWT_GUARD_ISSUING_{key}"
    assert str(info.value).startswith(f"JWT_GUARD_ISSUING_{key}: ")
    assert not key_dir.exists()


def test_registering_the_blueprint_refuses_a_world_readable_key_directory(
    issuing_app: IssuingApp, key_dir: Path
) -> None:
    key_dir.mkdir(mode=0o700)
    key_dir.chmod(0o755)
    with pytest.raises(ConfigurationError, match="chmod 700") as info:
        issuing_app()
    assert info.value.setting == "JWT_GUARD_ISSUING_KEY_DIR"


def test_registering_the_blueprint_does_not_open_the_key_store(
    issuing_app: IssuingApp, key_dir: Path
) -> None:
    app = issuing_app()
    assert not key_dir.exists()
    assert "jwt_guard_issuing" not in app.extensions


def _other_store(key_dir: Path) -> None:
    # A store sealed with another passphrase: the settings are valid, but
    # opening the store fails the passphrase check, on first use.
    FileKeyStore(key_dir, passphrase="another passphrase 0123456789abcdef")


@pytest.mark.parametrize("path", ["/.well-known/jwks.json", "/.well-known/openid-configuration"])
def test_a_store_that_refuses_to_open_is_503_with_an_error_logged(
    issuing_app: IssuingApp, key_dir: Path, caplog: pytest.LogCaptureFixture, path: str
) -> None:
    _other_store(key_dir)
    app = issuing_app()
    with caplog.at_level(logging.ERROR, logger="jwt_guard.flask"):
        response = app.test_client().get(path)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.json == {
        "error": "temporarily_unavailable",
        "error_description": "Token verification is temporarily unavailable.",
    }
    (record,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert record.jwt_guard_event == "issuing_misconfigured"
    assert "JWT_GUARD_ISSUING_PASSPHRASE_ENV" in record.getMessage()
    assert PASSPHRASE not in record.getMessage()


def test_a_key_store_outage_is_logged_as_an_error(
    issuing_app: IssuingApp, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = issuing_app(KEY_DIR=None, REDIS_URL=f"redis://127.0.0.1:{port}/0")
    with caplog.at_level(logging.ERROR, logger="jwt_guard.flask"):
        assert app.test_client().get("/.well-known/jwks.json").status_code == 503
    (record,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert record.jwt_guard_event == "key_store_unavailable"
