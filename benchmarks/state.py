"""Per-request cost of the shared state: revocation backends and the failure rate limiter.

Revocation: ``RevocationService.is_token_revoked`` (every rule, one store
read) on a token that is not revoked, and a repeated-token ``verify``
with that check, for the memory and SQLite stores, Redis (one ``MGET``
round trip) and ``RedisRevocationMirror`` (the same state answered from
memory). Rate limiter: ``FailureRateLimiter.run`` around a successful
verification (reserve an attempt, then forget it: two store operations)
for the memory, SQLite and Redis stores.

A ``redis-server`` is started on a free loopback port for the run (the
test suite's helper), so Redis figures include a real loopback round trip.

Run from the repository root::

    python3 benchmarks/state.py
    python3 benchmarks/state.py --rounds 31
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import KEYS, header, interleaved, token_for
from benchmarks.verify import guard
from jwt_guard_core.sessions import (
    FailureRateLimiter,
    MemorySessionStore,
    RedisRevocationMirror,
    RedisSessionStore,
    RevocationService,
    SQLiteSessionStore,
)
from tests.redis_server import start_redis_server


@contextmanager
def stores() -> Iterator[dict[str, Callable[[], Any]]]:
    """A fresh store of each backend, by name; Redis on its own server."""
    with tempfile.TemporaryDirectory() as directory:
        server = start_redis_server(Path(directory))
        sqlite = SQLiteSessionStore(Path(directory) / "sessions.db")
        client = server.client(socket_timeout=5)
        mirrors: list[RedisRevocationMirror] = []

        def mirror() -> RedisRevocationMirror:
            made = RedisRevocationMirror(RedisSessionStore(client, prefix="bench"))
            mirrors.append(made)
            return made

        try:
            yield {
                "memory": MemorySessionStore,
                "SQLite": lambda: sqlite,
                "Redis": lambda: RedisSessionStore(client, prefix="bench"),
                "Redis mirror": mirror,
            }
        finally:
            for made in mirrors:
                made.close()
            sqlite.close()
            client.close()
            server.stop()


def report(rounds: int) -> None:
    key = KEYS.get("ES256")
    token = token_for(key)
    with stores() as made:
        checks: dict[str, Callable[[], Any]] = {}
        verifies: dict[str, Callable[[], Any]] = {}
        plain = guard(key)
        plain.verify(token)
        verifies["no revocation"] = lambda: plain.verify(token)
        for name, store in made.items():
            revocation = RevocationService(store())
            verifier = guard(key, revocation=revocation)
            result = verifier.verify(token)
            checks[name] = lambda r=revocation, t=result: r.is_token_revoked(t)
            verifies[name] = lambda v=verifier: v.verify(token)
        check_times = interleaved(checks, rounds=rounds, number=200)
        verify_times = interleaved(verifies, rounds=rounds, number=200)
        print(header(f"Revocation per request ({rounds} rounds, ES256 token seen before)"))
        print(f"{'backend':<16}{'check us':>10}{'verify us':>11}")
        print(f"{'none':<16}{'':>10}{verify_times['no revocation']:>11.2f}")
        for name in made:
            print(f"{name:<16}{check_times[name]:>10.2f}{verify_times[name]:>11.2f}")

        limiters = {
            name: FailureRateLimiter(store())
            for name, store in made.items()
            if name != "Redis mirror"
        }
        runs = {
            name: lambda lim=limiter: lim.run("203.0.113.7", lambda: None)
            for name, limiter in limiters.items()
        }
        limiter_times = interleaved(runs, rounds=rounds, number=200)
        print(header(f"Failure rate limiter per successful request ({rounds} rounds)"))
        print(f"{'backend':<16}{'reserve + forget us':>20}")
        for name, micros in limiter_times.items():
            print(f"{name:<16}{micros:>20.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    report(parser.parse_args().rounds)


if __name__ == "__main__":
    main()
