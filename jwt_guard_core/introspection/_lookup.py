"""The decisions of an introspection source, without I/O.

:class:`IntrospectionState` holds the answer cache (keyed by a digest of the
token, never the token), the discovered endpoint and the failure backoff,
and decides everything an :class:`~.source.IntrospectionSource` does. One
lookup is the generator :meth:`IntrospectionState.lookup`: it yields the
steps to perform (an :class:`Exchange` to send, or a :class:`KeyNeed` for
the key of a signed answer) and is sent each result or thrown its error, as
:class:`~jwt_guard_core._remote_cache.KeySetCache.fetch` is. The sync and
async drivers only perform the steps.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from cachetools import TLRUCache

from .. import events
from .._remote_exchange import DISCOVERY_ACCEPT, Exchange, Response
from .._remote_policy import FetchError, backoff_delay, parse_discovery
from ..errors import AlgorithmNotAllowed, KeySourceUnavailable, UnknownKid
from ..keys import VerificationKey
from ..token import VerifiedToken
from ._response import (
    JSON_MEDIA,
    JWT_MEDIA,
    ResponsePolicy,
    check_json_type,
    check_jwt_type,
    is_active,
    judge,
    open_signed,
    parse_members,
    parse_signed,
)
from .client_auth import ClientAuth
from .errors import IntrospectionUnavailable, TokenInactive

__all__ = ["Entry", "IntrospectionState", "KeyNeed", "LookupOptions", "token_digest"]


@dataclass(frozen=True)
class LookupOptions:
    """The validated options of an IntrospectionSource (see its docstring)."""

    endpoint: str | None
    metadata_url: str | None
    auth: ClientAuth
    signed: bool
    timeout: float
    max_bytes: int
    allow_http: bool
    positive_ttl: float
    negative_ttl: float
    max_entries: int
    token_type_hint: str | None
    clock: Callable[[], float]
    policy: ResponsePolicy


@dataclass(frozen=True)
class Entry:
    """A cached answer: the members of an active token, or ``None`` for an inactive one."""

    members: Mapping[str, Any] | None
    expires_at: float


@dataclass(frozen=True)
class KeyNeed:
    """Step: look up the issuer's key for a signed answer (``get_key``/``aget_key``)."""

    kid: str | None
    alg: str


Step = Exchange | KeyNeed
Lookup = Generator[Step, Any, Entry]


def token_digest(token: str) -> bytes:
    """The cache and single-flight key: a token is never kept, in memory or in a log."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


class IntrospectionState:
    """The cache, endpoint and backoff of one IntrospectionSource, and every decision."""

    def __init__(self, options: LookupOptions) -> None:
        self.options = options
        self._clock = options.clock
        self._cache: TLRUCache[bytes, Entry] = TLRUCache(
            options.max_entries, _expiry, timer=options.clock
        )
        self.endpoint = options.endpoint
        self._failures = 0
        self._next_attempt = -math.inf
        # Leaders of lookups for different tokens run at once; they share the backoff.
        self._backoff_lock = threading.Lock()

    def after_fork(self) -> None:
        self._backoff_lock = threading.Lock()

    # -- the cache (the caller holds the source's lock)

    def cached(self, digest: bytes) -> Entry | None:
        return self._cache.get(digest)

    def store(self, digest: bytes, entry: Entry) -> None:
        if entry.expires_at > self._clock():
            self._cache[digest] = entry

    def check_backoff(self) -> None:
        """Fail fast while the endpoint is in backoff, so an outage is not hammered."""
        wait = self._next_attempt - self._clock()
        if wait > 0:
            raise IntrospectionUnavailable(
                "the introspection endpoint failed recently; retrying after a backoff",
                failure="backoff",
                retry_after=math.ceil(wait),
            )

    def answer(self, entry: Entry) -> VerifiedToken:
        """What a (cached or fresh) answer means now: a VerifiedToken or a TokenError."""
        if entry.members is None:
            raise TokenInactive()
        return judge(entry.members, self.options.policy, self._clock())

    # -- one lookup

    def lookup(self, token: str) -> Lookup:
        """Ask about ``token``: yields the steps to perform, returns the answer to cache."""
        options = self.options
        try:
            endpoint = self.endpoint
            if endpoint is None:
                endpoint = yield from self._discover()
            now = self._clock()
            credentials = options.auth.credentials(endpoint, now)
            form = {"token": token}
            if options.token_type_hint is not None:
                form["token_type_hint"] = options.token_type_hint
            form.update(credentials.fields)
            response: Response = yield self._exchange(
                endpoint,
                accept=JWT_MEDIA if options.signed else JSON_MEDIA,
                method="POST",
                content=urlencode(form).encode("ascii"),
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    **credentials.headers,
                },
                check_type=check_jwt_type if options.signed else check_json_type,
            )
            if options.signed:
                members = yield from self._open(response.body)
            else:
                members = parse_members(response.body)
            entry = self._entry(members, now)
        except FetchError as exc:
            raise self._failed(exc) from None
        with self._backoff_lock:
            self._failures = 0
            self._next_attempt = -math.inf
        return entry

    def _discover(self) -> Generator[Step, Any, str]:
        options = self.options
        assert options.metadata_url is not None
        response: Response = yield self._exchange(options.metadata_url, accept=DISCOVERY_ACCEPT)
        # RFC 8414 section 3.3, like OpenID Connect Discovery 4.3: the
        # document must be for exactly this issuer.
        endpoint = parse_discovery(
            response.body,
            issuer=options.policy.issuer,
            allow_http=options.allow_http,
            member="introspection_endpoint",
        )
        # Kept for the life of the source: an endpoint moves with a deployment.
        self.endpoint = endpoint
        return endpoint

    def _open(self, body: bytes) -> Generator[Step, Any, dict[str, Any]]:
        policy = self.options.policy
        signed = parse_signed(body, policy)
        try:
            key: VerificationKey = yield KeyNeed(signed.kid, signed.alg)
        except (UnknownKid, AlgorithmNotAllowed) as exc:
            raise FetchError(
                "bad_signature", f"no key verifies the response ({exc.reason})"
            ) from None
        except KeySourceUnavailable as exc:
            raise FetchError(
                "response_keys_unavailable",
                "the issuer's keys for the signed response are unavailable",
                retry_after=exc.retry_after,
            ) from None
        return open_signed(signed, key, policy, self._clock())

    def _exchange(self, url: str, *, accept: str, **request: Any) -> Exchange:
        options = self.options
        return Exchange(
            url,
            etag=None,
            accept=accept,
            timeout=options.timeout,
            max_bytes=options.max_bytes,
            allow_http=options.allow_http,
            **request,
        )

    def _entry(self, members: dict[str, Any], now: float) -> Entry:
        options = self.options
        if not is_active(members):
            return Entry(None, now + options.negative_ttl)
        # Cached no longer than the token lives (RFC 7662 section 4: a
        # cached answer outlives a revocation by the cache time at most).
        expires = now + options.positive_ttl
        exp = members.get("exp")
        if isinstance(exp, (int, float)) and not isinstance(exp, bool) and math.isfinite(exp):
            expires = min(expires, float(exp))
        return Entry(members, expires)

    def _failed(self, exc: FetchError) -> IntrospectionUnavailable:
        with self._backoff_lock:
            self._failures += 1
            failures = self._failures
            delay = backoff_delay(failures, hint=exc.retry_after)
            self._next_attempt = self._clock() + delay
        events.emit(
            "introspection_failed",
            level=logging.WARNING,
            reason=exc.reason,
            message=f"token introspection failed: {exc.message}",
            url=exc.url,
            issuer=self.options.policy.issuer,
            failures=failures,
        )
        return IntrospectionUnavailable(
            f"introspection failed: {exc.reason}",
            failure=exc.reason,
            retry_after=math.ceil(delay),
        )


def _expiry(key: bytes, entry: Entry, now: float) -> float:
    return entry.expires_at
