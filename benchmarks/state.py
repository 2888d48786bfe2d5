"""Per-request cost of the shared state: revocation backends and the failure rate limiter.

Revocation: ``RevocationService.is_token_revoked`` (every rule, one store
read) on a token that is not revoked, and a repeated-token ``verify``
with that check, for the memory and SQLite stores, Redis (one ``MGET``
round trip) and ``RedisRevocationMirror`` (the same state answered from
memory). Rate limiter, for the memory, SQLite and Redis stores:
``FailureRateLimiter.run`` around nothing (reserve an attempt, then forget
it: two store operations), around a repeated-token verification (what
``FailureRateLimiter.verify`` did for every token before recalled tokens
skipped the reservation, and still does for a first-seen one), and
``FailureRateLimiter.verify`` on a token the verifier recalls (one read).

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
        client = "203.0.113.7"
        limited = guard(key)
        limited.verify(token)
        runs: dict[str, Callable[[], Any]] = {"no limiter": lambda: limited.verify(token)}
        for name, limiter in limiters.items():
            runs[f"{name} reserve"] = lambda lim=limiter: lim.run(client, lambda: None)
            # What FailureRateLimiter.verify did for every token before the
            # recalled-token path: reserve, verify, forget.
            runs[f"{name} before"] = lambda lim=limiter: lim.run(
                client, lambda: limited.verify(token)
            )
            runs[f"{name} now"] = lambda lim=limiter: lim.verify(limited, token, client=client)
        limiter_times = interleaved(runs, rounds=rounds, number=200)
        print(header(f"Failure rate limiter per successful request ({rounds} rounds)"))
        print(
            f"{'backend':<10}{'reserve + forget':>18}{'verify, reserved':>18}"
            f"{'verify, recalled':>18}"
        )
        print(f"{'none':<10}{'':>18}{'':>18}{limiter_times['no limiter']:>18.2f}")
        for name in limiters:
            print(
                f"{name:<10}{limiter_times[f'{name} reserve']:>18.2f}"
                f"{limiter_times[f'{name} before']:>18.2f}{limiter_times[f'{name} now']:>18.2f}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    report(parser.parse_args().rounds)


if __name__ == "__main__":
    main()
