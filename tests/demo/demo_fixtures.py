"""The demo built the way ``jwt_guard_demo.serve`` builds it, on a free port and a fake clock.

``open_demo(root, clock)`` binds 127.0.0.1:0, prepares ``root / "data"``
and builds the app (not serving yet, so tests may add routes);
``serving(demo)`` serves it from a thread until the block ends.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from jwt_guard_demo import DemoServer, open_server
from tests.factories import FakeClock


def start_clock() -> FakeClock:
    # Injected time, started at the real time: the browser keeps cookies by
    # the real clock, and "log out everywhere" refuses tokens issued before
    # the whole second it happened in, so tests move the clock, never sleep.
    return FakeClock(float(int(time.time())))


def open_demo(root: Path, clock: FakeClock) -> DemoServer:
    return open_server("127.0.0.1", 0, root / "data", clock=clock)


@contextmanager
def serving(demo: DemoServer) -> Iterator[str]:
    """Serve ``demo`` from a thread; yields its base URL (no trailing slash)."""
    thread = threading.Thread(target=demo.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield demo.url
    finally:
        demo.server.shutdown()
        thread.join(timeout=5)
        demo.close()


def log_in(client: Any, demo: DemoServer) -> Any:
    return client.post(
        "/auth/token", json={"username": demo.user.username, "password": demo.password}
    )


def csrf_header(client: Any) -> dict[str, str]:
    cookie = client.get_cookie("csrf_token")
    assert cookie is not None, "not logged in"
    return {"X-CSRF-Token": cookie.value}
