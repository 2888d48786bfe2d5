"""A user's test suite written only from docs/testing.md passes, in Django and in Flask.

Every fenced block with a ``title="path"`` under the "Example: Django" or
"Example: Flask" heading is written to that path of an empty project
directory, which is then tested by a separate pytest process, as the user
would run it: its own ``pytest.ini``, the plugin enabled with ``-p``, warnings
as errors. Nothing is added that the page does not show.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "testing.md"
_HEADING = re.compile(r"^## (?P<title>.+)$")
_FENCE = re.compile(r'^```(?P<lang>\w+) title="(?P<path>[^"]+)"$')
# Generous: a cold Django start on a loaded machine; reached only when hanging.
TIMEOUT = 300


def example_files(heading: str) -> dict[str, str]:
    """``{path: text}`` of the titled blocks under ``## heading``."""
    files: dict[str, str] = {}
    section = None
    lines = DOC.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        match = _HEADING.match(line)
        if match:
            section = match["title"]
        fence = _FENCE.match(line)
        if fence and section == heading:
            end = lines.index("```", index + 1)
            path = fence["path"]
            assert path not in files, f"{path} appears twice under {heading}"
            files[path] = "\n".join(lines[index + 1 : end]) + "\n"
            index = end
        index += 1
    return files


def run_user_suite(project: Path, files: dict[str, str]) -> subprocess.CompletedProcess[str]:
    for name, text in files.items():
        target = project / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    # The user's environment, not this suite's: no settings module, no
    # extra options inherited from the run that started us.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DJANGO_"))}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


@pytest.mark.parametrize(
    ("heading", "expected_files"),
    [
        (
            "Example: Django",
            {
                "pytest.ini",
                "mysite/settings.py",
                "mysite/urls.py",
                "tests/test_api.py",
                "tests/test_with_testcase.py",
            },
        ),
        ("Example: Flask", {"pytest.ini", "app.py", "tests/conftest.py", "tests/test_api.py"}),
    ],
)
def test_the_documented_example_suite_passes(
    tmp_path: Path, heading: str, expected_files: set[str]
) -> None:
    files = example_files(heading)
    assert set(files) == expected_files
    tests_written = sum(text.count("\ndef test_") + text.count("    def test_") for text in files.values())
    result = run_user_suite(tmp_path, files)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    summary = output.strip().splitlines()[-1]
    # Only passes: a skipped, deselected or erroring test would hide a broken example.
    passed = re.fullmatch(r"(\d+) passed in [\d.]+s", summary)
    assert passed is not None, output
    assert int(passed[1]) >= tests_written > 0
