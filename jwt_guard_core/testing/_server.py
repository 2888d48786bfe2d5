"""A loopback HTTP server for the test kit's issuer: the JWKS and the discovery document.

The standard library's ``ThreadingHTTPServer`` on ``127.0.0.1`` and a free
port, in a daemon thread: no web framework is needed to test against a real
key endpoint, and ``RemoteJWKS`` (which allows plain http on loopback only)
fetches from it exactly as it fetches from an identity provider.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["LoopbackServer", "Response"]

# (status, headers, body) for one request path.
Response = tuple[int, Mapping[str, str], bytes]
Routes = Mapping[str, Callable[[], Response]]
_NOT_FOUND: Response = (404, {"Content-Type": "text/plain"}, b"not found")
# How often the serving loop checks for shutdown: close() waits at most this.
_POLL_INTERVAL = 0.01


def _handler(answer: Callable[[str], Response]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "jwt-guard-test-issuer"

        def _answer(self, with_body: bool) -> None:
            status, headers, body = answer(self.path.split("?", 1)[0])
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if with_body:
                self.wfile.write(body)

        def do_GET(self) -> None:
            self._answer(with_body=True)

        def do_HEAD(self) -> None:
            self._answer(with_body=False)

        def log_message(self, format: str, *args: Any) -> None:
            # A test run's output is the test runner's, not an access log.
            return

    return Handler


class LoopbackServer:
    """Serves ``routes`` (path -> response callable) on 127.0.0.1 until :meth:`close`.

    Counts the requests per path, and answers every route with
    ``failure`` (a status) while one is set: a provider outage.
    """

    def __init__(self, routes: Routes, *, port: int = 0) -> None:
        self._routes = routes
        self._counts: Counter[str] = Counter()
        self._mutex = threading.Lock()
        self.failure: int | None = None
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), _handler(self.answer))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": _POLL_INTERVAL},
            name="jwt-guard-test-issuer",
            daemon=True,
        )
        self._thread.start()
        self._closed = False

    def answer(self, path: str) -> Response:
        """The response to a GET or HEAD of ``path``."""
        route = self._routes.get(path)
        if route is None:
            return _NOT_FOUND
        with self._mutex:
            self._counts[path] += 1
        failure = self.failure
        if failure is not None:
            return failure, {"Content-Type": "text/plain"}, b"unavailable"
        return route()

    def count(self, path: str) -> int:
        """How many requests ``path`` has answered, outages included."""
        with self._mutex:
            return self._counts[path]

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:<port>``."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()
