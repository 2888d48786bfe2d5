"""The async revocation check's emergency-epoch read, by where the epoch comes from.

Run by hand from the repository root (``PYTHONPATH=$PWD python3
benchmarks/epoch_async.py``); never part of the test suite. Times
``await RevocationService.acheck(claims)`` over a memory revocation store,
with no epoch source, a ``KeyManager`` over an in-process key store (the
test kit's ``MemoryKeyStore``), one over a ``FileKeyStore`` (asked for its
revision on every check, in a worker thread), and that one behind
``at_most_every`` (what the adapters build with the revocation mirror on).
Interleaved rounds, medians, microseconds per check.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import header
from jwt_guard_core.sessions import MemorySessionStore, RevocationService
from jwt_guard_core.settings.sides import at_most_every
from jwt_guard_core.signing import FileKeyStore, KeyManager
from jwt_guard_core.testing._store import MemoryKeyStore

CLAIMS = {"sub": "user-1", "jti": "jti-1", "iat": int(time.time()), "sid": "sid-1"}


async def _measure(rounds: int, number: int, directory: str) -> dict[str, float]:
    on_file = KeyManager(FileKeyStore(directory, passphrase="benchmark passphrase 0123456789"))
    on_file.active_key()
    in_memory = KeyManager(MemoryKeyStore())
    in_memory.active_key()
    services = {
        "no epoch source": RevocationService(MemorySessionStore()),
        "KeyManager, memory store": RevocationService(
            MemorySessionStore(), emergency_epoch_source=in_memory
        ),
        "KeyManager, file store": RevocationService(
            MemorySessionStore(), emergency_epoch_source=on_file
        ),
        "file store, at_most_every(1 s)": RevocationService(
            MemorySessionStore(),
            emergency_epoch_source=at_most_every(
                lambda: on_file.emergency_epoch, 1.0, time.monotonic
            ),
        ),
    }
    samples: dict[str, list[float]] = {name: [] for name in services}
    for service in services.values():
        assert await service.acheck(CLAIMS) is None
    for _ in range(rounds):
        for name, service in services.items():
            started = time.perf_counter()
            for _ in range(number):
                await service.acheck(CLAIMS)
            samples[name].append((time.perf_counter() - started) / number * 1e6)
    return {name: statistics.median(values) for name, values in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--number", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        times = asyncio.run(_measure(args.rounds, args.number, directory))
    print(header(f"Async revocation check by epoch source ({args.rounds} rounds)"))
    for name, value in times.items():
        print(f"{name:<34}{value:>8.1f} us")


if __name__ == "__main__":
    main()
