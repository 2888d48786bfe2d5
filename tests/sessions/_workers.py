"""Code run in child processes by the multi-process tests (spawned, so importable)."""

from __future__ import annotations

from typing import Any

from jwt_guard_core.sessions import InvalidRefreshToken, RefreshTokenService, SQLiteSessionStore
from jwt_guard_core.signing import FileKeyStore, KeyManager, TokenIssuer


def refresh_race(
    db: str, key_dir: str, passphrase: str, now: float, tokens: list[str], barrier: Any, out: Any
) -> None:
    """Refresh each token at the same moment as the sibling process; report who won."""
    clock = lambda: now  # noqa: E731 - a fixed instant for the whole race
    keys = KeyManager(FileKeyStore(key_dir, passphrase=passphrase), clock=clock)
    issuer = TokenIssuer(keys, issuer="https://auth.example", audience="https://api.example")
    store = SQLiteSessionStore(db)
    sessions = RefreshTokenService(store, access_tokens=issuer, clock=clock, reuse_interval=5)
    results = []
    try:
        for token in tokens:
            barrier.wait(timeout=60)
            try:
                new = sessions.refresh(token)
            except InvalidRefreshToken as exc:
                results.append(exc.reason)
            else:
                results.append("won:" + new.refresh_token)
    finally:
        store.close()
        out.put(results)
