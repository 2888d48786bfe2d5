"""The session side's steps: :mod:`jwt_guard_core.steps`, where sync and async share decisions.

Kept under this name for the session modules and for code that imported it
from here.
"""

from __future__ import annotations

from ..steps import Io, Steps, adrive, drive, offloaded, store_io

__all__ = ["Io", "Steps", "adrive", "drive", "offloaded", "store_io"]
