"""JWT_GUARD_JWE with ``KEYS: "ISSUING"``: Flask decrypts with its key store's key and publishes it.

``JWT_GUARD_ISSUING_ENCRYPTION_ALGORITHM`` keeps a decryption key in the key
store; the issuing blueprint's JWKS lists it with ``use: "enc"``; a
rotation publishes the new key and the old one keeps decrypting for the
overlap window.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from jwt_guard_core import ConfigurationError
from jwt_guard_core.jwe import encrypt_nested
from jwt_guard_flask import current_token, jwt_required
from jwt_guard_flask.blueprint import issuing_blueprint
from jwt_guard_flask.issuing import get_issuing
from tests.factories import FakeClock
from tests.flask.conftest import MakeApp, Mint, bearer, expect_error

from .issuing_fixtures import ISSUER_URL, PASSPHRASE, key_dir

__all__ = ["key_dir"]

ALG, ENC = "ECDH-ES+A256KW", "A256GCM"
JWE = {"KEYS": "ISSUING", "ALGORITHMS": [ALG], "ENCRYPTION": [ENC]}


@pytest.fixture
def app_with(
    make_app: MakeApp, key_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Flask]:
    """An app whose key store keeps a decryption key; inner tokens are ``mint``'s RS256 ones."""
    monkeypatch.setenv("JWT_GUARD_KEY_PASSPHRASE", PASSPHRASE)

    def _make(**issuing: Any) -> Flask:
        values = {"KEY_DIR": str(key_dir), "ISSUER": ISSUER_URL, "ENCRYPTION_ALGORITHM": ALG}
        values.update(issuing)
        made = make_app(
            JWT_GUARD_JWE=JWE, **{f"JWT_GUARD_ISSUING_{k}": v for k, v in values.items()}
        )
        made.register_blueprint(issuing_blueprint)

        @made.get("/me")
        @jwt_required
        def me() -> dict[str, Any]:
            return {"sub": current_token.subject}

        return made

    return _make


@pytest.fixture
def app(app_with: Callable[..., Flask]) -> Flask:
    return app_with()


def _served(app: Flask) -> list[dict[str, Any]]:
    response = app.test_client().get("/.well-known/jwks.json")
    assert response.status_code == 200
    return list(json.loads(response.data)["keys"])


def _encrypted_to(jws: str, jwk: dict[str, Any]) -> str:
    return encrypt_nested(jws, jwk, ALG, ENC)


def test_the_jwks_publishes_the_decryption_key_and_a_token_encrypted_to_it_is_accepted(
    app: Flask, mint: Mint, rejected: list[str]
) -> None:
    signing, encryption = _served(app)
    assert (signing["use"], encryption["use"], encryption["alg"]) == ("sig", "enc", ALG)
    response = app.test_client().get("/me", headers=bearer(_encrypted_to(mint(), encryption)))
    assert response.status_code == 200
    assert response.get_json() == {"sub": "user-1"}
    expect_error(app.test_client().get("/me", headers=bearer(mint())), 401, "invalid_token")
    assert rejected == ["encryption_required"]


def test_the_old_key_still_decrypts_after_a_rotation(
    app: Flask, mint: Mint, clock: FakeClock, rejected: list[str]
) -> None:
    old = _served(app)[1]
    with app.app_context():
        encryption = get_issuing().encryption
    assert encryption is not None
    encryption.rotate()
    new = _served(app)[1]
    assert new["kid"] != old["kid"]
    client = app.test_client()
    assert client.get("/me", headers=bearer(_encrypted_to(mint(), new))).status_code == 200
    assert client.get("/me", headers=bearer(_encrypted_to(mint(), old))).status_code == 200
    clock.advance(encryption.retention)
    encryption.maybe_rotate()
    expect_error(
        client.get("/me", headers=bearer(_encrypted_to(mint(), old))), 401, "invalid_token"
    )
    assert rejected == ["unknown_kid"]


def test_keys_issuing_without_an_encryption_algorithm_names_the_jwe_keys(
    app_with: Callable[..., Flask],
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        app_with(ENCRYPTION_ALGORITHM=None)
    assert caught.value.setting == "JWT_GUARD_JWE['KEYS']"
