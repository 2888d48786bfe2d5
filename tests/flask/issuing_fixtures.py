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


@pytest.fixture
def key_dir(tmp_path: Path) -> Path:
    """A key directory that does not exist yet (the store creates it 0700)."""
    return tmp_path / "keys"


@pytest.fixture
def issuing_app(make_app: MakeApp, key_dir: Path, monkeypatch: pytest.MonkeyPatch) -> IssuingApp:
    """``issuing_app(**JWT_GUARD_ISSUING_suffixes)``: a guarded app serving the issuing routes.

    Keyword arguments are key suffixes (``ALGORITHM="EdDSA"``); ``None``
    leaves a key unset.
    """
    monkeypatch.setenv("JWT_GUARD_KEY_PASSPHRASE", PASSPHRASE)

    def _make(**suffixes: Any) -> Flask:
        base = {"KEY_DIR": str(key_dir), "ISSUER": ISSUER_URL, "AUDIENCE": AUDIENCE}
        merged = {**base, **suffixes}
        app = make_app(**{f"JWT_GUARD_ISSUING_{k}": v for k, v in merged.items()})
        app.register_blueprint(issuing_blueprint)
        return app

    return _make
