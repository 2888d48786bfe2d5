"""Verification cost: jwt-guard (first-seen and repeated tokens), its peers, the raw signature.

For each algorithm of the issue's table (RS256 with 2048- and 3072-bit
keys, PS256, ES256, EdDSA, HS256) one token with the usual claims is
verified by:

- ``raw signature``: only the cryptographic check, as jwt-guard calls
  ``cryptography`` (the floor every library pays);
- ``jwt-guard first-seen``: ``Verifier.verify`` with the verified-token
  cache off, i.e. every check of a token never seen before;
- ``jwt-guard new, cache on``: a verifier with the cache on given a token
  it has not seen (320 tokens taken in turn by a 256-entry cache, so the
  entry needed next is always the one just evicted): the first-seen work
  plus the cache's digest, new entry and eviction;
- ``jwt-guard repeated``: ``Verifier.verify`` with the cache on (the
  default), i.e. a token presented again (time claims, key presence and
  revocation still checked);
- PyJWT, authlib, joserfc, python-jose and jwcrypto, doing the same
  checks (see ``peers.py``).

Rounds are interleaved (each round runs every contender in turn) and each
cell is the median of the rounds, in microseconds per call. ``x raw`` is
the time over the raw signature's; ``x guard`` the time over jwt-guard
first-seen (above 1, jwt-guard is faster).

Run from the repository root::

    python3 benchmarks/verify.py
    python3 benchmarks/verify.py --rounds 31 --case RS256-2048 --case ES256
"""

from __future__ import annotations

import argparse
import sys
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import (
    AUDIENCE,
    CASES,
    ISSUER,
    KEYS,
    LEEWAY,
    Key,
    environment,
    header,
    interleaved,
    token_for,
)
from benchmarks.peers import PEERS, Unsupported, check, tampered
from jwt_guard_core import GuardConfig, StaticKeySet, TokenError, Verifier
from jwt_guard_core.algorithms import verify_signature
from jwt_guard_core.encoding import b64url_decode

# Calls per round: enough for a round to take a few milliseconds.
_NUMBER = {"HS256": 2000, "EdDSA": 300, "ES256": 300, "PS256": 300, "RS256-3072": 150}


def guard(key: Key, **options: object) -> Verifier:
    return Verifier(
        GuardConfig(
            algorithms=[key.alg],
            keys=StaticKeySet([key.verification]),
            issuer=ISSUER,
            audience=AUDIENCE,
            leeway=LEEWAY,
            required_claims=["exp", "iat", "nbf", "iss", "aud", "sub"],
            **options,  # type: ignore[arg-type]
        )
    )


class _Pool:
    """Distinct tokens taken in turn: with more tokens than cache entries, every one misses."""

    def __init__(self, key: Key, size: int) -> None:
        self.tokens = [token_for(key) for _ in range(size)]
        self.next = 0

    def take(self) -> str:
        token = self.tokens[self.next]
        self.next = (self.next + 1) % len(self.tokens)
        return token


def contenders(key: Key, token: str) -> dict[str, object]:
    signing_input, _, signature = token.rpartition(".")
    raw_input, raw_signature = signing_input.encode(), b64url_decode(signature)
    public = key.verification.key
    first_seen = guard(key, token_cache_size=0)
    repeated = guard(key)
    missing = guard(key, token_cache_size=256)
    pool = _Pool(key, 256 + 64)
    for verifier in (first_seen, repeated):
        assert verifier.verify(token).subject == "user-1234"
        try:
            verifier.verify(tampered(token))
        except TokenError:
            pass
        else:  # pragma: no cover - would make the table meaningless
            raise AssertionError("jwt-guard accepted a tampered token")
    table: dict[str, object] = {
        "raw signature": lambda: verify_signature(key.alg, public, raw_input, raw_signature),
        "jwt-guard first-seen": lambda: first_seen.verify(token),
        "jwt-guard new, cache on": lambda: missing.verify(pool.take()),
        "jwt-guard repeated": lambda: repeated.verify(token),
    }
    for name, make in PEERS.items():
        try:
            verify = make(key)
        except (Unsupported, ImportError):
            continue
        check(name, verify, token)
        table[name] = lambda verify=verify: verify(token)
    return table


def report_case(name: str, rounds: int) -> dict[str, float]:
    key = KEYS.get(name)
    token = token_for(key)
    table = contenders(key, token)
    number = _NUMBER.get(name, 300 if key.alg != "HS256" else 2000)
    result = interleaved(table, rounds=rounds, number=number)  # type: ignore[arg-type]
    raw = result["raw signature"]
    first = result["jwt-guard first-seen"]
    print(header(f"{name} ({len(token)}-byte token, {rounds} rounds x {number} calls)"))
    print(f"{'':<24}{'us/call':>10}{'x raw':>9}{'x guard':>9}")
    for contender, micros in result.items():
        versus = "" if contender.startswith(("raw", "jwt-guard")) else f"{micros / first:>9.2f}"
        print(f"{contender:<24}{micros:>10.2f}{micros / raw:>9.2f}{versus}")
    return result


def memory_report(count: int = 100_000) -> None:
    """Peak traced memory while verifying ``count`` distinct tokens with the default cache."""
    key = KEYS.get("HS256")
    verifier = guard(key)
    print(header(f"Memory over {count:,} distinct HS256 tokens (default cache, 2048 entries)"))
    tokens = (token_for(key, jti=f"{i:032x}") for i in range(count))
    tracemalloc.start()
    marks = {1_000, 10_000, 50_000, count}
    for done, token in enumerate(tokens, 1):
        verifier.verify(token)
        if done in marks:
            current, peak = tracemalloc.get_traced_memory()
            print(f"after {done:>7,} tokens: current {current / 1e6:6.2f} MB", end="")
            print(f", peak {peak / 1e6:6.2f} MB")
    tracemalloc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--case", action="append", choices=CASES)
    parser.add_argument("--memory", action="store_true", help="also the 100,000-token memory run")
    args = parser.parse_args()
    print(environment())
    for name in args.case or CASES:
        report_case(name, args.rounds)
    if args.memory:
        memory_report()


if __name__ == "__main__":
    main()
