"""Fixtures for the demo's server-side tests: the demo app over a temporary data folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jwt_guard_demo import DemoServer
from tests.factories import FakeClock

from .demo_fixtures import open_demo, start_clock


@pytest.fixture
def demo_clock() -> FakeClock:
    return start_clock()


@pytest.fixture
def demo(tmp_path: Path, demo_clock: FakeClock) -> Iterator[DemoServer]:
    """The demo as ``serve`` builds it (bound to a free loopback port, not serving)."""
    built = open_demo(tmp_path, demo_clock)
    try:
        yield built
    finally:
        built.close()


@pytest.fixture
def browser(demo: DemoServer) -> Any:
    """A cookie-keeping client standing in for the person at the page."""
    return demo.app.test_client()
