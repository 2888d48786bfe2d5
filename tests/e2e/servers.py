"""Running an example project under a real server on a free loopback port.

Shared by the Django and Flask end-to-end tests: the server is started with
the README's command, polled until it answers ``/healthz``, and stopped
(terminate, then kill) when the block ends. Its output goes to a log file
that a failure prints.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from jwt_guard_core.testing import LocalIssuer

ROOT = Path(__file__).resolve().parents[2]
AUDIENCE = "orders-api"
STARTUP_BUDGET = 30.0  # seconds a server may take to answer its first request


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def gunicorn(app: str) -> Callable[[int], list[str]]:
    """The command that serves the WSGI ``app`` with two gunicorn workers on ``port``."""

    def command(port: int) -> list[str]:
        bind = f"127.0.0.1:{port}"
        return [sys.executable, "-m", "gunicorn", "--bind", bind, "--workers", "2", app]

    return command


def key_source(issuer: LocalIssuer, keys: str) -> tuple[str, dict[str, str]]:
    """``(issuer, env)`` for an example taking its keys by JWKS URL or by OIDC discovery."""
    if keys == "jwks":
        return issuer.url, {"JWT_GUARD_ISSUER": issuer.url, "JWT_GUARD_JWKS_URL": issuer.jwks_url}
    return issuer.url, {"JWT_GUARD_DISCOVERY_URL": issuer.discovery_url}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@contextmanager
def serving(
    command: Callable[[int], list[str]],
    project: Path,
    env_vars: Mapping[str, str],
    log_path: Path,
) -> Iterator[str]:
    """Run ``command(port)`` in ``project``; yields its base URL once it answers.

    The environment is ours plus ``PYTHONPATH`` (the project and the repo
    root), the shared audience and algorithms, and ``env_vars``.
    """
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(project), str(ROOT)]),
        "JWT_GUARD_AUDIENCE": AUDIENCE,
        "JWT_GUARD_ALGORITHMS": "RS256,ES256",
        **env_vars,
    }
    with log_path.open("wb") as log:
        process = subprocess.Popen(command(port), cwd=project, env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(process, url, log_path)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_serving(process: subprocess.Popen[bytes], url: str, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_BUDGET
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            httpx.get(f"{url}/healthz", timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.02)
    pytest.fail(f"server did not answer within {STARTUP_BUDGET}s:\n{log_path.read_text()}")
