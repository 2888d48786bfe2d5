"""One document fetch (a GET, its redirects, its body) as decisions without I/O.

In the manner of h11: an :class:`Exchange` is told what arrived (a
response head, raw body bytes, a transport error) and says what happens
next (follow a redirect, read the body, done) or what went wrong; it never
touches a socket. The sync and async transports in
:mod:`jwt_guard_core._remote_transport` are short loops that perform the
requests it asks for, so both paths make every decision in this one place:
the time budget, redirects, 304s, status, content type, declared length,
content encoding and the size cap.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ._remote_decode import ACCEPT_ENCODING, BoundedDecoder
from ._remote_policy import (
    MAX_REDIRECTS,
    FetchError,
    check_content_type,
    check_redirect,
    retry_after_seconds,
)

__all__ = ["DISCOVERY_ACCEPT", "JWKS_ACCEPT", "Exchange", "Request", "Response", "Step"]

JWKS_ACCEPT = "application/jwk-set+json, application/json;q=0.9"
DISCOVERY_ACCEPT = "application/json"
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# The redirects that keep the method and body (RFC 9110 15.4.8, 15.4.9).
_METHOD_KEEPING_REDIRECTS = frozenset({307, 308})


@dataclass(frozen=True)
class Request:
    """A request to send, and how much of the exchange's time budget is left for it."""

    url: str
    headers: Mapping[str, str]
    remaining: float
    method: str = "GET"
    content: bytes | None = None


@dataclass(frozen=True)
class Response:
    """A fetched document: a 200 with its decoded body, or a 304 to a conditional request."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    url: str
    sent_etag: str | None


class Step(enum.Enum):
    """What the transport does after a response head."""

    REDIRECT = "send the next request"
    BODY = "read the raw body into receive_data, then take result()"
    DONE = "take result(); there is no body to read"


class Exchange:
    """The decisions of one GET of ``url`` (or a POST of ``content``), redirects and body included.

    ``timeout`` is a hard deadline for the whole exchange, measured on
    ``monotonic`` (real time: network timeouts are not on the injected
    clock): every request gets only what is left of it, and the transport
    cuts the connection when it runs out.
    """

    def __init__(
        self,
        url: str,
        *,
        etag: str | None,
        accept: str,
        timeout: float,
        max_bytes: int,
        allow_http: bool,
        monotonic: Callable[[], float] = time.monotonic,
        method: str = "GET",
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        check_type: Callable[[str | None], None] = check_content_type,
    ) -> None:
        self.url = url
        self._method = method
        self._content = content
        self._extra_headers = dict(headers or {})
        self._check_type = check_type
        self._etag = etag
        self._accept = accept
        self._max_bytes = max_bytes
        self._allow_http = allow_http
        self._monotonic = monotonic
        self.deadline = monotonic() + timeout
        self._requests = 0
        self._headers: Mapping[str, str] = {}
        self._decoder: BoundedDecoder | None = None
        self._result: Response | None = None

    def remaining(self) -> float:
        """Seconds left of the time budget (never negative)."""
        return max(0.0, self.deadline - self._monotonic())

    def next_request(self) -> Request:
        """The request to send now, or :class:`FetchError` when none may be sent."""
        if self._requests > MAX_REDIRECTS:
            raise FetchError("too_many_redirects", f"more than {MAX_REDIRECTS} redirects")
        remaining = self.remaining()
        if remaining <= 0:
            raise FetchError("timeout", "the time budget ran out")
        self._requests += 1
        headers = {"Accept": self._accept, "Accept-Encoding": ACCEPT_ENCODING}
        headers.update(self._extra_headers)
        if self._etag is not None:
            headers["If-None-Match"] = self._etag
        return Request(self.url, headers, remaining, self._method, self._content)

    def receive_head(self, status: int, headers: Mapping[str, str]) -> Step:
        """Decide on a response's status line and headers.

        A redirect is followed to the same origin only; a 304 to a
        conditional request is the result; anything else must be a 200
        declared as JSON, no larger than the cap, in a coding we decode.
        """
        if status in _REDIRECT_STATUSES:
            if self._method != "GET" and status not in _METHOD_KEEPING_REDIRECTS:
                # 301/302/303 turn a POST into a GET without its body: the
                # answer would be to another request than the one we made.
                raise FetchError("redirect_refused", f"HTTP {status} to a {self._method} request")
            self.url = check_redirect(
                self.url, headers.get("location"), allow_http=self._allow_http
            )
            return Step.REDIRECT
        if status == 304 and self._etag is not None:
            self._result = Response(304, headers, b"", self.url, self._etag)
            return Step.DONE
        if status != 200:
            raise FetchError(
                "http_status",
                f"HTTP {status}",
                retry_after=retry_after_seconds(headers.get("retry-after")),
            )
        self._check_type(headers.get("content-type"))
        length = headers.get("content-length")
        if length is not None and length.strip().isdigit() and int(length) > self._max_bytes:
            raise FetchError(
                "too_large", f"the response is {int(length)} bytes; the limit is {self._max_bytes}"
            )
        self._headers = headers
        self._decoder = BoundedDecoder(headers.get("content-encoding"), self._max_bytes)
        return Step.BODY

    def receive_data(self, raw: bytes) -> None:
        """Take the next chunk of the raw (still encoded) body."""
        assert self._decoder is not None, "receive_data before a head that asked for the body"
        self._decoder.feed(raw)
        if self._monotonic() > self.deadline:
            raise FetchError("timeout", "the body did not arrive in time")

    def result(self) -> Response:
        """The fetched document, once the head (and body, if asked for) was received."""
        if self._result is None:
            assert self._decoder is not None, "result before a response head"
            body = self._decoder.finish()
            self._result = Response(200, self._headers, body, self.url, self._etag)
        return self._result

    def failed(self, error: FetchError, *, in_transport: bool = False) -> FetchError:
        """What went wrong, with the URL it happened at.

        ``in_transport``: the error came from the network (a reset, a read
        that ended). After the deadline that is the deadline's doing (the
        transport cut the connection), so it is a ``timeout``.
        """
        if in_transport and self._monotonic() >= self.deadline:
            error = FetchError("timeout", f"the time budget ran out ({error.message})")
        if error.url is None:
            error.url = self.url
        return error
