"""Fixtures for the Flask issuing tests: an app with ``JWT_GUARD_ISSUING_*`` over a fresh key dir.

Import them into a test module:
``from tests.flask.issuing_fixtures import issuing_app, key_dir``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from jwt_guard_flask.blueprint import issuing_blueprint
from tests.flask.conftest import MakeApp

PASSPHRASE = "flask issuing passphrase 0123456789"
ISSUER_URL = "https://auth.example"
AUDIENCE = "https://api.example"

IssuingApp = Callable[..., Flask]

#: ``(suffixes, key)``: issuing config that is refused, and the key the error names.
BAD_SETTINGS: list[tuple[dict[str, Any], str]] = [
    ({"ISSUER": None}, "ISSUER"),
    ({"ISSUER": 42}, "ISSUER"),
    ({"KEY_DIR": None}, "KEY_DIR"),
    ({"KEY_DIR": 42}, "KEY_DIR"),
    ({"REDIS_URL": "redis://127.0.0.1:1/0"}, "KEY_DIR"),
    ({"KEY_DIR": None, "REDIS_URL": "ftp://x"}, "REDIS_URL"),
    ({"ALGORITHM": "none"}, "ALGORITHM"),
    ({"ALGORITHM": "HS256"}, "ALGORITHM"),
    ({"ALLOW_HMAC": "False"}, "ALLOW_HMAC"),
    ({"AUTO_ROTATE": 0}, "AUTO_ROTATE"),
    ({"ROTATION_INTERVAL": "monthly"}, "ROTATION_INTERVAL"),
    ({"MAX_TOKEN_LIFETIME": 0}, "MAX_TOKEN_LIFETIME"),
    ({"GRACE_PERIOD": -1}, "GRACE_PERIOD"),
    ({"JWKS_MAX_AGE": -1}, "JWKS_MAX_AGE"),
    ({"PUBLISH_AHEAD": 5}, "PUBLISH_AHEAD"),
    ({"ACCESS_TOKEN_LIFETIME": 86400}, "ACCESS_TOKEN_LIFETIME"),
    ({"AUDIENCE": ["a", 2]}, "AUDIENCE"),
    ({"JWKS_URI": "jwks.json"}, "JWKS_URI"),
    ({"PASSPHRASE_ENV": 3}, "PASSPHRASE_ENV"),
    ({"PASSPHRASE_ENV": "JWT_GUARD_TEST_UNSET_VARIABLE"}, "PASSPHRASE_ENV"),
    ({"ROTATE_EVERY": 60}, "ROTATE_EVERY"),
    # The JWE decryption key in the store (issue 16).
    ({"ENCRYPTION_ALGORITHM": "RSA1_5"}, "ENCRYPTION_ALGORITHM"),
    ({"ENCRYPTION_ALGORITHM": "ECDH-ES", "ENCRYPTION_CURVE": "P-384"}, "ENCRYPTION_CURVE"),
]


@pytest.fixture
def key_dir(tmp_path: Path) -> Path:
    """A key directory that does not exist yet (the store creates it 0700)."""
    return tmp_path / "keys"


@pytest.fixture
def issuing_app(make_app: MakeApp, key_dir: Path, monkeypatch: pytest.MonkeyPatch) -> IssuingApp:
    """``issuing_app(**JWT_GUARD_ISSUING_suffixes)``: a guarded app serving the issuing routes.

    Keyword arguments are key suffixes (``ALGORITHM="EdDSA"``); ``None``
    leaves a key unset. ``blueprint=False`` leaves the routes out (the
    guard alone, whose registration does not check the issuing keys).
    """
    monkeypatch.setenv("JWT_GUARD_KEY_PASSPHRASE", PASSPHRASE)

    def _make(*, blueprint: bool = True, **suffixes: Any) -> Flask:
        base = {"KEY_DIR": str(key_dir), "ISSUER": ISSUER_URL, "AUDIENCE": AUDIENCE}
        merged = {**base, **suffixes}
        app = make_app(**{f"JWT_GUARD_ISSUING_{k}": v for k, v in merged.items()})
        if blueprint:
            app.register_blueprint(issuing_blueprint)
        return app

    return _make
