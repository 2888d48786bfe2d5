"""The I/O of a remote key set: perform what an :class:`Exchange` asks for, sync or async.

Each transport owns one pooled httpx client and is a short loop around the
decisions of :mod:`jwt_guard_core._remote_exchange`. Bodies are read raw
(``iter_raw``): decoding is the exchange's, bounded by the size cap.

The time budget is a hard deadline for the whole exchange, redirects
included. httpx timeouts are per operation, so a server that sends one
byte of its headers every second never trips a read timeout (encode/httpx
#1450). The async transport runs the exchange under ``asyncio.wait_for``;
the sync transport gives every request the time remaining and arms a
watchdog that shuts down this client's sockets at the deadline, which
ends the blocked read at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import threading
import weakref
from collections.abc import Iterator
from typing import Any

import httpx

from ._remote_exchange import Exchange, Request, Response, Step
from ._remote_policy import FetchError

__all__ = ["AsyncTransport", "SyncTransport", "Transports"]

# httpcore's trace events that hand over a freshly opened connection.
_CONNECTED = frozenset({"connection.connect_tcp.complete", "connection.start_tls.complete"})


class SyncTransport:
    """One pooled ``httpx.Client``; :meth:`fetch` runs an exchange within its deadline."""

    def __init__(self, options: dict[str, Any]) -> None:
        self._client = httpx.Client(**options)
        # Every socket this client opened, so the watchdog can reach the one
        # in use, whether new or taken from the pool (sockets of finished
        # exchanges are idle then, and the pool drops them once shut).
        self._sockets: weakref.WeakSet[socket.socket] = weakref.WeakSet()
        self._extensions = {"trace": self._trace}

    def fetch(self, exchange: Exchange) -> Response:
        watchdog = threading.Timer(exchange.remaining(), self._cut)
        watchdog.daemon = True
        watchdog.start()
        try:
            with _failures(exchange):
                return self._fetch(exchange)
        finally:
            watchdog.cancel()
            watchdog.join()

    def _fetch(self, exchange: Exchange) -> Response:
        while True:
            request = exchange.next_request()
            with self._client.stream(
                **_arguments(request), extensions=self._extensions
            ) as response:
                step = exchange.receive_head(response.status_code, response.headers)
                if step is Step.REDIRECT:
                    continue
                if step is Step.BODY:
                    for chunk in response.iter_raw():
                        exchange.receive_data(chunk)
                return exchange.result()

    def close(self) -> None:
        self._client.close()

    def _trace(self, event: str, info: dict[str, Any]) -> None:
        if event in _CONNECTED:
            sock = info["return_value"].get_extra_info("socket")
            if isinstance(sock, socket.socket):
                self._sockets.add(sock)

    def _cut(self) -> None:
        for sock in list(self._sockets):
            # The plain socket's shutdown, also for a TLS socket: it wakes the
            # blocked read and sends FIN without touching the TLS state that
            # the reading thread is using.
            with contextlib.suppress(OSError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)


class AsyncTransport:
    """One pooled ``httpx.AsyncClient`` of one event loop; ``wait_for`` bounds :meth:`fetch`."""

    def __init__(self, options: dict[str, Any]) -> None:
        self._client = httpx.AsyncClient(**options)

    async def fetch(self, exchange: Exchange) -> Response:
        with _failures(exchange):
            try:
                return await asyncio.wait_for(self._fetch(exchange), exchange.remaining())
            except asyncio.TimeoutError:
                raise FetchError("timeout", "the time budget ran out") from None

    async def _fetch(self, exchange: Exchange) -> Response:
        while True:
            request = exchange.next_request()
            async with self._client.stream(**_arguments(request)) as response:
                step = exchange.receive_head(response.status_code, response.headers)
                if step is Step.REDIRECT:
                    continue
                if step is Step.BODY:
                    async for chunk in response.aiter_raw():
                        exchange.receive_data(chunk)
                return exchange.result()

    async def aclose(self) -> None:
        await self._client.aclose()


_USER_AGENT = "jwt-guard"


class Transports:
    """The pooled clients of one remote source: one sync, one async per event loop.

    Created on first use; an ``AsyncClient``'s connections belong to the loop
    that opened them, so each loop gets its own, and those of closed loops
    are dropped.
    """

    def __init__(self, *, timeout: float, verify: ssl.SSLContext | bool) -> None:
        self._options: dict[str, Any] = {
            "timeout": httpx.Timeout(timeout),
            "follow_redirects": False,
            "verify": verify,
            "limits": httpx.Limits(max_connections=10, max_keepalive_connections=2),
            "headers": {"User-Agent": _USER_AGENT},
        }
        self.forget()

    def forget(self) -> None:
        """Drop every client without closing it: after a fork, they are the parent's."""
        self._lock = threading.Lock()
        self._sync: SyncTransport | None = None
        self._async: dict[asyncio.AbstractEventLoop, AsyncTransport] = {}

    def sync(self) -> SyncTransport:
        with self._lock:
            if self._sync is None:
                self._sync = SyncTransport(self._options)
            return self._sync

    def for_running_loop(self) -> AsyncTransport:
        loop = asyncio.get_running_loop()
        with self._lock:
            for old in [lp for lp in self._async if lp.is_closed()]:
                del self._async[old]
            transport = self._async.get(loop)
            if transport is None:
                transport = self._async[loop] = AsyncTransport(self._options)
            return transport

    def close(self) -> None:
        """Close the sync client; a later fetch opens a new one."""
        with self._lock:
            transport, self._sync = self._sync, None
        if transport is not None:
            transport.close()

    async def aclose(self) -> None:
        """Close the running loop's async client and the sync client."""
        loop = asyncio.get_running_loop()
        with self._lock:
            atransport = self._async.pop(loop, None)
        if atransport is not None:
            await atransport.aclose()
        self.close()


def _arguments(request: Request) -> dict[str, Any]:
    return {
        "method": request.method,
        "url": request.url,
        "content": request.content,
        "headers": request.headers,
        "timeout": httpx.Timeout(request.remaining),
    }


@contextlib.contextmanager
def _failures(exchange: Exchange) -> Iterator[None]:
    """Every failure of an exchange as the FetchError it means, at the URL it happened."""
    try:
        yield
    except FetchError as exc:
        raise exchange.failed(exc) from None
    except httpx.HTTPError as exc:
        raise exchange.failed(_classify(exc), in_transport=True) from None


def _classify(exc: httpx.HTTPError) -> FetchError:
    """The reason code of an httpx error, for events and ``health()``."""
    if isinstance(exc, httpx.TimeoutException):
        return FetchError("timeout", f"the server did not answer in time ({type(exc).__name__})")
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLError):
            return FetchError("tls_error", f"TLS failed: {cause}")
        cause = cause.__cause__ or cause.__context__
    if isinstance(exc, httpx.ConnectError):
        return FetchError("connect_error", f"cannot connect: {exc}")
    if isinstance(exc, httpx.RemoteProtocolError):
        return FetchError("protocol_error", f"the server broke the HTTP protocol: {exc}")
    if isinstance(exc, httpx.TransportError):
        return FetchError("connection_error", f"the connection failed: {exc}")
    return FetchError("http_error", f"{type(exc).__name__}: {exc}")
