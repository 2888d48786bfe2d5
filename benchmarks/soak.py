"""A soak run, by hand: a Redis Cluster, a Flask app under gunicorn, concurrent clients.

::

    python3 benchmarks/soak.py                      # 60 s, 4 workers, 16 clients
    python3 benchmarks/soak.py --seconds 20 --clients 8
    python3 benchmarks/soak.py --failover           # CLUSTER FAILOVER half-way through

Starts a 3-primary Redis Cluster with a replica each (the test suite's own
code, tests/redis_server.py), makes the app's signing keys, then serves
benchmarks/_soak_app.py with ``gunicorn -w 4``: refresh tokens, revocations
and the failure rate limiter all live in the Cluster. Each client thread
repeats one session's life over real HTTP:

* login (``POST /auth/token``), then verifications (``GET /api/me``);
* a refresh (``POST /auth/refresh``), then either
  - a replay of the refresh token it just spent (reuse detection): the
    replay must be refused, and so must the family's newest token after it;
  - or a logout (``POST /auth/refresh/logout`` with the access token):
    once acknowledged, that access token must be refused by every worker.

With ``--failover``, half-way through, the replica of the primary that
holds the sessions' slot takes over (a controlled ``CLUSTER FAILOVER``, as
in tests/scale/test_redis_cluster.py) while the clients keep going.

It reports requests, p50/p99 latency per kind, 5xx answers, lost
revocations (a token accepted after its revocation was acknowledged:
a logged-out access token, or a refresh token of a family revoked for
reuse) and reuse detections (client-side, and the workers'
``refresh_token_reuse`` events). It is not a test: nothing here asserts a
time; the machine it runs on is shared, so figures move between runs.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from benchmarks import _soak_app  # noqa: E402
from tests.redis_server import start_redis_cluster  # noqa: E402

PASSPHRASE = "soak-passphrase-long-enough-0123456789"


@dataclass
class Tally:
    """What the clients saw, merged across threads under one lock."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    lost_revocations: int = 0
    lost_reuse_revocations: int = 0
    reuse_detected: int = 0
    unexpected: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)

    def add(self, kind: str, seconds: float, status: int) -> None:
        with self.lock:
            self.latencies[kind].append(seconds)
            self.statuses[kind][status] += 1

    def count(self, name: str) -> None:
        with self.lock:
            if name == "lost_revocation":
                self.lost_revocations += 1
            elif name == "lost_reuse_revocation":
                self.lost_reuse_revocations += 1
            elif name == "reuse_detected":
                self.reuse_detected += 1
            else:
                self.unexpected[name] += 1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _call(
    client: httpx.Client, tally: Tally, kind: str, method: str, path: str, **options: Any
) -> httpx.Response | None:
    started = time.perf_counter()
    try:
        response = client.request(method, path, **options)
    except httpx.HTTPError as exc:
        with tally.lock:
            tally.errors[f"{kind}: {type(exc).__name__}"] += 1
        return None
    tally.add(kind, time.perf_counter() - started, response.status_code)
    return response


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def client_loop(base: str, number: int, deadline: float, tally: Tally, seed: int) -> None:
    """One client: session after session until ``deadline`` (monotonic)."""
    rng = random.Random(seed)
    with httpx.Client(base_url=base, timeout=30.0) as client:
        session = 0
        while time.monotonic() < deadline:
            session += 1
            user = f"user-{number}-{session}"
            login = _call(
                client,
                tally,
                "login",
                "POST",
                "/auth/token",
                json={"username": user, "password": _soak_app.PASSWORD},
            )
            if login is None or login.status_code != 200:
                tally.count("login_refused")
                continue
            tokens = login.json()
            access, spent = tokens["access_token"], tokens["refresh_token"]
            for _ in range(rng.randint(2, 6)):
                me = _call(client, tally, "verify", "GET", "/api/me", headers=_bearer(access))
                if me is not None and me.status_code != 200:
                    tally.count("verify_refused")
            refreshed = _call(
                client, tally, "refresh", "POST", "/auth/refresh", json={"refresh_token": spent}
            )
            if refreshed is None or refreshed.status_code != 200:
                tally.count("refresh_refused")
                continue
            tokens = refreshed.json()
            access, newest = tokens["access_token"], tokens["refresh_token"]
            if rng.random() < 0.25:
                # Reuse: the spent token again. Refused, and its whole family
                # with it: the newest token must now be refused too.
                replay = _call(
                    client, tally, "replay", "POST", "/auth/refresh", json={"refresh_token": spent}
                )
                if replay is None or replay.status_code >= 500:
                    continue
                if replay.status_code == 200:
                    tally.count("replay_accepted")
                    continue
                after = _call(
                    client,
                    tally,
                    "refresh_after_reuse",
                    "POST",
                    "/auth/refresh",
                    json={"refresh_token": newest},
                )
                if after is None or after.status_code >= 500:
                    continue
                tally.count(
                    "reuse_detected" if after.status_code != 200 else "lost_reuse_revocation"
                )
                continue
            logout = _call(
                client,
                tally,
                "logout",
                "POST",
                "/auth/refresh/logout",
                json={"refresh_token": newest},
                headers=_bearer(access),
            )
            if logout is None or logout.status_code not in (200, 204):
                tally.count("logout_not_acknowledged")
                continue
            # Acknowledged: no worker may accept this access token again.
            check = _call(
                client, tally, "verify_revoked", "GET", "/api/me", headers=_bearer(access)
            )
            if check is not None and check.status_code == 200:
                tally.count("lost_revocation")


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def report(tally: Tally, seconds: float, events: Counter[str], setup: str) -> str:
    lines = [setup, "", "| kind | requests | p50 ms | p99 ms | 5xx | other statuses |"]
    lines.append("| --- | --- | --- | --- | --- | --- |")
    total = errors_5xx = 0
    for kind in (
        "login",
        "verify",
        "refresh",
        "replay",
        "refresh_after_reuse",
        "logout",
        "verify_revoked",
    ):
        values = tally.latencies.get(kind, [])
        if not values:
            continue
        statuses = tally.statuses[kind]
        fivexx = sum(n for code, n in statuses.items() if code >= 500)
        total += len(values)
        errors_5xx += fivexx
        other = ", ".join(f"{code}: {n}" for code, n in sorted(statuses.items()))
        lines.append(
            f"| {kind} | {len(values)} | {statistics.median(values) * 1000:.1f} | "
            f"{_percentile(values, 0.99) * 1000:.1f} | {fivexx} | {other} |"
        )
    lines += [
        "",
        f"requests: {total} in {seconds:.0f} s ({total / seconds:.0f}/s)",
        f"5xx answers: {errors_5xx}",
        f"transport errors: {sum(tally.errors.values())} {dict(tally.errors) or ''}",
        f"lost revocations: {tally.lost_revocations} (logged-out access token accepted) + "
        f"{tally.lost_reuse_revocations} (refresh token of a family revoked for reuse accepted)",
        f"reuse detections: {tally.reuse_detected} seen by the clients, "
        f"{events.get('refresh_token_reuse', 0)} refresh_token_reuse events in the workers",
        f"breaker openings: {events.get('breaker_opened', 0)}; session store unavailable: "
        f"{events.get('session_store_unavailable', 0)}",
        f"unexpected answers: {dict(tally.unexpected) or 'none'}",
    ]
    return "\n".join(lines)


def _wait_for_http(base: str, process: subprocess.Popen[bytes], seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("gunicorn exited during start-up (see its output above)")
        try:
            httpx.get(base + "/api/me", timeout=2.0)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not answer within a minute")


def _make_keys(env: dict[str, str]) -> None:
    """The signing key, made once before the workers start (they would race to make one)."""
    from flask import Flask

    from jwt_guard_flask.issuing import get_key_manager

    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        app = Flask("soak_keys")
        _soak_app.configure(app)
        get_key_manager(app).active_key()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument(
        "--failover", action="store_true", help="fail the sessions' primary over half-way"
    )
    args = parser.parse_args(argv)
    if shutil.which("redis-server") is None or shutil.which("redis-cli") is None:
        raise SystemExit("needs redis-server and redis-cli on PATH (apt-get install redis-server)")
    with tempfile.TemporaryDirectory(prefix="jwt-guard-soak-") as tmp:
        directory = Path(tmp)
        print("starting a Redis Cluster (3 primaries, 1 replica each)...", flush=True)
        cluster = start_redis_cluster(directory / "cluster")
        process: subprocess.Popen[bytes] | None = None
        try:
            key_dir = directory / "keys"
            key_dir.mkdir(mode=0o700)
            events_file = directory / "events.log"
            events_file.touch()
            env = {
                "SOAK_REDIS_URL": cluster.url,
                "SOAK_KEY_DIR": str(key_dir),
                "SOAK_EVENTS": str(events_file),
                "JWT_GUARD_KEY_PASSPHRASE": PASSPHRASE,
            }
            _make_keys(env)
            port = _free_port()
            base = f"http://127.0.0.1:{port}"
            process = subprocess.Popen(
                [
                    sys.executable, "-m", "gunicorn",
                    "--workers", str(args.workers),
                    "--bind", f"127.0.0.1:{port}",
                    "--log-level", "warning",
                    "benchmarks._soak_app:create_app()",
                ],
                cwd=ROOT,
                env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
            )  # fmt: skip
            _wait_for_http(base, process)
            print(
                f"gunicorn with {args.workers} workers on {base}; "
                f"{args.clients} clients for {args.seconds:.0f} s...",
                flush=True,
            )
            tally = Tally()
            started = time.monotonic()
            deadline = started + args.seconds
            threads = [
                threading.Thread(
                    target=client_loop, args=(base, n, deadline, tally, n), daemon=True
                )
                for n in range(args.clients)
            ]
            for thread in threads:
                thread.start()
            failover = ""
            if args.failover:
                time.sleep(args.seconds / 2)
                # Every session key shares the slot of the {soak} hash tag.
                before = time.monotonic()
                new = cluster.fail_over("{soak}:x")
                failover = (
                    f"; CLUSTER FAILOVER at {before - started:.0f} s to port {new.port}, "
                    f"{time.monotonic() - before:.1f} s until every node agreed"
                )
            for thread in threads:
                thread.join()
            elapsed = time.monotonic() - started
            counted = Counter(events_file.read_text(encoding="utf-8").split())
            setup = (
                f"Redis Cluster 3x(1+1), gunicorn {args.workers} sync workers, "
                f"{args.clients} client threads, {os.cpu_count()} CPUs (shared), "
                f"Python {sys.version.split()[0]}{failover}"
            )
            print(report(tally, elapsed, counted, setup))
        finally:
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
            cluster.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
