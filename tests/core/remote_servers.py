"""Helpers for the remote key set tests: real HTTP(S) servers on 127.0.0.1.

Servers are pytest-httpserver instances (threaded, one per test, so request
counts belong to the test) and a raw TCP server for what no HTTP server does
on purpose (resets, garbage). A "hanging" response is a handler blocked on a
``threading.Event`` that the test releases: nothing sleeps. The fixtures
that build them live in ``remote_fixtures``.
"""

from __future__ import annotations

import contextlib
import json
import select
import socket
import ssl
import struct
import threading
from collections.abc import Callable
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from jwt_guard_core.events import SecurityEvent
from jwt_guard_core.keys import key_from_public_key

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


def named(seen: list[SecurityEvent], name: str) -> list[SecurityEvent]:
    return [e for e in seen if e.name == name]


class RawServer:
    """A TCP server on 127.0.0.1 that answers each connection with ``behaviour(conn)``.

    For what a well-behaved HTTP server never does: reset the connection,
    send bytes that are not HTTP, trickle. With ``tls``, each connection is
    wrapped in TLS before its request is read.
    """

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.tls = tls
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
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        try:
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
            conn.recv(65536)
            self.behaviour(conn)
        except OSError:
            pass
        finally:
            conn.close()

    def close(self) -> None:
        # shutdown() wakes the thread blocked in accept(); close() alone does not.
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
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


class KeepAlive:
    """An HTTP/1.1 server behaviour that keeps the connection open between requests.

    Counts requests, so a test can show that several fetches went over one
    pooled connection (``RawServer.connections``).
    """

    def __init__(self, *jwks: dict[str, Any]) -> None:
        body = json.dumps({"keys": list(jwks)}).encode()
        self.response = (
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        self.requests = 0

    def __call__(self, conn: socket.socket) -> None:
        conn.settimeout(WAIT)
        while True:
            self.requests += 1
            conn.sendall(self.response)
            if not conn.recv(65536):
                return


def http_response(
    body: bytes = b"", *, status: str = "200 OK", headers: dict[str, str] | None = None
) -> bytes:
    """The bytes of an HTTP/1.1 response that closes its connection."""
    fields = {"Content-Type": JSON, "Content-Length": str(len(body)), "Connection": "close"}
    fields.update(headers or {})
    head = f"HTTP/1.1 {status}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields.items())
    return head.encode() + b"\r\n" + body


class Send:
    """Answer every connection with the same bytes, at once.

    Unlike the werkzeug server, it allocates nothing per request, so a test
    can measure the client's memory (tracemalloc counts every thread).
    """

    def __init__(self, response: bytes) -> None:
        self.response = response

    def __call__(self, conn: socket.socket) -> None:
        conn.sendall(self.response)


class Trickle:
    """Send ``response`` slowly: ``at_once`` bytes, then one byte per ``interval`` seconds.

    Between bytes it watches the connection, so it sees the client hang up
    (``hung_up``) the moment it does; ``sent`` counts what went out, and
    ``finished`` says everything did. ``stop()`` ends it early (teardown).
    """

    def __init__(self, response: bytes, *, interval: float = 0.1, at_once: int = 0) -> None:
        self.response = response
        self.interval = interval
        self.at_once = at_once
        self.sent = 0
        self.hung_up = threading.Event()
        self.finished = threading.Event()
        self._stop = threading.Event()

    def __call__(self, conn: socket.socket) -> None:
        try:
            conn.sendall(self.response[: self.at_once])
            self.sent = self.at_once
            for index in range(self.at_once, len(self.response)):
                readable, _, _ = select.select([conn], [], [], self.interval)
                # The request was read already: anything readable now is the end.
                if readable and not conn.recv(1):
                    raise ConnectionResetError("the client hung up")
                if self._stop.is_set():
                    return
                conn.sendall(self.response[index : index + 1])
                self.sent += 1
        except OSError:
            self.hung_up.set()
            return
        self.finished.set()

    def stop(self) -> None:
        self._stop.set()


class InTurn:
    """Answer the first connection with the first behaviour, the second with the next..."""

    def __init__(self, *behaviours: Callable[[socket.socket], None]) -> None:
        self.behaviours = list(behaviours)

    def __call__(self, conn: socket.socket) -> None:
        self.behaviours.pop(0)(conn)
