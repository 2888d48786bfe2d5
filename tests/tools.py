"""What a test does when a real peer it needs (node, SoftHSM2, a package) is absent.

scripts/test installs every one of them, so under CI (``CI=true``) a missing
peer is a failure, never a quiet skip; on a developer's machine the test is
skipped with the reason and the command that installs it.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import NoReturn

import pytest


def missing(reason: str) -> NoReturn:
    """Fail under CI, skip elsewhere."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (scripts/test installs it)", pytrace=False)
    pytest.skip(reason)


def require_module(name: str, reason: str) -> ModuleType:
    """``importorskip`` that fails under CI."""
    try:
        return importlib.import_module(name)
    except ImportError:
        missing(reason)
