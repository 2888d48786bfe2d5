"""Fixtures for the ``jwt-guard`` command-line tests (a pytest plugin).

A test module loads them with ``pytest_plugins = ["tests.core.cli_fixtures"]``
and imports helpers from ``tests.core.cli_support``.
``run`` calls :func:`jwt_guard_core.cli.main` in-process at the fake clock;
``store_dir`` is an application's key store directory with its passphrase
in the environment, as the ``--store`` commands read it.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from jwt_guard_core.cli import main
from jwt_guard_core.signing import FileKeyStore
from tests.core.cli_support import PASSPHRASE, Run
from tests.factories import FakeClock


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], clock: FakeClock) -> Run:
    """``run(*argv, stdin="")`` -> (exit code, stdout, stderr), at the fake clock."""

    def _run(*argv: str, stdin: str = "") -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(list(argv), clock=clock, stdin=io.StringIO(stdin))
        out, err = capsys.readouterr()
        return code, out, err

    return _run


@pytest.fixture
def store_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An application's key store directory (created, empty) and its passphrase in the env."""
    monkeypatch.setenv("JWT_GUARD_KEY_PASSPHRASE", PASSPHRASE)
    directory = tmp_path / "keys"
    FileKeyStore(directory, passphrase=PASSPHRASE)
    return directory
