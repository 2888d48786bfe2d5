"""The issuing blueprint: /.well-known/jwks.json and /.well-known/openid-configuration."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from flask import Flask

from jwt_guard_core import GuardConfig, StaticKeySet, Verifier
from jwt_guard_flask.blueprint import issuing_blueprint
from jwt_guard_flask.issuing import get_key_manager, get_token_issuer
from tests.factories import FakeClock

from .issuing_fixtures import AUDIENCE, ISSUER_URL, PASSPHRASE, IssuingApp, issuing_app, key_dir

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
