"""jwt-guard as a process: --version, and a quiet stop when its output pipe is closed."""

from __future__ import annotations

import importlib.metadata
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from jwt_guard_core.cli import main
from jwt_guard_core.cli._output import distribution_version
from jwt_guard_core.signing import FileKeyStore, KeyManager

ROOT = Path(__file__).resolve().parents[2]
PASSPHRASE = "pipe store passphrase 0123456789"


def test_version_prints_the_installed_distribution_version(
    capsys: pytest.CaptureFixture[str],
) -> None:
    try:
        expected = importlib.metadata.version("jwt-guard")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - a bare checkout
        expected = "(version unknown: the jwt-guard distribution is not installed)"
    code = main(["--version"], stdin=io.StringIO(""))
    out, err = capsys.readouterr()
    assert (code, out, err) == (0, f"jwt-guard {expected}\n", "")


def test_version_of_a_distribution_that_is_not_installed_says_so() -> None:
    assert distribution_version("jwt-guard-no-such-distribution") == (
        "(version unknown: the jwt-guard-no-such-distribution distribution is not installed)"
    )


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    """A key store directory with one key, as `jwt-guard rotate` leaves it."""
    directory = tmp_path / "keys"
    store = FileKeyStore(directory, passphrase=PASSPHRASE)
    KeyManager(store).rotate()
    return directory


def _run_into_a_closed_pipe(*argv: str) -> tuple[int, str]:
    """Run jwt-guard with standard output a pipe whose reader has already gone away.

    The read end is closed before the process starts, so its first write
    meets EPIPE for certain, as ``| head -1`` does once head has its line.
    """
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "jwt_guard_core.cli", *argv],
            stdin=subprocess.DEVNULL,
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            env={
                **os.environ,
                "PYTHONPATH": str(ROOT),
                "JWT_GUARD_KEY_PASSPHRASE": PASSPHRASE,
            },
        )
    finally:
        os.close(write_end)
    _, err = process.communicate(timeout=120)
    return process.returncode, err


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(("jwks", "--store", "{store}"), id="jwks"),
        pytest.param(("keys", "--store", "{store}"), id="keys"),
        pytest.param(("demo",), id="demo"),
    ],
)
def test_a_closed_output_pipe_ends_quietly_with_141(store_dir: Path, argv: tuple[str, ...]) -> None:
    code, err = _run_into_a_closed_pipe(*(a.format(store=store_dir) for a in argv))
    assert err == ""
    assert code == 141


def test_an_open_pipe_still_gets_everything(store_dir: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "jwt_guard_core.cli", "jwks", "--store", str(store_dir)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT), "JWT_GUARD_KEY_PASSPHRASE": PASSPHRASE},
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.startswith("{\n")
    assert '"keys"' in result.stdout
