"""A user's test suite written only from docs/testing.md passes, in Django and in Flask.

Every fenced block with a ``title="path"`` under the "Example: Django" or
"Example: Flask" heading is written to that path of an empty project
directory, which is then tested by a separate pytest process, as the user
would run it: its own ``pytest.ini``, the plugin enabled with ``-p``, warnings
as errors. Nothing is added that the page does not show.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .user_suite import ROOT, passed_count, run_user_suite

DOC = ROOT / "docs" / "testing.md"
_HEADING = re.compile(r"^## (?P<title>.+)$")
_FENCE = re.compile(r'^```(?P<lang>\w+) title="(?P<path>[^"]+)"$')


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
    tests_written = sum(
        text.count("\ndef test_") + text.count("    def test_") for text in files.values()
    )
    # Only passes: a skipped, deselected or erroring test would hide a broken example.
    assert passed_count(run_user_suite(tmp_path, files)) >= tests_written > 0
