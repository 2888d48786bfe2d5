"""jwt-guard as a process: --version, and a quiet stop when its output pipe is closed."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

import pytest

from jwt_guard_core.cli._output import distribution_version
from tests.core.cli_support import Run

pytest_plugins = ["tests.core.cli_fixtures"]

ROOT = Path(__file__).resolve().parents[2]


def test_version_prints_the_installed_distribution_version(run: Run) -> None:
    try:
        expected = importlib.metadata.version("jwt-guard")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - a bare checkout
        expected = "(version unknown: the jwt-guard distribution is not installed)"
    assert run("--version") == (0, f"jwt-guard {expected}\n", "")


def test_version_of_a_distribution_that_is_not_installed_says_so() -> None:
    assert distribution_version("jwt-guard-no-such-distribution") == (
        "(version unknown: the jwt-guard-no-such-distribution distribution is not installed)"
    )


@pytest.fixture
def store_with_a_key(run: Run, store_dir: Path) -> Path:
    """A key store directory with one key, made by `jwt-guard rotate`."""
    assert run("rotate", "--store", str(store_dir))[0] == 0
    return store_dir


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
            env={**os.environ, "PYTHONPATH": str(ROOT)},
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
def test_a_closed_output_pipe_ends_quietly_with_141(
    store_with_a_key: Path, argv: tuple[str, ...]
) -> None:
    code, err = _run_into_a_closed_pipe(*(a.format(store=store_with_a_key) for a in argv))
    assert err == ""
    assert code == 141


def test_an_open_pipe_still_gets_everything(store_with_a_key: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "jwt_guard_core.cli", "jwks", "--store", str(store_with_a_key)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.startswith("{\n")
    assert '"keys"' in result.stdout
