"""One "worker process" for the shared JWKS test: start cold, wait for "go", get a key.

    python -m tests.scale._jwks_worker URL redis|file|none TARGET KID

Prints ``ready`` once built, reads one line from stdin (the start signal),
then prints the kid of the key it got, or ``error <reason>``.
"""

from __future__ import annotations

import sys

import redis

from jwt_guard_core import events
from jwt_guard_core.remote import RemoteJWKS
from jwt_guard_core.shared_jwks import FileSharedJWKS, RedisSharedJWKS


def main() -> None:
    url, kind, target, kid = sys.argv[1:5]
    # Generous Redis timeouts too: this test is about who fetches, and a
    # worker whose Redis call times out on a busy machine rightly fetches
    # alone (it then says so below instead of passing silently).
    shared = {
        "redis": lambda: RedisSharedJWKS(
            redis.Redis.from_url(target, socket_timeout=30, socket_connect_timeout=30)
        ),
        "file": lambda: FileSharedJWKS(target),
        "none": lambda: None,
    }[kind]()
    # A generous budget: sixteen processes starting at once on a small,
    # busy machine can take seconds to get their first request out.
    jwks = RemoteJWKS(url, shared_cache=shared, timeout=30)
    degraded: list[str] = []
    events.subscribe(
        lambda event: (
            degraded.append(event.name) if event.name == "jwks_shared_unavailable" else None
        )
    )
    print("ready", flush=True)
    sys.stdin.readline()
    try:
        got = jwks.get_key(kid, "RS256").kid
        print(got if not degraded else f"{got} without the shared cache", flush=True)
    except Exception as exc:
        print("error", getattr(exc, "reason", type(exc).__name__), exc, jwks.health(), flush=True)
    finally:
        jwks.close()


if __name__ == "__main__":
    main()
