"""Node packages for the interop tests, installed by the tests themselves (pinned).

Each folder under ``tests/interop`` holding node scripts gets its own
``node_modules`` (git-ignored): an ``npm install --no-save`` prunes what it
was not asked for, so two tests sharing a folder would uninstall each
other's packages. Without ``node`` and ``npm`` the test is skipped, or
fails under ``CI=true`` (``tests/tools.py``); a failed install fails it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from tests.tools import missing


def node_with(folder: Path, packages: tuple[str, ...], why: str) -> str:
    """The ``node`` executable, once ``packages`` (``name@version``) are in ``folder``."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        missing(f"node and npm are needed for {why}")
    if not all(_installed(folder, package) for package in packages):
        subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--no-save", "--no-package-lock",
             "--prefix", str(folder), *packages],
            check=True, capture_output=True, timeout=300,
        )  # fmt: skip
    return node


def _installed(folder: Path, package: str) -> bool:
    name, version = package.rsplit("@", 1)
    manifest = folder / "node_modules" / name / "package.json"
    return manifest.exists() and json.loads(manifest.read_text())["version"] == version
