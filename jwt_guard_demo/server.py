"""Serve the demo on loopback: ``python -m jwt_guard_demo [--port N] [--data-dir DIR]``.

One process, one thread per request (werkzeug's development server), on
127.0.0.1 only: the demo prints a password and offers buttons that rotate
keys, so it never listens where another machine could reach it. Ctrl-C
stops it and the exit status is 0.
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os
import socket
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TextIO

from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from jwt_guard_core import ConfigurationError

from .app import create_app, get_state
from .data import DEFAULT_DATA_DIR, DemoData, DemoUser, prepare_data_dir

__all__ = ["DEFAULT_PORT", "DemoServer", "check_host", "main", "open_server", "serve"]

DEFAULT_PORT = 8000
EXIT_OK = 0
EXIT_CONFIG = 2


def check_host(host: str) -> str:
    """``host`` if it is a loopback address (or ``localhost``); else ``ConfigurationError``."""
    if host == "localhost":
        return host
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ConfigurationError(
            "--host",
            f"{host!r} is not a loopback address; the demo prints its password and serves "
            "key rotation to anyone who connects, so it listens on 127.0.0.1 or ::1 only",
        )
    return host


def _url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def _not_ready(environ: Any, start_response: Any) -> list[bytes]:  # pragma: no cover
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"starting\n"]


@dataclass
class DemoServer:
    """A bound, not yet serving demo: the socket, the app, its URL and the printed facts."""

    server: BaseWSGIServer
    app: Flask
    url: str
    data: DemoData
    user: DemoUser
    password: str = field(repr=False)

    def banner(self) -> str:
        """What the demo prints at start: where to go, how to log in, where its data lives."""
        return "\n".join(
            [
                "jwt-guard demo: an issuer, a protected API and a page to attack it with.",
                f"  open      {self.url}/",
                f"  user      {self.user.username}",
                f"  password  {self.password}   (new at every start)",
                f"  data      {self.data.root}   (keys and sessions; delete it to start over)",
                "Press Ctrl-C to stop.",
            ]
        )

    def close(self) -> None:
        """Release the socket and stop recording security events."""
        self.server.server_close()
        get_state(self.app).unsubscribe()


def open_server(
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    data_dir: str | os.PathLike[str] | None = None,
    *,
    clock: Callable[[], float] | None = None,
) -> DemoServer:
    """Prepare the data folder, bind ``host:port`` and build the app; serve it yourself.

    Raises :class:`~jwt_guard_core.ConfigurationError` for a host that is
    not loopback or an unusable data folder, :class:`OSError` when the
    port cannot be bound. ``clock`` is for tests.
    """
    check_host(host)
    data = prepare_data_dir(data_dir)
    # Bound first, so that the issuer URL names the real port (port 0 picks one).
    # The socket is ours: werkzeug would exit the process when the port is taken.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.create_server((host, port), family=family) as listener:
        port = listener.getsockname()[1]
        server = make_server(host, port, _not_ready, threaded=True, fd=listener.fileno())
    url = _url(host, port)
    user, password = DemoUser.generate()
    try:
        app = create_app(data, user, issuer=url, clock=clock)
    except BaseException:
        server.server_close()
        raise
    server.app = app
    return DemoServer(server=server, app=app, url=url, data=data, user=user, password=password)


@contextmanager
def _security_events_to(stream: TextIO) -> Iterator[None]:
    """Print jwt-guard's security events on ``stream`` while the demo runs, as an operator's log."""
    logger = logging.getLogger("jwt_guard.security")
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("security event %(levelname)s: %(message)s"))
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def serve(
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    data_dir: str | os.PathLike[str] | None = None,
    *,
    out: TextIO | None = None,
) -> int:
    """Run the demo until Ctrl-C; returns the exit status (0, or 2 when it cannot start).

    ``port=0`` picks a free port (the URL printed names it). ``data_dir``
    defaults to ``./jwt-guard-demo-data``; it is created ``0700``.
    """
    out = out or sys.stdout
    try:
        demo = open_server(host, port, data_dir)
    except ConfigurationError as exc:
        print(f"jwt-guard demo: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except OSError as exc:
        print(f"jwt-guard demo: cannot listen on {_url(host, port)}: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    print(demo.banner(), file=out, flush=True)
    try:
        with _security_events_to(sys.stderr):
            # werkzeug's loop returns when Ctrl-C interrupts it.
            demo.server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        demo.close()
    print("\njwt-guard demo: stopped.", file=out, flush=True)
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m jwt_guard_demo``: parse the options and :func:`serve`."""
    parser = argparse.ArgumentParser(
        prog="python -m jwt_guard_demo",
        description="Serve jwt-guard's local demo: an issuer, a protected API and a page "
        "that logs in, refreshes, rotates keys and sends attack tokens.",
    )
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}; 0 picks one"
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="a loopback address (default 127.0.0.1)"
    )
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help=f"where keys and sessions live (default ./{DEFAULT_DATA_DIR}, created 0700)",
    )
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error(f"--port {args.port} is not a TCP port")
    return serve(args.host, args.port, args.data_dir)
