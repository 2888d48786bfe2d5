"""Running the django-oauth-toolkit server of ``dot_server/`` (see its README).

Shared by the introspection and the ID-token interop tests: a fresh SQLite
database in ``workdir`` made by ``make_data.py``, then gunicorn with two
workers on a free loopback port, stopped when the block ends.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from tests.e2e.servers import ROOT, serving

PROJECT = Path(__file__).parent / "dot_server"


def gunicorn(port: int) -> list[str]:
    bind = f"127.0.0.1:{port}"
    return [sys.executable, "-m", "gunicorn", "--bind", bind, "--workers", "2", "dot_project.wsgi"]


@contextmanager
def running_dot(workdir: Path, env_vars: Mapping[str, str] | None = None) -> Iterator[str]:
    """The base URL of a running DOT server with fresh data (``env_vars`` added)."""
    env = {
        "DOT_DB": str(workdir / "dot.sqlite3"),
        "DJANGO_SETTINGS_MODULE": "dot_project.settings",
        **(env_vars or {}),
    }
    subprocess.run(
        [sys.executable, "make_data.py"],
        cwd=PROJECT,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(PROJECT), str(ROOT)]), **env},
        check=True,
        timeout=120,
    )
    with serving(gunicorn, PROJECT, env, workdir / "gunicorn.log") as url:
        yield url
