"""Importing an adapter without its framework says which extra to install."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("package", "framework", "extra"),
    [("jwt_guard_flask", "flask", "flask"), ("jwt_guard_django", "django", "django")],
)
def test_import_without_the_framework_names_the_extra(package, framework, extra):
    # sys.modules[name] = None makes "import name" fail as if not installed.
    code = (
        f"import sys; sys.modules[{framework!r}] = None\n"
        "try:\n"
        f"    import {package}\n"
        "except ImportError as exc:\n"
        "    print(type(exc).__name__, exc.name, exc)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.startswith(f"ImportError {framework} ")
    assert f"pip install 'jwt-guard[{extra}]'" in result.stdout


def test_the_core_imports_without_either_framework():
    code = (
        "import sys; sys.modules['flask'] = None; sys.modules['django'] = None\n"
        "import jwt_guard_core, jwt_guard_core.settings\n"
        "print('ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout == "ok\n"
