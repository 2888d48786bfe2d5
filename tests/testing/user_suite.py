"""Running a user's test suite in a separate pytest process, as the user would.

The project directory gets the files given and nothing else; the process
gets this checkout on ``PYTHONPATH`` (plus any extra directories) and none of
the settings of the run that started it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Generous: a cold Django start on a loaded machine; reached only when hanging.
TIMEOUT = 300


def run_user_suite(
    project: Path,
    files: Mapping[str, str],
    *args: str,
    extra_path: Sequence[Path] = (),
) -> subprocess.CompletedProcess[str]:
    for name, text in files.items():
        target = project / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DJANGO_"))}
    env["PYTHONPATH"] = os.pathsep.join([*map(str, extra_path), str(ROOT)])
    # The user's project is a plain pytest project: this suite's own
    # pytest-asyncio (which newer pytest releases turn into a start-up error
    # without its loop-scope option) is not part of it.
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:asyncio", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def passed_count(result: subprocess.CompletedProcess[str]) -> int:
    """The number of passed tests, asserting that nothing else happened (skips, errors...)."""
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    summary = output.strip().splitlines()[-1]
    passed = re.fullmatch(r"(\d+) passed in [\d.]+s", summary)
    assert passed is not None, output
    return int(passed[1])
