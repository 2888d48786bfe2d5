"""What the adapter packages' ``__init__`` modules share: the framework check, lazy names."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_names", "missing_framework"]


def missing_framework(package: str, framework: str, extra: str) -> ImportError:
    """The ImportError to raise when ``package`` is imported without its framework."""
    return ImportError(
        f"{package} needs {framework}, which is not installed: pip install 'jwt-guard[{extra}]'",
        name=extra,
    )


def lazy_names(package: str, modules: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` importing ``package.<modules[name]>`` on first use of ``name``."""

    def __getattr__(name: str) -> Any:
        module = modules.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f".{module}", package), name)

    return __getattr__
