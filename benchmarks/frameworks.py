"""Framework request cost: jwt-guard against simplejwt (DRF) and flask-jwt-extended (Flask).

Run by hand from the repository root, never as a test::

    pip install -e '.[all,bench]'        # djangorestframework-simplejwt, flask-jwt-extended
    apt-get install wrk                  # the load generator of the gunicorn part
    python3 benchmarks/frameworks.py                      # both parts
    python3 benchmarks/frameworks.py --part client --rounds 31
    python3 benchmarks/frameworks.py --part gunicorn --duration 5

One endpoint answering a small JSON body, served three ways per framework:

* Django REST framework: an ``APIView`` with ``JWTGuardAuthentication``
  (jwt-guard), with simplejwt's ``JWTStatelessUserAuthentication`` (the
  token's user without a database query, as jwt-guard's ``TokenUser``), and
  with no authentication; ``IsAuthenticated`` on the two protected ones.
* Flask: a view behind ``jwt_guard_flask.jwt_required``, behind
  ``flask_jwt_extended.jwt_required()``, and unprotected.

Every protected view gets the same repeated token (HS256, then RS256-2048)
with the claims all three accept (``iss``, ``aud``, ``exp``, ``nbf``,
``iat``, ``jti``, ``sub`` and each peer's own token-type claim) and
checks issuer, audience and expiry; before timing, each must answer 200 to
it and refuse a tampered copy (401; flask-jwt-extended's default is 422).

(a) **Test client**: the framework's own test client, in one process per
framework and algorithm (Django is configured once per process),
interleaved rounds, medians in microseconds per request, and each
protected view's cost over the unprotected one.

(b) **gunicorn**: 2 sync workers on 127.0.0.1 serving the same three
endpoints; the load generator is ``wrk`` (1 thread, 4 connections; sync
workers close each connection, so every request is a new one); the three
endpoints are loaded in turn in each round, and the median requests per
second of the rounds is reported with its ratio to the unprotected one.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import jwt as pyjwt  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402

from benchmarks._common import header, interleaved, version  # noqa: E402

ISSUER = "https://issuer.example"
AUDIENCE = "https://api.example"
ALGORITHMS = ("HS256", "RS256")
FRAMEWORKS = ("django", "flask")
PATHS = {"unprotected": "/plain", "jwt-guard": "/guard", "peer": "/peer"}
PEERS = {"django": "simplejwt", "flask": "flask-jwt-extended"}
# Where a server process finds its key material and algorithm.
_DIR = "BENCH_FRAMEWORKS_DIR"
_FRAMEWORK = "BENCH_FRAMEWORK"
# Imported by that name by gunicorn and by Django's URL resolver.
_MODULE = "benchmarks.frameworks"


# -- key material, shared with the server processes through a directory


def write_material(directory: Path, alg: str) -> str:
    """Make a key for ``alg``, write what the servers need, return the token."""
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "user-1234",
        "iat": now,
        "nbf": now,
        "exp": now + 3 * 3600,
        "jti": "bench-jti-1",
        # simplejwt and flask-jwt-extended each refuse a token without their type claim.
        "token_type": "access",
        "type": "access",
        "fresh": False,
    }
    if alg == "HS256":
        secret = os.urandom(32)
        (directory / "secret").write_text(secret.hex())
        signing: Any = secret
    else:
        private = rsa.generate_private_key(65537, 2048)
        public = private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        (directory / "public.pem").write_bytes(public)
        signing = private
    # The HMAC secret is configured without a key id, the RSA key as "bench-1".
    headers = {"typ": "JWT"} if alg == "HS256" else {"kid": "bench-1", "typ": "JWT"}
    token = pyjwt.encode(claims, signing, algorithm=alg, headers=headers)
    (directory / "token").write_text(token)
    (directory / "alg").write_text(alg)
    return token


def _material() -> tuple[str, str, Any]:
    """``(alg, token, key)`` from the directory in the environment (``key``: secret or PEM)."""
    directory = Path(os.environ[_DIR])
    alg = (directory / "alg").read_text()
    token = (directory / "token").read_text()
    if alg == "HS256":
        return alg, token, bytes.fromhex((directory / "secret").read_text())
    return alg, token, (directory / "public.pem").read_text()


def tampered(token: str) -> str:
    head, body, signature = token.split(".")
    middle = len(signature) // 2
    flipped = "A" if signature[middle] != "A" else "B"
    return f"{head}.{body}.{signature[:middle]}{flipped}{signature[middle + 1 :]}"


# -- the applications


def django_app() -> Any:
    """The DRF project: /plain, /guard (jwt-guard), /peer (simplejwt)."""
    import django
    from django.conf import settings

    alg, _, key = _material()
    guard = {"ALGORITHMS": [alg], "ISSUER": ISSUER, "AUDIENCE": AUDIENCE}
    if alg == "HS256":
        guard["SIGNING_KEY"] = key
    else:
        guard["VERIFYING_KEY"] = {"bench-1": key}
    settings.configure(
        DEBUG=False,
        SECRET_KEY="benchmark only " + "x" * 40,
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF=_MODULE,
        INSTALLED_APPS=[
            "django.contrib.contenttypes",
            "django.contrib.auth",
            "rest_framework",
            "jwt_guard_django",
        ],
        MIDDLEWARE=[],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        USE_TZ=True,
        REST_FRAMEWORK={
            "DEFAULT_AUTHENTICATION_CLASSES": [],
            "DEFAULT_PERMISSION_CLASSES": [],
            "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
            "UNAUTHENTICATED_USER": None,
        },
        JWT_GUARD=guard,
        SIMPLE_JWT={
            "ALGORITHM": alg,
            "SIGNING_KEY": key if alg == "HS256" else "",
            "VERIFYING_KEY": None if alg == "HS256" else key,
            "AUDIENCE": AUDIENCE,
            "ISSUER": ISSUER,
            "LEEWAY": 10,
            "USER_ID_CLAIM": "sub",
            "AUTH_HEADER_TYPES": ("Bearer",),
        },
    )
    django.setup()
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application()


def _django_urls() -> list[Any]:
    from django.urls import path
    from rest_framework.permissions import IsAuthenticated
    from rest_framework.response import Response
    from rest_framework.views import APIView
    from rest_framework_simplejwt.authentication import JWTStatelessUserAuthentication

    from jwt_guard_django.authentication import JWTGuardAuthentication

    def view(name: str, authentication: list[Any]) -> Any:
        class Endpoint(APIView):
            authentication_classes = authentication
            permission_classes = [IsAuthenticated] if authentication else []

            def get(self, request: Any) -> Response:
                return Response({"ok": True})

        Endpoint.__name__ = name
        return Endpoint.as_view()

    return [
        path("plain", view("Plain", [])),
        path("guard", view("Guarded", [JWTGuardAuthentication])),
        path("peer", view("SimpleJWT", [JWTStatelessUserAuthentication])),
    ]


def __getattr__(name: str) -> Any:
    # Django reads ROOT_URLCONF's urlpatterns only once it is configured.
    if name == "urlpatterns":
        return _django_urls()
    raise AttributeError(name)


def flask_app() -> Any:
    """The Flask app: /plain, /guard (jwt-guard), /peer (flask-jwt-extended)."""
    from flask import Flask, jsonify
    from flask_jwt_extended import JWTManager
    from flask_jwt_extended import jwt_required as peer_required

    from jwt_guard_flask import JWTGuard, jwt_required

    alg, _, key = _material()
    app = Flask("bench")
    app.config.update(
        JWT_GUARD_ALGORITHMS=[alg],
        JWT_GUARD_ISSUER=ISSUER,
        JWT_GUARD_AUDIENCE=AUDIENCE,
        JWT_ALGORITHM=alg,
        JWT_DECODE_ALGORITHMS=[alg],
        JWT_DECODE_AUDIENCE=AUDIENCE,
        JWT_DECODE_ISSUER=ISSUER,
        JWT_DECODE_LEEWAY=10,
        JWT_TOKEN_LOCATION=["headers"],
    )
    if alg == "HS256":
        app.config.update(JWT_GUARD_SECRET=key, JWT_SECRET_KEY=key)
    else:
        app.config.update(JWT_GUARD_PUBLIC_KEY={"bench-1": key}, JWT_PUBLIC_KEY=key)
    JWTGuard(app)
    JWTManager(app)

    @app.get("/plain")
    def plain() -> Any:
        return jsonify(ok=True)

    @app.get("/guard")
    @jwt_required
    def guarded() -> Any:
        return jsonify(ok=True)

    @app.get("/peer")
    @peer_required()
    def peer() -> Any:
        return jsonify(ok=True)

    return app


def wsgi() -> Any:
    """The app ``BENCH_FRAMEWORK`` names: ``gunicorn 'benchmarks.frameworks:wsgi()'``."""
    return django_app() if os.environ[_FRAMEWORK] == "django" else flask_app()


# -- (a) the test client, in a process of its own


def client_case(framework: str, rounds: int, number: int) -> dict[str, float]:
    """Medians (us per request) of the three endpoints with the framework's test client."""
    _, token, _ = _material()
    auth = f"Bearer {token}"
    bad = f"Bearer {tampered(token)}"
    if framework == "django":
        django_app()
        from django.test import Client

        client = Client()

        def get(path: str, value: str) -> int:
            return int(client.get(path, HTTP_AUTHORIZATION=value).status_code)
    else:
        test_client = flask_app().test_client()

        def get(path: str, value: str) -> int:
            return int(test_client.get(path, headers={"Authorization": value}).status_code)

    for name, path in PATHS.items():
        assert get(path, auth) == 200, f"{framework} {name} refused the token"
        if name != "unprotected":
            # flask-jwt-extended answers 422 to a bad signature by default.
            assert get(path, bad) in (401, 422), f"{framework} {name} accepted a tampered token"
    calls: dict[str, Callable[[], Any]] = {
        name: (lambda p=path: get(p, auth)) for name, path in PATHS.items()
    }
    return interleaved(calls, rounds=rounds, number=number)


def client_report(rounds: int, number: int) -> None:
    print(header(f"Test client, repeated token ({rounds} rounds x {number} requests)"))
    print(
        f"{'framework':<10}{'alg':<7}{'unprotected us':>15}{'jwt-guard us':>14}"
        f"{'peer us':>10}{'guard +us':>11}{'peer +us':>10}  peer"
    )
    for framework in FRAMEWORKS:
        for alg in ALGORITHMS:
            with tempfile.TemporaryDirectory() as directory:
                write_material(Path(directory), alg)
                case = [
                    "--client-case",
                    framework,
                    "--rounds",
                    str(rounds),
                    "--number",
                    str(number),
                ]
                output = subprocess.run(
                    [sys.executable, __file__, *case],
                    env={**os.environ, _DIR: directory, "PYTHONPATH": str(ROOT)},
                    cwd=ROOT,
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout
            medians = json.loads(output.strip().splitlines()[-1])
            plain, guard, peer = (medians[n] for n in PATHS)
            print(
                f"{framework:<10}{alg:<7}{plain:>15.1f}{guard:>14.1f}{peer:>10.1f}"
                f"{guard - plain:>11.1f}{peer - plain:>10.1f}  {PEERS[framework]}"
            )


# -- (b) gunicorn under wrk


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(url: str, process: subprocess.Popen[bytes]) -> None:
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited at start-up")
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")


_RATE = re.compile(r"Requests/sec:\s+([0-9.]+)")
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")


def _wrk(url: str, token: str, duration: float) -> float:
    output = subprocess.run(
        ["wrk", "-t1", "-c4", f"-d{duration:g}s", "-H", f"Authorization: Bearer {token}", url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    refused = _NON_2XX.search(output)
    if refused:
        raise RuntimeError(f"{url}: {refused.group(1)} responses were not 200")
    found = _RATE.search(output)
    if found is None:
        raise RuntimeError(f"wrk printed no rate:\n{output}")
    return float(found.group(1))


def gunicorn_case(framework: str, alg: str, rounds: int, duration: float) -> dict[str, float]:
    """Median requests/s of each endpoint under gunicorn (2 sync workers) and wrk."""
    with tempfile.TemporaryDirectory() as directory:
        token = write_material(Path(directory), alg)
        port = _free_port()
        env = {**os.environ, _DIR: directory, _FRAMEWORK: framework, "PYTHONPATH": str(ROOT)}
        command = [sys.executable, "-m", "gunicorn", "-w", "2", "-k", "sync"]
        command += ["-b", f"127.0.0.1:{port}", "--log-level", "warning", f"{_MODULE}:wsgi()"]
        server = subprocess.Popen(command, cwd=ROOT, env=env)
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_for(base + PATHS["unprotected"], server)
            for name, path in PATHS.items():  # warm both workers, check the answers
                _wrk(base + path, token, 1)
                if name != "unprotected":
                    _refuses(base + path, tampered(token))
            samples: dict[str, list[float]] = {name: [] for name in PATHS}
            for _ in range(rounds):
                for name, path in PATHS.items():
                    samples[name].append(_wrk(base + path, token, duration))
        finally:
            server.terminate()
            server.wait(30)
    return {name: statistics.median(values) for name, values in samples.items()}


def _refuses(url: str, token: str) -> None:
    import httpx

    status = httpx.get(url, headers={"Authorization": f"Bearer {token}"}).status_code
    if status not in (401, 422):
        raise RuntimeError(f"{url} answered {status} to a tampered token")


def gunicorn_report(rounds: int, duration: float) -> None:
    if shutil.which("wrk") is None:
        print("\n(gunicorn part skipped: wrk is not installed; apt-get install wrk)")
        return
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout
    print(header(f"gunicorn, 2 sync workers, wrk ({rounds} rounds x {duration:g} s per endpoint)"))
    print(wrk_version.splitlines()[0] if wrk_version else "wrk")
    print(
        f"{'framework':<10}{'alg':<7}{'unprotected r/s':>16}{'jwt-guard r/s':>15}"
        f"{'ratio':>7}{'peer r/s':>10}{'ratio':>7}  peer"
    )
    for framework in FRAMEWORKS:
        for alg in ALGORITHMS:
            rates = gunicorn_case(framework, alg, rounds, duration)
            plain, guard, peer = (rates[n] for n in PATHS)
            print(
                f"{framework:<10}{alg:<7}{plain:>16.0f}{guard:>15.0f}{guard / plain:>7.2f}"
                f"{peer:>10.0f}{peer / plain:>7.2f}  {PEERS[framework]}"
            )


def versions() -> str:
    names = (
        "Django",
        "djangorestframework",
        "djangorestframework-simplejwt",
        "Flask",
        "Werkzeug",
        "flask-jwt-extended",
        "PyJWT",
        "cryptography",
        "gunicorn",
    )
    return "jwt-guard (this tree), " + ", ".join(f"{n} {version(n)}" for n in names)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("all", "client", "gunicorn"), default="all")
    parser.add_argument("--rounds", type=int, default=15, help="test-client rounds")
    parser.add_argument("--number", type=int, default=200, help="requests per test-client round")
    parser.add_argument("--load-rounds", type=int, default=5, help="gunicorn rounds")
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per wrk run")
    parser.add_argument("--client-case", choices=FRAMEWORKS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    if args.client_case:
        print(json.dumps(client_case(args.client_case, args.rounds, args.number)))
        return
    print(versions())
    if args.part in ("all", "client"):
        client_report(args.rounds, args.number)
    if args.part in ("all", "gunicorn"):
        gunicorn_report(args.load_rounds, args.duration)


if __name__ == "__main__":
    main()
