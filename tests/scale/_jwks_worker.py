"""One "worker process" for the shared JWKS test: start cold, wait for "go", get a key.

    python -m tests.scale._jwks_worker URL redis|file|none TARGET KID

Prints ``ready`` once built, reads one line from stdin (the start signal),
then prints the kid of the key it got, or ``error <reason>``.
"""

from __future__ import annotations

import sys

from jwt_guard_core.remote import RemoteJWKS
from jwt_guard_core.shared_jwks import FileSharedJWKS, RedisSharedJWKS


def main() -> None:
    url, kind, target, kid = sys.argv[1:5]
    shared = {
        "redis": lambda: RedisSharedJWKS(target),
        "file": lambda: FileSharedJWKS(target),
        "none": lambda: None,
    }[kind]()
    # A generous budget: sixteen processes starting at once on a small,
    # busy machine can take seconds to get their first request out.
    jwks = RemoteJWKS(url, shared_cache=shared, timeout=30)
    print("ready", flush=True)
    sys.stdin.readline()
    try:
        print(jwks.get_key(kid, "RS256").kid, flush=True)
    except Exception as exc:
        print("error", getattr(exc, "reason", type(exc).__name__), exc, jwks.health(), flush=True)
    finally:
        jwks.close()


if __name__ == "__main__":
    main()
