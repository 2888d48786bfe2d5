"""The kit is framework-neutral: importing any of its modules imports neither Django nor Flask."""

from __future__ import annotations

import subprocess
import sys

from .user_suite import ROOT

KIT_MODULES = [
    "jwt_guard_core.testing",
    "jwt_guard_core.testing.issuer",
    "jwt_guard_core.testing.tokens",
    "jwt_guard_core.testing.pytest_plugin",
    "jwt_guard_core.testing.django",
    "jwt_guard_core.testing.flask",
]
FRAMEWORKS = (
    "django",
    "flask",
    "werkzeug",
    "rest_framework",
    "jwt_guard_django",
    "jwt_guard_flask",
)


def test_no_kit_module_imports_a_web_framework() -> None:
    program = (
        "import importlib, sys\n"
        f"for name in {KIT_MODULES!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {FRAMEWORKS!r}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", program],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert result.stdout.strip() == "[]"
