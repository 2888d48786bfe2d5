"""Fixtures for the issuing tests: ``JWT_GUARD["ISSUING"]`` over a fresh key directory.

Import them into a test module: ``from tests.django.issuing_fixtures import issuing, key_dir``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

PASSPHRASE = "django issuing passphrase 0123456789"
ISSUER_URL = "https://auth.example"
AUDIENCE = "https://api.example"


@pytest.fixture
def key_dir(tmp_path: Path) -> Path:
    """A key directory that does not exist yet (the store creates it 0700)."""
    return tmp_path / "keys"


@pytest.fixture
def issuing(settings: Any, key_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """``issuing(**keys)``: set JWT_GUARD["ISSUING"] (a valid file-store config plus ``keys``).

    A key given as ``None`` is removed.
    """
    monkeypatch.setenv("JWT_GUARD_KEY_PASSPHRASE", PASSPHRASE)

    def _set(**changes: Any) -> None:
        base = {"KEY_DIR": str(key_dir), "ISSUER": ISSUER_URL, "AUDIENCE": AUDIENCE}
        values = {k: v for k, v in {**base, **changes}.items() if v is not None}
        settings.JWT_GUARD = {**settings.JWT_GUARD, "ISSUING": values}

    _set()
    return _set
