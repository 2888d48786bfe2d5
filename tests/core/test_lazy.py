"""A value built on first use and shared: built once, closed on reset, rebuilt after."""

from __future__ import annotations

import threading

import pytest

from jwt_guard_core.lazy import Lazy


def test_the_value_is_built_once_however_many_threads_ask_first() -> None:
    built: list[object] = []
    gate = threading.Barrier(8)

    def build() -> object:
        built.append(object())
        return built[-1]

    lazy = Lazy(build)
    seen: list[object] = []

    def ask() -> None:
        gate.wait()
        seen.append(lazy.get())

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(built) == 1
    assert seen == built * 8


def test_reset_closes_the_old_value_and_the_next_get_builds_a_new_one() -> None:
    closed: list[int] = []
    counter = iter(range(10))
    lazy = Lazy(lambda: next(counter), closed.append)
    assert lazy.get() == 0
    lazy.reset()
    assert closed == [0]
    assert lazy.get() == 1
    lazy.reset()
    lazy.reset()  # nothing built: nothing to close
    assert closed == [0, 1]


def test_a_failed_build_is_not_kept() -> None:
    attempts: list[int] = []

    def build() -> int:
        attempts.append(1)
        if len(attempts) == 1:
            raise ValueError("bad settings")
        return 7

    lazy = Lazy(build)
    with pytest.raises(ValueError, match="bad settings"):
        lazy.get()
    assert lazy.get() == 7
