"""Interop: panva's oauth4webapi (a widely used DPoP client) against our checks and challenges.

A real Node client signs proofs with its own WebCrypto keys, calls a real
HTTP server on 127.0.0.1 that verifies the token and runs
:class:`~jwt_guard_core.dpop.DPoPPolicy`, gets a ``use_dpop_nonce``
challenge on its first call, parses our ``WWW-Authenticate`` value, retries
with the nonce and is accepted. The package is installed by this test into
``tests/interop/node_modules`` (pinned version, npm registry); without
``node`` and ``npm`` the test is skipped, a failed install fails it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from jwt_guard_core import TokenError, Verifier
from jwt_guard_core.challenges import ChallengeOptions, challenge_response
from jwt_guard_core.dpop import DPoPPolicy, DPoPRequest, NonceProvider, extract_dpop_token
from tests.core.dpop_support import issue_token
from tests.tools import missing

OAUTH4WEBAPI = "oauth4webapi@3.8.8"
INTEROP = Path(__file__).resolve().parent.parent / "interop"


@pytest.fixture(scope="module")
def node_client() -> Path:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        missing("node and npm are needed for the oauth4webapi interop test")
    if not (INTEROP / "node_modules" / "oauth4webapi" / "package.json").exists():
        subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--no-save", "--no-package-lock",
             "--prefix", str(INTEROP), OAUTH4WEBAPI],
            check=True, capture_output=True, timeout=300,
        )  # fmt: skip
    return INTEROP / "dpop_client.mjs"


class Resource:
    """A protected resource: verifier, DPoP policy with nonces, and what it decided."""

    def __init__(self, verifier: Verifier) -> None:
        self.verifier = verifier
        self.policy = DPoPPolicy(mode="required", nonces=NonceProvider(lifetime=60))
        self.options = ChallengeOptions.for_policy(self.policy)
        self.reasons: list[str] = []

    def handle(self, handler: BaseHTTPRequestHandler) -> tuple[int, dict[str, str]]:
        try:
            raw = extract_dpop_token(handler.headers.get("Authorization"))
            if raw is None:
                raise TokenError("no DPoP token", reason="no_dpop_token")
            token = self.verifier.verify(raw)
            request = DPoPRequest(
                method=handler.command,
                scheme="http",
                host=handler.headers.get("Host", ""),
                path=urlsplit(handler.path).path,
                authorization_scheme="DPoP",
                proofs=tuple(handler.headers.get_all("DPoP") or ()),
            )
            result = self.policy.check(request, token, raw)
        except TokenError as error:
            self.reasons.append(error.reason)
            response = challenge_response(error, self.options, presented="DPoP")
            return response.status, dict(response.headers)
        self.reasons.append("accepted")
        return 200, {"DPoP-Nonce": result.nonce or ""}


@pytest.fixture
def resource(make_verifier) -> Iterator[tuple[Resource, str]]:
    served = Resource(make_verifier(clock=time.time))

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            status, headers = served.handle(self)
            body = b'{"ok": true}' if status == 200 else b'{"error": "refused"}'
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_DELETE = _answer

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield served, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.mark.parametrize("alg", ["ES256", "ES384", "EdDSA", "PS256", "RS256"])
def test_oauth4webapi_proofs_are_accepted_after_the_nonce_challenge(
    node_client, resource, keyring, make_verifier, alg
):
    served, base = resource
    process = subprocess.Popen(
        ["node", str(node_client), alg, base],
        cwd=INTEROP,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None
    assert process.stdout is not None
    jkt = json.loads(process.stdout.readline())["jkt"]
    now = int(time.time())
    raw, _ = issue_token(
        keyring,
        make_verifier(clock=time.time),
        cnf={"jkt": jkt},
        iat=now,
        nbf=now,
        exp=now + 600,
    )
    out, err = process.communicate(raw + "\n", timeout=60)
    assert process.returncode == 0, err
    calls = [json.loads(line) for line in out.splitlines()]
    assert [(c["method"], c.get("status"), c.get("retried")) for c in calls] == [
        ("GET", 200, True),
        ("POST", 200, False),
        ("DELETE", 200, False),
    ], calls
    assert all(c["nonce"] for c in calls)
    assert served.reasons == ["dpop_nonce_missing", "accepted", "accepted", "accepted"]
