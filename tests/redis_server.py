"""A real ``redis-server`` for the tests, on a free loopback port.

Use it from any conftest::

    from tests.redis_server import redis_client, redis_server  # noqa: F401

or, from the root conftest, ``pytest_plugins = ["tests.redis_server"]``.

``redis_server`` (session scope) starts one server in a temporary directory
with persistence off and stops it at the end of the session.
``redis_client`` (function scope) returns a ``redis.Redis`` client for it,
after ``FLUSHALL``, so every test starts from an empty database.
``redis_cluster`` and ``redis_sentinel`` (module scope) start a 3-primary
Cluster with a replica each, and a primary with one replica under three
Sentinels; both can fail over on demand (``CLUSTER FAILOVER``,
``SENTINEL FAILOVER``), controlled, and return once every node agrees.
``redis-server`` missing is a failure, not a skip: ``scripts/test``
installs it (``apt-get install redis-server``).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from redis.cluster import RedisCluster
from redis.sentinel import Sentinel

__all__ = [
    "LOCKED_REDIS_PASSWORD",
    "RedisClusterGroup",
    "RedisServer",
    "RestartableRedis",
    "SentinelGroup",
    "locked_redis",
    "redis_client",
    "redis_cluster",
    "redis_sentinel",
    "redis_server",
    "restartable_redis",
    "start_redis_cluster",
    "start_redis_server",
    "start_sentinel_group",
]

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

    def quick_client(self) -> redis.Redis:
        """A client that gives up at once when the server is gone (outage tests)."""
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        return self.client(socket_timeout=2, socket_connect_timeout=2, retry=Retry(NoBackoff(), 1))

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


def start_redis_server(
    directory: Path,
    *,
    attempts: int = 5,
    extra: Sequence[str] = (),
    config: str | None = None,
    ready: bytes = b"Ready to accept connections",
    port: int | None = None,
) -> RedisServer:
    """Start ``redis-server`` on 127.0.0.1 and a free port; wait until it accepts commands.

    ``extra`` are further command-line options; ``config`` is the text of a
    configuration file to start from (a Sentinel's, say: it must be
    writable); ``ready`` is the log line that says the server is up;
    ``port`` restarts a stopped server where its clients look for it.
    """
    directory.mkdir(parents=True, exist_ok=True)
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail(
            "redis-server is not installed: run scripts/test, or apt-get install -y redis-server"
        )
    last_output = ""
    fixed = port
    for _ in range(attempts):
        port = fixed if fixed is not None else _free_port()
        head = [binary]
        if config is not None:
            config_file = directory / "redis.conf"
            config_file.write_text(config)
            head.append(str(config_file))
        process = subprocess.Popen(
            [
                *head,
                "--bind", "127.0.0.1",
                "--port", str(port),
                "--dir", str(directory),
                "--save", "",
                "--appendonly", "no",
                "--protected-mode", "yes",
                "--daemonize", "no",
                "--logfile", "",
                *extra,
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
            if ready in line:
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


class RestartableRedis:
    """A server of one test's own: ``stop()`` it, ``start()`` it again on the same port."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._starts = 0
        self.server = start_redis_server(directory / "run0")

    @property
    def url(self) -> str:
        return self.server.url

    def stop(self) -> None:
        self.server.stop()

    def start(self) -> None:
        self._starts += 1
        port = self.server.port
        self.server = start_redis_server(self._directory / f"run{self._starts}", port=port)


@pytest.fixture
def restartable_redis(tmp_path: Path) -> Iterator[RestartableRedis]:
    """A server this test may stop (an outage) and start again where its clients look."""
    control = RestartableRedis(tmp_path / "restartable-redis")
    try:
        yield control
    finally:
        control.server.stop()


#: The password of :func:`locked_redis`: an answer that shows it leaks it.
LOCKED_REDIS_PASSWORD = "s3cret-redis-pw"


@pytest.fixture
def locked_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A server of this test's own that requires :data:`LOCKED_REDIS_PASSWORD`.

    ``locked_redis.url`` has no password; build the URL with it where needed.
    """
    server = start_redis_server(tmp_path / "locked-redis")
    client = server.client()
    client.config_set("requirepass", LOCKED_REDIS_PASSWORD)
    client.close()
    try:
        yield server
    finally:
        server.stop()


# --- Redis Cluster and Sentinel -------------------------------------------------


def _wait_for(condition: Callable[[], bool], what: str, seconds: float = 30.0) -> None:
    """Poll ``condition`` until true; the servers' own state, not a fixed sleep."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except redis.RedisError:
            pass
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def _info(server: RedisServer, section: str) -> dict[str, Any]:
    client = server.client()
    try:
        return dict(client.info(section))
    finally:
        client.close()


@dataclass
class RedisClusterGroup:
    """A Redis Cluster of ``masters`` primaries with ``replicas`` replicas each, on loopback."""

    nodes: list[RedisServer]

    @property
    def url(self) -> str:
        return f"redis+cluster://{self.nodes[0].host}:{self.nodes[0].port}"

    def client(self, **options: Any) -> RedisCluster:
        options.setdefault("socket_timeout", 5)
        return RedisCluster(host=self.nodes[0].host, port=self.nodes[0].port, **options)

    def node(self, port: int) -> RedisServer:
        return next(n for n in self.nodes if n.port == port)

    def owner_of(self, key: str) -> tuple[RedisServer, list[RedisServer]]:
        """The primary serving ``key``'s slot and its replicas (``CLUSTER NODES`` of node 0)."""
        client = self.nodes[0].client()
        try:
            slot = int(client.execute_command("CLUSTER", "KEYSLOT", key))
            table = client.execute_command("CLUSTER", "NODES").decode()
        finally:
            client.close()
        rows = [line.split() for line in table.splitlines() if line.strip()]
        port = {row[0]: int(row[1].split("@")[0].rsplit(":", 1)[1]) for row in rows}
        for row in rows:
            if "master" not in row[2] or "fail" in row[2]:
                continue
            for span in row[8:]:
                start, _, end = span.partition("-")
                if int(start) <= slot <= int(end or start):
                    replicas = [self.node(port[r[0]]) for r in rows if r[3] == row[0]]
                    return self.node(port[row[0]]), replicas
        raise AssertionError(f"no node serves slot {slot}")

    def fail_over(self, key: str) -> RedisServer:
        """A controlled ``CLUSTER FAILOVER``: the replica of ``key``'s primary takes over.

        The replica first catches up with its primary's replication offset,
        so nothing acknowledged is lost; returns the new primary once every
        node agrees.
        """
        old, replicas = self.owner_of(key)
        new = replicas[0]
        client = new.client()
        try:
            client.execute_command("CLUSTER", "FAILOVER")
        finally:
            client.close()
        _wait_for(lambda: self.owner_of(key)[0] is new, "the cluster failover")
        _wait_for(lambda: _info(old, "replication")["role"] == "slave", "the old primary to follow")
        self.wait_healthy()
        return new

    def wait_healthy(self) -> None:
        def healthy() -> bool:
            for node in self.nodes:
                if _info(node, "replication")["role"] == "slave" and (
                    _info(node, "replication").get("master_link_status") != "up"
                ):
                    return False
                client = node.client()
                try:
                    info = client.execute_command("CLUSTER", "INFO").decode()
                finally:
                    client.close()
                if "cluster_state:ok" not in info:
                    return False
            return True

        _wait_for(healthy, "the cluster to be healthy")

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


def start_redis_cluster(
    directory: Path, *, masters: int = 3, replicas: int = 1
) -> RedisClusterGroup:
    """Start ``masters * (1 + replicas)`` nodes; join them with ``redis-cli --cluster create``."""
    cli = shutil.which("redis-cli")
    if cli is None:
        pytest.fail("redis-cli is not installed (it comes with redis-server: run scripts/test)")
    nodes: list[RedisServer] = []
    group = RedisClusterGroup(nodes)
    try:
        for index in range(masters * (1 + replicas)):
            nodes.append(
                start_redis_server(
                    directory / f"node{index}",
                    extra=[
                        "--cluster-enabled",
                        "yes",
                        "--cluster-config-file",
                        "nodes.conf",
                        "--cluster-node-timeout",
                        "3000",
                        # The bus port defaults to port + 10000, too high
                        # for most free ports.
                        "--cluster-port",
                        str(_free_port()),
                    ],
                )
            )
        created = subprocess.run(
            [
                cli, "--cluster", "create",
                *[f"{n.host}:{n.port}" for n in nodes],
                "--cluster-replicas", str(replicas),
                "--cluster-yes",
            ],
            capture_output=True,
            timeout=120,
            check=False,
        )  # fmt: skip
        if created.returncode != 0:
            pytest.fail(f"redis-cli --cluster create failed:\n{created.stdout.decode()[-2000:]}")
        group.wait_healthy()
    except BaseException:
        group.stop()
        raise
    return group


@dataclass
class SentinelGroup:
    """A primary, its replicas and a quorum of Sentinels watching ``service``."""

    service: str
    servers: list[RedisServer]
    sentinels: list[RedisServer]

    @property
    def url(self) -> str:
        hosts = ",".join(f"{s.host}:{s.port}" for s in self.sentinels)
        return f"redis+sentinel://{hosts}/{self.service}"

    def sentinel(self) -> Sentinel:
        return Sentinel(  # type: ignore[no-untyped-call]
            [(s.host, s.port) for s in self.sentinels], socket_timeout=5
        )

    def primary(self) -> RedisServer:
        client = self.sentinels[0].client()
        try:
            _host, port = client.execute_command(
                "SENTINEL", "GET-MASTER-ADDR-BY-NAME", self.service
            )
        finally:
            client.close()
        return next(s for s in self.servers if s.port == int(port))

    def fail_over(self) -> RedisServer:
        """``SENTINEL FAILOVER``; returns the new primary once it serves and its replicas follow."""
        old = self.primary()
        client = self.sentinels[0].client()
        try:
            client.execute_command("SENTINEL", "FAILOVER", self.service)
        finally:
            client.close()
        _wait_for(lambda: self.primary() is not old, "the Sentinel failover")
        new = self.primary()
        _wait_for(lambda: _info(new, "replication")["role"] == "master", "the new primary")
        # Sentinel turns the old primary into a replica on its next INFO
        # round (up to 10 s); do now what it will do then.
        client = old.client()
        try:
            client.execute_command("REPLICAOF", new.host, new.port)
        finally:
            client.close()
        self.wait_replicated(new)
        # A client asks any Sentinel: until they all name the new primary,
        # one may still send it to the old one (now a read-only replica).
        self.wait_agreed(new)
        return new

    def wait_agreed(self, primary: RedisServer) -> None:
        """Until every Sentinel names ``primary`` (what a client asking any of them then finds)."""

        def agreed() -> bool:
            for sentinel in self.sentinels:
                client = sentinel.client()
                try:
                    _host, port = client.execute_command(
                        "SENTINEL", "GET-MASTER-ADDR-BY-NAME", self.service
                    )
                finally:
                    client.close()
                if int(port) != primary.port:
                    return False
            return True

        _wait_for(agreed, "every Sentinel to name the new primary")

    def wait_replicated(self, primary: RedisServer) -> None:
        want = len(self.servers) - 1

        def following() -> bool:
            info = _info(primary, "replication")
            links = [v for k, v in info.items() if k.startswith("slave") and isinstance(v, dict)]
            return len(links) == want and all(v.get("state") == "online" for v in links)

        _wait_for(following, "the replicas to follow the primary")

    def stop(self) -> None:
        for server in (*self.sentinels, *self.servers):
            server.stop()


def start_sentinel_group(
    directory: Path, *, service: str = "jwtguard", replicas: int = 1, sentinels: int = 3
) -> SentinelGroup:
    """Start a primary, ``replicas`` replicas and ``sentinels`` Sentinels (quorum: a majority)."""
    group = SentinelGroup(service, [], [])
    try:
        primary = start_redis_server(directory / "primary")
        group.servers.append(primary)
        for index in range(replicas):
            group.servers.append(
                start_redis_server(
                    directory / f"replica{index}",
                    extra=["--replicaof", primary.host, str(primary.port)],
                )
            )
        group.wait_replicated(primary)
        quorum = sentinels // 2 + 1
        config = (
            f"sentinel monitor {service} {primary.host} {primary.port} {quorum}\n"
            f"sentinel down-after-milliseconds {service} 2000\n"
            f"sentinel failover-timeout {service} 10000\n"
        )
        for index in range(sentinels):
            group.sentinels.append(
                start_redis_server(
                    directory / f"sentinel{index}",
                    config=config,
                    extra=["--sentinel"],
                    ready=b"+monitor master",
                )
            )

        def discovered() -> bool:
            for sentinel in group.sentinels:
                client = sentinel.client()
                try:
                    known_replicas = client.execute_command("SENTINEL", "REPLICAS", service)
                    others = client.execute_command("SENTINEL", "SENTINELS", service)
                finally:
                    client.close()
                if len(known_replicas) < replicas or len(others) < sentinels - 1:
                    return False
            return True

        # A failover needs Sentinels that know the replicas and each other.
        _wait_for(discovered, "the Sentinels to discover the replicas and each other")
    except BaseException:
        group.stop()
        raise
    return group


@pytest.fixture(scope="module")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisClusterGroup]:
    """A 3-primary Redis Cluster with one replica each, for one test module."""
    group = start_redis_cluster(tmp_path_factory.mktemp("cluster"))
    try:
        yield group
    finally:
        group.stop()


@pytest.fixture(scope="module")
def redis_sentinel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SentinelGroup]:
    """A primary with one replica watched by three Sentinels, for one test module."""
    group = start_sentinel_group(tmp_path_factory.mktemp("sentinel"))
    try:
        yield group
    finally:
        group.stop()
