"""panva's oidc-provider on loopback (``dpop_provider.mjs``), for the interop tests.

Shared by the DPoP test and the RFC 9728 test: both install their node
packages into ``tests/interop/node_modules``, so they name the same list.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.e2e.servers import free_port

INTEROP = Path(__file__).resolve().parent
#: What tests/interop/node_modules holds (one list: an install prunes the rest).
PACKAGES = ("oidc-provider@9.13.3", "oauth4webapi@3.8.8")
#: The resource indicator oidc-provider issues its access tokens for.
API = "https://api.example"


@contextmanager
def running_provider(node: str, log: Path) -> Iterator[str]:
    """The issuer URL of a running oidc-provider; stopped when the block ends."""
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [node, str(INTEROP / "dpop_provider.mjs"), str(port), API],
            cwd=INTEROP,
            stdout=subprocess.PIPE,
            stderr=out,
        )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.strip() == b"ready", log.read_text()
        issuer = f"http://127.0.0.1:{port}"
        httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=10).raise_for_status()
        yield issuer
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
