"""What every RateLimitStore must do, and a gate to hold a parallel burst at the expensive step."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from jwt_guard_core.sessions import (
    CookiePolicy,
    FailureRateLimiter,
    MemorySessionStore,
    RateLimitStore,
    RefreshTokenService,
    RevocationService,
)
from jwt_guard_core.sessions.endpoints import SessionEndpoints, SessionRequest


def check_reservations(store: Any, now: float) -> None:
    """reserve counts until the limit, refuses after it; release and time free the slots."""
    assert isinstance(store, RateLimitStore)
    for i in range(3):
        admitted, counted = store.reserve("c1", now=now + i, window=60, limit=3)
        assert admitted
        assert tuple(counted) == tuple(now + j for j in range(i))
    admitted, counted = store.reserve("c1", now=now + 3, window=60, limit=3)
    assert not admitted
    assert tuple(counted) == (now, now + 1, now + 2)
    # A refusal is not itself counted, and other clients are untouched.
    assert tuple(store.recent_failures("c1", now=now + 3, window=60)) == (now, now + 1, now + 2)
    assert store.reserve("c2", now=now + 3, window=60, limit=3).admitted
    # Releasing one entry frees one slot; a time never reserved changes nothing.
    store.release("c1", at=now + 1)
    store.release("c1", at=now + 1)
    store.release("nobody", at=now)
    assert tuple(store.recent_failures("c1", now=now + 3, window=60)) == (now, now + 2)
    assert store.reserve("c1", now=now + 3, window=60, limit=3).admitted
    assert not store.reserve("c1", now=now + 3, window=60, limit=3).admitted
    # Two entries at one instant are two; releasing one keeps the other.
    assert store.reserve("c3", now=now, window=60, limit=5).admitted
    assert store.reserve("c3", now=now, window=60, limit=5).admitted
    store.release("c3", at=now)
    assert tuple(store.recent_failures("c3", now=now, window=60)) == (now,)
    # Entries leave the window: the oldest, at `now`, is out at now + 60.
    admitted, counted = store.reserve("c1", now=now + 60, window=60, limit=3)
    assert admitted
    assert tuple(counted) == (now + 2, now + 3)


class Gate:
    """The expensive step of a guess: counts who reaches it, holds them until all are decided."""

    def __init__(self, total: int) -> None:
        self._total = total
        self._decided = threading.Condition()
        self._open = threading.Event()
        self._mine = threading.local()
        self.reached = 0
        self.answered_early = 0

    def enter(self) -> None:
        self._mine.reached = True
        with self._decided:
            self.reached += 1
            self._decided.notify_all()
        # A bound only against a hang: the gate opens as soon as every
        # request of the burst has reached it or been answered.
        self._open.wait(timeout=60)

    def answered(self) -> None:
        if getattr(self._mine, "reached", False):
            return
        with self._decided:
            self.answered_early += 1
            self._decided.notify_all()

    def open_when_decided(self) -> None:
        with self._decided:
            self._decided.wait_for(
                lambda: self.reached + self.answered_early >= self._total, timeout=60
            )
        self._open.set()


def burst(gate: Gate, count: int, request: Callable[[int], Any]) -> list[Any]:
    """``request(i)`` from ``count`` threads released together; their results (or errors)."""
    results: list[Any] = [None] * count
    start = threading.Barrier(count)

    def run(i: int) -> None:
        start.wait(timeout=60)
        try:
            results[i] = request(i)
        except Exception as exc:  # the result under test: a rejection is data
            results[i] = exc
        finally:
            gate.answered()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    gate.open_when_decided()
    for thread in threads:
        thread.join(timeout=120)
    return results


def login_endpoints(
    make_sessions: Callable[..., RefreshTokenService],
    clock: Callable[[], float],
    limiter: FailureRateLimiter,
) -> SessionEndpoints:
    """JSON session endpoints over in-memory sessions, logins limited by ``limiter``."""
    sessions = MemorySessionStore()
    revocation = RevocationService(sessions, clock=clock)
    return SessionEndpoints(
        refresh_tokens=make_sessions(sessions, revocation=revocation),
        revocation=revocation,
        policy=CookiePolicy(refresh_path="/auth/refresh"),
        mode="json",
        clock=clock,
        access_max_age=900,
        limiter=limiter,
    )


def credentials(username: str, password: str) -> SessionRequest:
    """A login request body."""
    raw = json.dumps({"username": username, "password": password}).encode()
    return SessionRequest("application/json", lambda: raw, {})
