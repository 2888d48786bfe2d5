"""What signing on a token costs: issue time per token, SoftHSM2 against the file store.

Run by hand (never a timed test): ``python -m tests.signing.bench_hsm_signing [N]``.
Initialises a SoftHSM2 token in a temporary folder, then for ES256 and
RS256 (3072-bit) issues N access tokens through ``TokenIssuer`` with each
store and prints the median and 95th percentile in microseconds, and for
the token the medians of its two parts: the ring revision check and the
signature.
"""

from __future__ import annotations

import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from tests.signing.softhsm import MODULE, PIN_ENV, TOKEN


def _measure(call: Callable[[], object], count: int) -> tuple[float, float]:
    call()
    samples = []
    for _ in range(count):
        start = time.perf_counter_ns()
        call()
        samples.append((time.perf_counter_ns() - start) / 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "tokens").mkdir()
        conf = folder / "softhsm2.conf"
        conf.write_text(f"directories.tokendir = {folder / 'tokens'}\nlog.level = ERROR\n")
        pin = secrets.token_hex(8)
        os.environ.update({"SOFTHSM2_CONF": str(conf), PIN_ENV: pin, "BENCH_PASSPHRASE": pin * 2})
        subprocess.run(
            ["softhsm2-util", "--init-token", "--free", "--label", TOKEN, "--pin", pin,
             "--so-pin", secrets.token_hex(8)],
            check=True, capture_output=True,
        )  # fmt: skip
        from jwt_guard_core.signing import FileKeyStore, KeyManager, TokenIssuer
        from jwt_guard_core.signing.pkcs11_store import Pkcs11KeyStore

        hsm = Pkcs11KeyStore(MODULE, token_label=TOKEN, pin_env=PIN_ENV, lock_file=folder / "l")
        files = FileKeyStore(folder / "keys", passphrase_env="BENCH_PASSPHRASE")
        print(f"{'algorithm':<10} {'store':<12} {'median us':>10} {'p95 us':>10}  ({count} tokens)")
        for algorithm in ("ES256", "RS256"):
            for name, store in (("file", files), ("softhsm2", hsm)):
                keys = KeyManager(store, algorithm=algorithm)
                keys.rotate()
                issuer = TokenIssuer(keys, issuer="https://auth.example", audience="https://api")
                median, p95 = _measure(partial(issuer.issue_access_token, "user-1"), count)
                print(f"{algorithm:<10} {name:<12} {median:>10.0f} {p95:>10.0f}")
                if store is hsm:
                    signer = store.load().keys[-1].signer
                    parts = {
                        "ring check": _measure(store.revision, count)[0],
                        "C_Sign": _measure(partial(signer.sign, b"x" * 300), count)[0],
                    }
                    print(
                        "           of which " + ", ".join(f"{k} {v:.0f}" for k, v in parts.items())
                    )
        hsm.close()


if __name__ == "__main__":
    main()
