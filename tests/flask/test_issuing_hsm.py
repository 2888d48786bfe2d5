"""A Flask app whose ISSUING keys live on a PKCS#11 token (SoftHSM2): issue, serve, verify, 503."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from jwt_guard_core import GuardConfig, StaticKeySet, Verifier
from jwt_guard_flask.blueprint import issuing_blueprint
from jwt_guard_flask.issuing import get_key_manager, get_token_issuer
from tests.factories import FakeClock
from tests.flask.conftest import MakeApp
from tests.signing.softhsm import MODULE, NO_LOGIN_TOKEN, PIN_ENV, TOKEN, SoftHSM

ISSUER_URL = "https://auth.example"
AUDIENCE = "https://api.example"


def _app(make_app: MakeApp, tmp_path: Path, **changes: Any) -> Flask:
    issuing = {
        "ISSUER": ISSUER_URL,
        "AUDIENCE": AUDIENCE,
        "PKCS11_MODULE": MODULE,
        "PKCS11_TOKEN_LABEL": TOKEN,
        "PKCS11_PIN_ENV": PIN_ENV,
        "PKCS11_PREFIX": f"flask-{os.getpid()}-{tmp_path.name}"[:64],
        "PKCS11_LOCK_FILE": str(tmp_path / "hsm.lock"),
        **changes,
    }
    app = make_app(**{f"JWT_GUARD_ISSUING_{k}": v for k, v in issuing.items()})
    app.register_blueprint(issuing_blueprint)
    return app


def test_tokens_signed_on_the_token_verify_with_the_served_jwks(
    make_app: MakeApp,
    softhsm: SoftHSM,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    clock: FakeClock,
) -> None:
    monkeypatch.setenv(PIN_ENV, softhsm.pin)
    app = _app(make_app, tmp_path)
    token = get_token_issuer(app).issue_access_token("user-1")
    response = app.test_client().get("/.well-known/jwks.json")
    assert response.status_code == 200
    served = json.loads(response.data)
    assert all("d" not in jwk for jwk in served["keys"])
    config = GuardConfig(
        keys=StaticKeySet.from_jwks(served),
        algorithms=["ES256"],
        issuer=ISSUER_URL,
        audience=AUDIENCE,
        clock=clock,
    )
    assert Verifier(config).verify(token).subject == "user-1"
    manager = get_key_manager(app)
    assert manager._signing_key().material is None  # the private key stays on the token


def test_a_wrong_pin_answers_503_on_the_issuing_routes_never_500(
    make_app: MakeApp, softhsm: SoftHSM, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JWT_GUARD_TEST_WRONG_PIN", "not-the-pin")
    app = _app(
        make_app,
        tmp_path,
        PKCS11_TOKEN_LABEL=NO_LOGIN_TOKEN,
        PKCS11_PIN_ENV="JWT_GUARD_TEST_WRONG_PIN",
    )
    response = app.test_client().get("/.well-known/jwks.json")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert response.json == {
        "error": "temporarily_unavailable",
        "error_description": response.json["error_description"],
    }
