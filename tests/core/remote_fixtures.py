"""Fixtures for the remote key set tests: real HTTP(S) servers on 127.0.0.1.

Import the fixtures a test module uses (``from tests.core.remote_fixtures
import jwks_server, ...``). Servers are pytest-httpserver instances (threaded,
one per test, so request counts belong to the test), a trustme CA for TLS,
and a raw TCP server for what no HTTP server does on purpose (resets,
garbage). A "hanging" response is a handler blocked on a ``threading.Event``
that the test releases: nothing sleeps.
"""

from __future__ import annotations

import json
import logging
import socket
import ssl
import struct
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import trustme
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from jwt_guard_core import events
from jwt_guard_core.events import SecurityEvent
from jwt_guard_core.keys import key_from_public_key
from jwt_guard_core.remote import RemoteJWKS
from tests.factories import KeyRing

JWKS_PATH = "/.well-known/jwks.json"
JSON = "application/json"
# Bounds for waits on other threads; reached only when a test is failing.
WAIT = 10.0


def public_jwk(private_key: Any, kid: str, **extra: Any) -> dict[str, Any]:
    """The public JWK of ``private_key`` with ``kid`` (and any extra members)."""
    jwk = dict(key_from_public_key(private_key.public_key(), kid=kid).public_jwk or {})
    jwk.update(extra)
    return jwk


class _QuickStopServer(HTTPServer):
    """pytest-httpserver polls for shutdown every 0.5 s; a short poll keeps teardown quick."""

    def thread_target(self) -> None:
        assert self.server is not None
        self.server.serve_forever(poll_interval=0.005)


class JWKSServer:
    """A real HTTP server on 127.0.0.1 with helpers to serve key sets and count requests."""

    def __init__(self, ssl_context: ssl.SSLContext | None = None) -> None:
        self.http = _QuickStopServer(
            host="127.0.0.1", port=0, ssl_context=ssl_context, threaded=True
        )

    def start(self) -> None:
        self.http.start()

    def stop(self) -> None:
        if self.http.is_running():
            self.http.clear()
            self.http.stop()

    def url(self, path: str = JWKS_PATH) -> str:
        return self.http.url_for(path)

    @property
    def origin(self) -> str:
        return self.url("/").rstrip("/")

    def serve(
        self,
        doc: dict[str, Any] | bytes | str,
        *,
        path: str = JWKS_PATH,
        status: int = 200,
        headers: dict[str, str] | None = None,
        content_type: str = JSON,
    ) -> None:
        """Answer every GET of ``path`` with this document (replacing earlier answers)."""
        body = json.dumps(doc) if isinstance(doc, dict) else doc
        self.http.clear_all_handlers()
        self.http.expect_request(path).respond_with_response(
            Response(body, status=status, headers=headers or {}, content_type=content_type)
        )

    def serve_keys(self, *jwks: dict[str, Any], path: str = JWKS_PATH, **options: Any) -> None:
        self.serve({"keys": list(jwks)}, path=path, **options)

    def handle(self, handler: Callable[[Request], Response], *, path: str = JWKS_PATH) -> None:
        """Answer ``path`` by calling ``handler(request)``."""
        self.http.clear_all_handlers()
        self.http.expect_request(path).respond_with_handler(handler)

    def add(self, path: str, handler: Callable[[Request], Response]) -> None:
        """Answer another ``path`` too, keeping the existing handlers."""
        self.http.expect_request(path).respond_with_handler(handler)

    def count(self, path: str = JWKS_PATH) -> int:
        """How many requests for ``path`` the server received."""
        return sum(1 for request, _ in self.http.log if request.path == path)

    def requests(self, path: str = JWKS_PATH) -> list[Request]:
        return [request for request, _ in self.http.log if request.path == path]


class Gate:
    """A handler that blocks until the test opens the gate: a server that hangs."""

    def __init__(self, respond: Callable[[Request], Response]) -> None:
        self.respond = respond
        self.entered = threading.Event()
        self.release = threading.Event()
        self.calls = 0

    def __call__(self, request: Request) -> Response:
        self.calls += 1
        self.entered.set()
        self.release.wait(WAIT)
        return self.respond(request)


def jwks_response(
    *jwks: dict[str, Any], headers: dict[str, str] | None = None
) -> Callable[[Request], Response]:
    body = json.dumps({"keys": list(jwks)})
    return lambda request: Response(body, headers=headers or {}, content_type=JSON)


@pytest.fixture
def jwks_server() -> Iterator[JWKSServer]:
    server = JWKSServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def other_server() -> Iterator[JWKSServer]:
    server = JWKSServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def tls_ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_server(tls_ca: trustme.CA) -> Iterator[JWKSServer]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls_ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    server = JWKSServer(ssl_context=context)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def client_tls(tls_ca: trustme.CA) -> ssl.SSLContext:
    """A client context that trusts the test CA (and nothing else)."""
    context = ssl.create_default_context()
    tls_ca.configure_trust(context)
    return context


@pytest.fixture
def jwk_a(keyring: KeyRing) -> dict[str, Any]:
    """The session RSA key as JWK ``a``."""
    return public_jwk(keyring.rsa, "a")


@pytest.fixture
def jwk_b(keyring: KeyRing) -> dict[str, Any]:
    """The session P-256 key as JWK ``b``."""
    return public_jwk(keyring.p256, "b")


@pytest.fixture
def seen() -> Iterator[list[SecurityEvent]]:
    """Every security event emitted during the test, in order."""
    captured: list[SecurityEvent] = []
    lock = threading.Lock()

    def hook(event: SecurityEvent) -> None:
        with lock:
            captured.append(event)

    unsubscribe = events.subscribe(hook)
    # The werkzeug server logs each request; keep test output readable.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    yield captured
    unsubscribe()


def named(seen: list[SecurityEvent], name: str) -> list[SecurityEvent]:
    return [e for e in seen if e.name == name]


@pytest.fixture
def make_jwks(clock: Callable[[], float]) -> Iterator[Callable[..., RemoteJWKS]]:
    """``make_jwks(url, **options)``: a RemoteJWKS on the fake clock, closed after the test."""
    made: list[RemoteJWKS] = []

    def _make(url: str, **options: Any) -> RemoteJWKS:
        options.setdefault("clock", clock)
        jwks = RemoteJWKS(url, **options)
        made.append(jwks)
        return jwks

    yield _make
    for jwks in made:
        jwks.close()


@pytest.fixture
def make_discovered(clock: Callable[[], float]) -> Iterator[Callable[..., RemoteJWKS]]:
    """``make_discovered(issuer, **options)``: RemoteJWKS.from_issuer on the fake clock."""
    made: list[RemoteJWKS] = []

    def _make(issuer: str, **options: Any) -> RemoteJWKS:
        options.setdefault("clock", clock)
        jwks = RemoteJWKS.from_issuer(issuer, **options)
        made.append(jwks)
        return jwks

    yield _make
    for jwks in made:
        jwks.close()


class RawServer:
    """A TCP server on 127.0.0.1 that answers each connection with ``behaviour(conn)``.

    For what a well-behaved HTTP server never does: reset the connection,
    send bytes that are not HTTP.
    """

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.behaviour: Callable[[socket.socket], None] = reset
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def url(self, path: str = JWKS_PATH) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            try:
                conn.recv(65536)
                self.behaviour(conn)
            except OSError:
                pass
            finally:
                conn.close()

    def close(self) -> None:
        self.sock.close()
        self._thread.join(WAIT)


def reset(conn: socket.socket) -> None:
    """Close with SO_LINGER 0: the client sees a TCP RST (connection reset)."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def garbage(conn: socket.socket) -> None:
    conn.sendall(b"\x00\xffthis is not HTTP at all\r\n\r\n")


def truncated(conn: socket.socket) -> None:
    """Promise a 1000-byte JSON body, send 10 bytes, then reset."""
    conn.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
        b'{"keys": ['
    )
    reset(conn)


@pytest.fixture
def raw_server() -> Iterator[RawServer]:
    server = RawServer()
    yield server
    server.close()
