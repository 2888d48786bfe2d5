"""DjangoSessionStore's reservations: counted atomically across connections, before the work."""

from __future__ import annotations

from collections import Counter

import pytest

from jwt_guard_core.errors import RateLimited, StateUnavailable
from jwt_guard_core.sessions import FailureRateLimiter
from jwt_guard_django.store import DjangoSessionStore
from tests.django.db_threads import close_thread_connection
from tests.factories import NOW, FakeClock
from tests.sessions.ratelimit_fixtures import Gate, burst, check_reservations

BURST = 12
LIMIT = 4


@pytest.mark.django_db
def test_reserve_counts_until_the_limit_and_release_frees_a_slot() -> None:
    check_reservations(DjangoSessionStore(), NOW)


@pytest.mark.django_db(transaction=True)
def test_a_parallel_burst_reaches_the_work_at_most_limit_times() -> None:
    # fail_open=False: a connection that finds the test database locked is
    # refused (503), never let through, so every admission was counted. The
    # test database is a shared-cache in-memory SQLite, which answers "locked"
    # at once instead of waiting: on a loaded machine a whole burst can be
    # refused that way. Every burst must stay within the limit; a few bursts
    # (each for another client) make sure at least one reached the work.
    limiter = FailureRateLimiter(
        DjangoSessionStore(), limit=LIMIT, window=60, fail_open=False, clock=FakeClock()
    )
    reached = 0
    for round_ in range(5):
        gate = Gate(BURST)

        def guess(i: int, gate: Gate = gate, client: str = f"198.51.100.{round_ + 7}") -> str:
            try:
                with limiter.attempt(client) as attempt:
                    gate.enter()  # the slow password check
                    attempt.fail()
                return "failed"
            except (RateLimited, StateUnavailable) as exc:
                return exc.reason
            finally:
                close_thread_connection()

        outcomes = Counter(burst(gate, BURST, guess))
        assert gate.reached <= LIMIT
        assert outcomes["failed"] == gate.reached
        assert set(outcomes) <= {"failed", "rate_limited", "rate_limit_unavailable"}
        assert sum(outcomes.values()) == BURST
        reached += gate.reached
        if reached:
            break
    assert reached >= 1
