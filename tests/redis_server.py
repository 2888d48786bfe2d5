"""A real ``redis-server`` for the tests, on a free loopback port.

Use it from any conftest::

    from tests.redis_server import redis_client, redis_server  # noqa: F401

or, from the root conftest, ``pytest_plugins = ["tests.redis_server"]``.

``redis_server`` (session scope) starts one server in a temporary directory
with persistence off and stops it at the end of the session.
``redis_client`` (function scope) returns a ``redis.Redis`` client for it,
after ``FLUSHALL``, so every test starts from an empty database.
``redis-server`` missing is a failure, not a skip: ``scripts/test``
installs it (``apt-get install redis-server``).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

__all__ = ["RedisServer", "redis_client", "redis_server", "start_redis_server"]

_STARTUP_SECONDS = 20.0


@dataclass
class RedisServer:
    """A running ``redis-server`` child process."""

    host: str
    port: int
    process: subprocess.Popen[bytes]
    directory: Path
    drain: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    def client(self, **options: object) -> redis.Redis:
        """A new client for database 0 (bytes responses unless told otherwise)."""
        return redis.Redis(host=self.host, port=self.port, db=0, **options)  # type: ignore[arg-type]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self.drain is not None:
            self.drain.join(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _drain(process: subprocess.Popen[bytes]) -> None:
    stream = process.stdout
    if stream is None:
        return
    try:
        while stream.read(65536):
            pass
    except (OSError, ValueError):
        pass  # closed by stop()


def start_redis_server(directory: Path, *, attempts: int = 5) -> RedisServer:
    """Start ``redis-server`` on 127.0.0.1 and a free port; wait until it accepts commands."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail(
            "redis-server is not installed: run scripts/test, or apt-get install -y redis-server"
        )
    last_output = ""
    for _ in range(attempts):
        port = _free_port()
        process = subprocess.Popen(
            [
                binary,
                "--bind", "127.0.0.1",
                "--port", str(port),
                "--dir", str(directory),
                "--save", "",
                "--appendonly", "no",
                "--protected-mode", "yes",
                "--daemonize", "no",
                "--logfile", "",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        assert process.stdout is not None
        server = RedisServer("127.0.0.1", port, process, directory)
        output = []
        deadline = time.monotonic() + _STARTUP_SECONDS
        # The server logs "Ready to accept connections" once it listens; the
        # line is read as it comes, so no fixed sleep is needed.
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break  # the process exited
            output.append(line.decode("utf-8", "replace"))
            if b"Ready to accept connections" in line:
                client = server.client()
                try:
                    client.ping()
                finally:
                    client.close()
                # Keep reading the log so a full pipe can never block the server.
                server.drain = threading.Thread(target=_drain, args=(process,), daemon=True)
                server.drain.start()
                return server
        server.stop()
        last_output = "".join(output[-20:])
        if "Address already in use" not in last_output:
            break
    pytest.fail(f"redis-server did not start:\n{last_output}")


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One real redis-server for the whole session."""
    server = start_redis_server(tmp_path_factory.mktemp("redis"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_client(redis_server: RedisServer) -> Iterator[redis.Redis]:
    """A client to the session server, on a database flushed for this test."""
    client = redis_server.client()
    client.flushall()
    try:
        yield client
    finally:
        client.close()
