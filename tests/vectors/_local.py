"""Vectors copied into the project (``tests/vectors/data``, see ``data/PROVENANCE.md``)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data"


@cache
def load_data(*parts: str) -> Any:
    """Parse one copied vector file, once per test session; a missing file is an error."""
    return json.loads(DATA.joinpath(*parts).read_text(encoding="utf-8"))
