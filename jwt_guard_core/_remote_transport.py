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

Cold start: every key set that verifies with the default trust store
shares one process-wide :class:`ssl.SSLContext` whose CA certificates are
loaded at its first TLS handshake, not when a client is built. Loading
certifi's bundle takes tens of milliseconds, which the first verification
of a process paid even for plain http on loopback, and again for every
client (one sync client and one per event loop, per key set).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import ssl
import sys
import threading
import weakref
from collections.abc import Iterator
from typing import Any

import httpx

from ._remote_exchange import Exchange, Request, Response, Step
from ._remote_policy import FetchError

__all__ = ["AsyncTransport", "SyncTransport", "Transports", "default_tls_context"]

# httpcore's trace events that hand over a freshly opened connection.
_CONNECTED = frozenset({"connection.connect_tcp.complete", "connection.start_tls.complete"})


class _DeferredTrustContext(ssl.SSLContext):
    """A client context with the default trust store, loaded at the first handshake.

    Verification settings are those of ``ssl.create_default_context()``
    from the start (certificates and host names required); only the CA
    certificates wait. Both ways httpx opens TLS pass through here:
    ``wrap_socket`` (sync) and ``wrap_bio`` (async).
    """

    _trust_loaded = False
    _trust_lock = threading.Lock()

    def _load_trust(self) -> None:
        with self._trust_lock:
            if not self._trust_loaded:
                # The CAs httpx would use: SSL_CERT_FILE or SSL_CERT_DIR when
                # set, certifi's bundle otherwise.
                if os.environ.get("SSL_CERT_FILE"):
                    self.load_verify_locations(cafile=os.environ["SSL_CERT_FILE"])
                elif os.environ.get("SSL_CERT_DIR"):
                    self.load_verify_locations(capath=os.environ["SSL_CERT_DIR"])
                else:
                    import certifi

                    self.load_verify_locations(cafile=certifi.where())
                self._trust_loaded = True

    def wrap_socket(self, *args: Any, **kwargs: Any) -> ssl.SSLSocket:
        if not self._trust_loaded:
            self._load_trust()
        return super().wrap_socket(*args, **kwargs)

    def wrap_bio(self, *args: Any, **kwargs: Any) -> ssl.SSLObject:
        if not self._trust_loaded:
            self._load_trust()
        return super().wrap_bio(*args, **kwargs)


_default_context: _DeferredTrustContext | None = None
_default_context_lock = threading.Lock()


def default_tls_context() -> ssl.SSLContext:
    """The process's one TLS context for ``verify=True``; its CAs load at the first handshake."""
    global _default_context
    with _default_context_lock:
        if _default_context is None:
            context = _DeferredTrustContext(ssl.PROTOCOL_TLS_CLIENT)
            # PROTOCOL_TLS_CLIENT already requires a certificate and checks
            # the host name; newer Pythons' create_default_context adds these.
            if sys.version_info >= (3, 13):  # pragma: no cover - depends on the Python
                context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN | ssl.VERIFY_X509_STRICT
            _default_context = context
        return _default_context


def _after_fork_in_child() -> None:
    # A lock held by a parent thread at fork time would stay held forever.
    global _default_context_lock
    _default_context_lock = threading.Lock()
    _DeferredTrustContext._trust_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


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
            # One context for the whole process, CAs loaded on first use:
            # building one per client cost tens of ms at the first fetch.
            "verify": default_tls_context() if verify is True else verify,
            "limits": httpx.Limits(max_connections=10, max_keepalive_connections=2),
            "headers": {"User-Agent": _USER_AGENT},
        }
        self.forget()

    @property
    def options(self) -> dict[str, Any]:
        """The ``httpx`` client options every client of this source is built with."""
        return dict(self._options)

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
