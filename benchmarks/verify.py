"""Time ``Verifier.verify`` against PyJWT's ``jwt.decode`` doing the same checks.

Both sides get the same token, the same public key (already parsed into a
``cryptography`` object, so neither pays for PEM parsing per call) and the
same policy: signature, ``exp``, ``iat``, ``nbf``, ``iss``, ``aud``, a leeway
of 10 s and the required claims exp, iat, nbf, iss, aud, sub.

Run from the repository root::

    python3 benchmarks/verify.py                 # defaults: best of 7 repeats
    python3 benchmarks/verify.py --repeat 15 --number 2000

Each cell is the best (lowest) of ``--repeat`` runs of ``--number`` calls,
in microseconds per call; ``ratio`` is PyJWT time / jwt-guard time, so a
ratio above 1.00 means jwt-guard is faster. This is a hand-run comparison,
never a timed test.
"""

from __future__ import annotations

import argparse
import platform
import secrets
import sys
import time
import timeit
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cryptography
import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from jwt_guard_core import GuardConfig, StaticKeySet, TokenError, Verifier
from jwt_guard_core.keys import key_from_public_key

ISSUER = "https://issuer.example"
AUDIENCE = "https://api.example"
LEEWAY = 10
REQUIRED = ["exp", "iat", "nbf", "iss", "aud", "sub"]
ALGORITHMS = ("RS256", "ES256", "EdDSA", "HS256")


@dataclass(frozen=True)
class Case:
    alg: str
    token: str
    guard: Callable[[], Any]
    pyjwt: Callable[[], Any]


def _signing_key(alg: str) -> Any:
    if alg == "RS256":
        # 2048 bits: what most identity providers publish.
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if alg == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    if alg == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    return secrets.token_bytes(32)


def make_case(alg: str) -> Case:
    """Build the token, a jwt-guard verifier and a PyJWT call for ``alg``."""
    signing = _signing_key(alg)
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "user-1",
        "iat": now,
        "nbf": now,
        "exp": now + 900,
        "jti": secrets.token_urlsafe(16),
        "scope": "orders:read profile",
    }
    token = jwt.encode(claims, signing, algorithm=alg, headers={"kid": "k1"})

    if isinstance(signing, bytes):
        verify_key: Any = signing
        keys = StaticKeySet.from_secret(signing, algorithm=alg, kid="k1")
    else:
        verify_key = signing.public_key()
        keys = StaticKeySet([key_from_public_key(verify_key, kid="k1", algorithms=[alg])])

    verifier = Verifier(
        GuardConfig(
            algorithms=[alg],
            keys=keys,
            issuer=ISSUER,
            audience=AUDIENCE,
            leeway=LEEWAY,
            required_claims=REQUIRED,
        )
    )
    options: Any = {"require": REQUIRED}

    def guard() -> Any:
        return verifier.verify(token)

    def pyjwt() -> Any:
        return jwt.decode(
            token,
            verify_key,
            algorithms=[alg],
            audience=AUDIENCE,
            issuer=ISSUER,
            leeway=LEEWAY,
            options=options,
        )

    # Both must accept the token and refuse a tampered one, or the timing
    # compares different work.
    assert dict(guard().claims) == pyjwt()
    tampered = token[:-10] + ("A" if token[-10] != "A" else "B") + token[-9:]
    try:
        verifier.verify(tampered)
    except TokenError:
        pass
    else:  # pragma: no cover - would be a verifier bug
        raise AssertionError(f"jwt-guard accepted a tampered {alg} token")
    try:
        jwt.decode(tampered, verify_key, algorithms=[alg], audience=AUDIENCE, issuer=ISSUER)
    except jwt.InvalidTokenError:
        pass
    else:  # pragma: no cover
        raise AssertionError(f"PyJWT accepted a tampered {alg} token")
    return Case(alg, token, guard, pyjwt)


def best_us(func: Callable[[], Any], repeat: int, number: int) -> float:
    """Best of ``repeat`` runs, in microseconds per call."""
    timer = timeit.Timer(func)
    timer.timeit(number=max(1, number // 10))  # warm caches and the allocator
    return min(timer.repeat(repeat=repeat, number=number)) / number * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs per cell (best is kept)")
    parser.add_argument("--number", type=int, default=0, help="calls per run (default: auto)")
    parser.add_argument(
        "--alg", action="append", choices=ALGORITHMS, help="only these algorithms (repeatable)"
    )
    args = parser.parse_args(argv)

    print(
        f"Python {platform.python_version()}, PyJWT {jwt.__version__}, "
        f"cryptography {cryptography.__version__}, {platform.machine()}"
    )
    print(f"best of {args.repeat} repeats; µs per verification; ratio = PyJWT / jwt-guard\n")
    print(f"| {'alg':<6} | {'jwt-guard µs':>12} | {'PyJWT µs':>9} | {'ratio':>6} |")
    print(f"|{'-' * 8}|{'-' * 13}:|{'-' * 10}:|{'-' * 7}:|")
    slower = []
    for alg in args.alg or ALGORITHMS:
        case = make_case(alg)
        number = args.number or (200 if alg == "RS256" else 2000)
        guard = best_us(case.guard, args.repeat, number)
        pyjwt = best_us(case.pyjwt, args.repeat, number)
        ratio = pyjwt / guard
        if ratio < 1.0:
            slower.append(alg)
        print(f"| {alg:<6} | {guard:>12.1f} | {pyjwt:>9.1f} | {ratio:>6.2f} |")
    if slower:
        print(f"\njwt-guard is slower than PyJWT on: {', '.join(slower)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
