"""Cold remote start: a fresh process's first verification against a JWKS on loopback.

Each sample is a new Python process that imports jwt-guard, builds a
``RemoteJWKS`` for a plain-http loopback URL and a ``Verifier``, then times
its first ``verify`` (fetch, key parsing, signature, claims) and its second
(the cached token). The JWKS server runs in another process, started once.
Imports are timed apart: they are paid when the application starts, not by
the first request.

Run from the repository root::

    python3 benchmarks/cold_start.py            # 15 processes
    python3 benchmarks/cold_start.py --runs 31
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import KEYS, ROOT, header, token_for

_SERVER = r"""
import json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
body = sys.stdin.read().encode()

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "max-age=600")
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass

server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
"""

_CHILD = r"""
import json, sys, time
started = time.perf_counter()
from jwt_guard_core import GuardConfig, Verifier
from jwt_guard_core.remote import RemoteJWKS
imported = time.perf_counter()
url, token, issuer, audience = sys.argv[1:5]
verifier = Verifier(GuardConfig(
    algorithms=["RS256"], keys=RemoteJWKS(url), issuer=issuer, audience=audience))
built = time.perf_counter()
verifier.verify(token)
first = time.perf_counter()
verifier.verify(token)
second = time.perf_counter()
print(json.dumps({
    "import_ms": (imported - started) * 1e3,
    "build_ms": (built - imported) * 1e3,
    "first_ms": (first - built) * 1e3,
    "second_us": (second - first) * 1e6,
}))
"""


def measure(runs: int, root: Path = ROOT) -> dict[str, float]:
    """Medians over ``runs`` fresh processes importing jwt-guard from ``root``."""
    key = KEYS.get("RS256-2048")
    jwks = json.dumps({"keys": [key.public_jwk]})
    server = subprocess.Popen(
        [sys.executable, "-c", _SERVER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdin is not None
        assert server.stdout is not None
        server.stdin.write(jwks)
        server.stdin.close()
        port = int(server.stdout.readline())
        url = f"http://127.0.0.1:{port}/jwks.json"
        token = token_for(key)
        # Bytecode caches as a deployed application has them.
        env = {**os.environ, "PYTHONPATH": str(root), "PYTHONDONTWRITEBYTECODE": ""}
        samples: dict[str, list[float]] = {}
        for _ in range(runs):
            out = subprocess.run(
                [sys.executable, "-c", _CHILD, url, token, key.issuer, key.audience],
                env=env,
                # Run from root: "python -c" puts the working directory first on sys.path.
                cwd=root,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            for name, value in json.loads(out).items():
                samples.setdefault(name, []).append(value)
        return {name: statistics.median(values) for name, values in samples.items()}
    finally:
        server.terminate()
        server.wait()


def report(runs: int) -> None:
    result = measure(runs)
    print(header(f"Cold remote start (RS256-2048 JWKS over http on loopback, {runs} processes)"))
    print(f"{'step':<44}{'median':>12}")
    print(f"{'import jwt_guard_core + remote (start-up)':<44}{result['import_ms']:>9.1f} ms")
    print(f"{'build RemoteJWKS + Verifier':<44}{result['build_ms']:>9.2f} ms")
    print(f"{'first verify (fetch + verify)':<44}{result['first_ms']:>9.2f} ms")
    print(f"{'second verify (cached token)':<44}{result['second_us']:>9.1f} us")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    report(parser.parse_args().runs)


if __name__ == "__main__":
    main()
