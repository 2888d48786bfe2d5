"""``IntrospectionSource``: verify an opaque access token by asking its issuer (RFC 7662).

Built like :class:`~jwt_guard_core.remote.RemoteJWKS`, for the ways an
authorization server fails in production:

* **One request per token, however many callers.** Threads and tasks that
  present the same uncached token at once share one in-flight request
  ("single flight", keyed by a digest of the token) and wait for it within
  a bound.
* **Answers are cached** by a SHA-256 digest of the token, never the token:
  an active one until the earlier of its ``exp`` and ``positive_ttl``, an
  inactive one for ``negative_ttl``; at most ``max_entries`` of them. A
  cached answer is re-judged on every use, so it expires with the token.
* **An outage is not an invalid token.** A timeout, a refused connection,
  an HTTP error (401 included: that is our credentials, not the token), a
  body that is not a usable answer or a signed answer that does not
  verify is :class:`~.errors.IntrospectionUnavailable`: 503 with
  ``Retry-After``, an ``introspection_failed`` event, and a backoff during
  which uncached tokens fail fast instead of hammering the server.
* **The limits of the JWKS client**: a hard deadline for the whole
  exchange, a size cap on every decoding stage, same-origin redirects that
  keep the method (307/308) only, https except for loopback hosts.

The decisions live in :mod:`._lookup` and :mod:`._response`; the HTTP
exchanges are :mod:`jwt_guard_core._remote_exchange`'s, performed by the
transports of :mod:`jwt_guard_core._remote_transport`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .._remote_exchange import Exchange
from .._remote_policy import check_url
from .._remote_transport import Transports
from ..algorithms import ALGORITHMS, HMAC_ALGORITHMS
from ..config import DEFAULT_LEEWAY, MAX_LEEWAY
from ..errors import ConfigurationError, MalformedToken, TokenTooLarge
from ..keys import KeySource
from ..remote import VerifyOption, _clock, _count, _flag, _Flight, _positive, _ssl_option
from ..steps import Io, adrive, drive, mapped
from ..token import VerifiedToken
from ._lookup import Entry, IntrospectionState, Lookup, LookupOptions, token_digest
from ._response import ResponsePolicy
from .client_auth import ClientSecretBasic, ClientSecretPost, PrivateKeyJWT
from .errors import IntrospectionUnavailable

__all__ = ["IntrospectionSource"]

logger = logging.getLogger("jwt_guard.introspection")

_WAIT_MARGIN = 1.0
# RFC 7662 section 2.1 names these hints; an access token is the default.
DEFAULT_TOKEN_TYPES = ("bearer", "access_token", "urn:ietf:params:oauth:token-type:access_token")
_METADATA = {
    "oauth-authorization-server": "oauth-authorization-server",
    "openid-configuration": "openid-configuration",
}


def _b64token(token: str) -> bool:
    """RFC 6750 section 2.1's b64token: what may follow ``Bearer`` at all."""
    body = token.rstrip("=")
    return bool(body) and all(c.isascii() and (c.isalnum() or c in "-._~+/") for c in body)


# Servers that load the app and then fork workers (gunicorn --preload) would
# otherwise hand every worker the parent's pooled connections, and a lock
# held by a parent thread at fork time would stay held in the child.
_instances: weakref.WeakSet[IntrospectionSource] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for source in list(_instances):
        source._reset_after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


class _Lookup(_Flight):
    """One introspection request in progress and, once done, its answer or failure."""

    def __init__(self) -> None:
        super().__init__()
        self.entry: Entry | None = None
        self.error: IntrospectionUnavailable | None = None
        self.joined = 0


class IntrospectionSource:
    """An issuer's introspection endpoint, asked about tokens that are not JWTs.

    Build one per issuer at start-up and share it (it holds pooled HTTP
    clients). :meth:`verify` and :meth:`averify` return the same
    :class:`~jwt_guard_core.VerifiedToken` the JWT pipeline does: ``claims``
    are the response's members, ``issuer`` the configured issuer,
    ``subject`` its ``sub`` (``None`` when the server sends none; Django
    OAuth Toolkit sends ``username``), ``scopes`` from ``scope``,
    ``algorithm`` ``"introspection"`` and ``kid`` ``None``.

    Args:
        endpoint: the introspection endpoint URL (or use :meth:`from_issuer`).
        issuer: the authorization server's issuer identifier. A response's
            ``iss``, when present, must equal it.
        client_auth: :class:`ClientSecretBasic`, :class:`ClientSecretPost`
            or :class:`PrivateKeyJWT`: how this API authenticates itself.
        audience: this API's identifier(s); an active answer's ``aud`` must
            contain one. Required unless ``verify_audience=False`` (servers
            such as Django OAuth Toolkit send no ``aud`` without RFC 8707
            resource indicators).
        required_claims: members an active answer must have (default
            ``("exp",)``, so that no answer is cached past its token's life).
        token_types: accepted ``token_type`` values, compared
            case-insensitively (default bearer access tokens; a server that
            reports a refresh token as active is refused with ``bad_type``).
        clients: when given, the ``client_id`` of the answer must be one of them.
        response_keys: the issuer's key source (a ``RemoteJWKS`` or
            ``StaticKeySet``). When given, signed answers (RFC 9701,
            ``application/token-introspection+jwt``) are asked for and
            required; their ``aud`` must be ``client_auth.client_id``.
        response_algorithms: the allowlist for signed answers (default every
            asymmetric algorithm).
        max_response_age: how old a signed answer's ``iat`` may be (default 60 s).
        positive_ttl: longest time an active answer is cached (default 60 s;
            it bounds how long a token revoked at the server still works).
            ``0`` disables caching.
        negative_ttl: how long an inactive answer is cached (default 5 s).
        max_entries: largest number of cached answers (default 10000).
        leeway, timeout, max_bytes, allow_http, verify, clock: as for
            ``RemoteJWKS`` (max_bytes default 64 KiB).
        max_token_bytes: longer tokens are refused before any request
            (default 4096).
        token_type_hint: sent with every request (default ``access_token``;
            ``None`` sends none).
    """

    def __init__(
        self,
        endpoint: str | None,
        *,
        issuer: str,
        client_auth: ClientSecretBasic | ClientSecretPost | PrivateKeyJWT,
        audience: str | Sequence[str] | None = None,
        verify_audience: bool = True,
        required_claims: Sequence[str] = ("exp",),
        token_types: Sequence[str] = DEFAULT_TOKEN_TYPES,
        clients: Sequence[str] | None = None,
        response_keys: KeySource | None = None,
        response_algorithms: Sequence[str] | None = None,
        max_response_age: float = 60.0,
        positive_ttl: float = 60.0,
        negative_ttl: float = 5.0,
        max_entries: int = 10_000,
        leeway: float = DEFAULT_LEEWAY,
        timeout: float = 5.0,
        max_bytes: int = 64 * 1024,
        max_token_bytes: int = 4096,
        allow_http: bool = False,
        verify: VerifyOption = True,
        token_type_hint: str | None = "access_token",  # noqa: S107 - an RFC 7662 hint name
        clock: Callable[[], float] = time.time,
        _metadata_url: str | None = None,
    ) -> None:
        allow_http = _flag("allow_http", allow_http)
        if _metadata_url is None:
            problem = check_url(endpoint, allow_http=allow_http)
            if problem is not None:
                raise ConfigurationError("endpoint", problem)
        if not isinstance(issuer, str) or not issuer:
            raise ConfigurationError("issuer", "required: the authorization server's issuer")
        if not isinstance(client_auth, (ClientSecretBasic, ClientSecretPost, PrivateKeyJWT)):
            raise ConfigurationError(
                "client_auth", "give ClientSecretBasic, ClientSecretPost or PrivateKeyJWT"
            )
        verify_audience = _flag("verify_audience", verify_audience)
        audiences = _names("audience", audience) if audience is not None else frozenset()
        if verify_audience and not audiences:
            raise ConfigurationError(
                "audience",
                "required: give this API's identifier, or verify_audience=False for servers "
                "whose answers carry no aud",
            )
        if not verify_audience and audiences:
            raise ConfigurationError("audience", "given while verify_audience=False")
        if response_keys is not None and not isinstance(response_keys, KeySource):
            raise ConfigurationError(
                "response_keys", "give a key source (RemoteJWKS, StaticKeySet)"
            )
        algorithms = (
            frozenset(ALGORITHMS) - HMAC_ALGORITHMS
            if response_algorithms is None
            else _names("response_algorithms", response_algorithms)
        )
        if not algorithms <= frozenset(ALGORITHMS) - HMAC_ALGORITHMS:
            raise ConfigurationError(
                "response_algorithms", "only asymmetric JWS algorithms can sign responses"
            )
        leeway = _positive("leeway", leeway, allow_zero=True)
        if leeway > MAX_LEEWAY:
            raise ConfigurationError("leeway", f"{leeway!r} is over {MAX_LEEWAY:g} seconds")
        if token_type_hint is not None and not isinstance(token_type_hint, str):
            raise ConfigurationError("token_type_hint", "give a string or None")
        self._max_token_bytes = _count("max_token_bytes", max_token_bytes, 16)
        self._issuer = issuer
        self._verify = _ssl_option(verify)
        self._keys = response_keys
        timeout = _positive("timeout", timeout)
        options = LookupOptions(
            endpoint=endpoint if _metadata_url is None else None,
            metadata_url=_metadata_url,
            auth=client_auth,
            signed=response_keys is not None,
            timeout=timeout,
            max_bytes=_count("max_bytes", max_bytes, 1024),
            allow_http=allow_http,
            positive_ttl=_positive("positive_ttl", positive_ttl, allow_zero=True),
            negative_ttl=_positive("negative_ttl", negative_ttl, allow_zero=True),
            max_entries=_count("max_entries", max_entries, 1),
            token_type_hint=token_type_hint,
            clock=_clock(clock),
            policy=ResponsePolicy(
                issuer=issuer,
                audiences=audiences,
                verify_audience=verify_audience,
                required=_names("required_claims", required_claims, allow_empty=True),
                token_types=frozenset(t.lower() for t in _names("token_types", token_types)),
                clients=_names("clients", clients) if clients is not None else None,
                leeway=leeway,
                client_id=client_auth.client_id,
                response_algorithms=algorithms,
                max_response_age=_positive("max_response_age", max_response_age),
            ),
        )
        self._state = IntrospectionState(options)
        # Discovery, the request, and the response keys' own fetch.
        self._wait_bound = timeout * 3 + _WAIT_MARGIN
        self._lock = threading.Lock()
        self._flights: dict[bytes, _Lookup] = {}
        self._transports = Transports(timeout=timeout, verify=self._verify)
        self._tasks: set[asyncio.Task[None]] = set()
        _instances.add(self)

    def _reset_after_fork(self) -> None:
        # Cached answers stay; what belongs to the parent's threads, sockets
        # and event loops is dropped, not closed (the parent still uses it).
        self._lock = threading.Lock()
        self._state.after_fork()
        self._flights = {}
        self._transports.forget()
        self._tasks = set()

    @classmethod
    def from_issuer(
        cls, issuer: str, *, metadata: str = "oauth-authorization-server", **options: Any
    ) -> IntrospectionSource:
        """A source whose endpoint is the ``introspection_endpoint`` of the issuer's metadata.

        ``metadata`` is ``"oauth-authorization-server"`` (RFC 8414: the
        well-known name goes between the host and the issuer's path) or
        ``"openid-configuration"`` (OpenID Connect Discovery: appended to the
        issuer). The document's ``issuer`` must be exactly ``issuer``. It is
        fetched on the first lookup and the endpoint kept for the life of
        the source. ``options`` are those of the constructor.
        """
        allow_http = options.get("allow_http", False) is True
        problem = check_url(issuer, allow_http=allow_http)
        if problem is None and ("?" in issuer or "#" in issuer):
            problem = "an issuer identifier has no query or fragment (RFC 8414 section 2)"
        if problem is not None:
            raise ConfigurationError("issuer", problem)
        if metadata not in _METADATA:
            raise ConfigurationError("metadata", f"give one of {', '.join(_METADATA)}")
        parts = urlsplit(issuer)
        if metadata == "openid-configuration":
            url = issuer.rstrip("/") + "/.well-known/openid-configuration"
        else:
            path = parts.path.rstrip("/")
            url = urlunsplit(
                (
                    parts.scheme,
                    parts.netloc,
                    f"/.well-known/oauth-authorization-server{path}",
                    "",
                    "",
                )
            )
        return cls(None, issuer=issuer, **options, _metadata_url=url)

    @property
    def issuer(self) -> str:
        """The issuer this source answers for."""
        return self._issuer

    @property
    def endpoint(self) -> str | None:
        """The introspection endpoint: as configured, or discovered (``None`` before)."""
        return self._state.endpoint

    # -- verification

    def verify(self, token: str) -> VerifiedToken:
        """Ask the issuer about ``token``; a :class:`VerifiedToken` or a :class:`TokenError`.

        Raises ``TokenInactive`` (401, ``token_inactive``), the claim
        errors of the JWT pipeline (``token_expired``, ``bad_audience``,
        ``bad_issuer``, ``bad_type``, ``invalid_claim``, ``missing_claim``,
        ...), ``MalformedToken``/``TokenTooLarge`` before any request, or
        ``IntrospectionUnavailable`` (503).
        """
        digest = self._digest(token)
        entry, flight, leader = self._begin(digest)
        if entry is None:
            assert flight is not None
            if leader:
                self._lead(flight, token, digest)
            else:
                flight.wait(self._wait_bound)
            entry = self._outcome(flight)
        return self._state.answer(entry)

    async def averify(self, token: str) -> VerifiedToken:
        """Like :meth:`verify`; the request runs on the event loop, never blocking it."""
        digest = self._digest(token)
        entry, flight, leader = self._begin(digest)
        if entry is None:
            assert flight is not None
            if leader:
                # Its own task: a caller cancelled while waiting must not
                # cancel the request other callers are waiting for.
                task = asyncio.get_running_loop().create_task(self._alead(flight, token, digest))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            await flight.wait_async(self._wait_bound)
            entry = self._outcome(flight)
        return self._state.answer(entry)

    def _digest(self, token: str) -> bytes:
        # Garbage is refused before it costs a request.
        if not isinstance(token, str):
            raise MalformedToken("the token is not a string")
        if len(token) > self._max_token_bytes:
            raise TokenTooLarge()
        if not _b64token(token):
            raise MalformedToken("the token is not an RFC 6750 b64token")
        return token_digest(token)

    def _begin(self, digest: bytes) -> tuple[Entry | None, _Lookup | None, bool]:
        """A cached answer, or the request to wait for and whether the caller leads it."""
        with self._lock:
            entry = self._state.cached(digest)
            if entry is not None:
                return entry, None, False
            flight = self._flights.get(digest)
            if flight is not None and time.monotonic() - flight.started < 2 * self._wait_bound:
                flight.joined += 1
                return None, flight, False
            self._state.check_backoff()
            flight = self._flights[digest] = _Lookup()
            return None, flight, True

    def _outcome(self, flight: _Lookup) -> Entry:
        if flight.entry is not None:
            return flight.entry
        error = flight.error
        if error is None:
            raise IntrospectionUnavailable(
                "no answer in time from the request this one waited for", failure="timeout"
            )
        # A fresh exception per caller: one object raised in many threads
        # would share (and garble) its traceback.
        raise IntrospectionUnavailable(
            error.detail, failure=error.failure, retry_after=error.retry_after
        )

    def _end(self, flight: _Lookup, digest: bytes) -> None:
        with self._lock:
            if flight.entry is not None:
                self._state.store(digest, flight.entry)
            if self._flights.get(digest) is flight:
                del self._flights[digest]
        flight.finish(flight.entry is not None)

    # -- the drivers: the shared steps driver performs what a lookup asks for

    def _lead(self, flight: _Lookup, token: str, digest: bytes) -> None:
        lookup: Lookup = self._state.lookup(token)
        try:
            flight.entry = drive(mapped(lookup, self._io))
        except Exception as exc:
            flight.error = _unavailable(exc)
        finally:
            lookup.close()
            self._end(flight, digest)

    async def _alead(self, flight: _Lookup, token: str, digest: bytes) -> None:
        lookup: Lookup = self._state.lookup(token)
        try:
            flight.entry = await adrive(mapped(lookup, self._io))
        except Exception as exc:  # CancelledError is not an Exception: it propagates
            flight.error = _unavailable(exc)
        finally:
            lookup.close()
            self._end(flight, digest)

    def _io(self, step: Any) -> Io:
        if isinstance(step, Exchange):
            return Io(
                lambda: self._transports.sync().fetch(step),
                lambda: self._transports.for_running_loop().fetch(step),
            )
        return Io(
            lambda: self._key_source().get_key(step.kid, step.alg),
            lambda: self._key_source().aget_key(step.kid, step.alg),
        )

    def _key_source(self) -> KeySource:
        assert self._keys is not None, "a key step without response_keys"
        return self._keys

    def close(self) -> None:
        """Close the sync HTTP client (a later lookup opens a new one)."""
        self._transports.close()

    async def aclose(self) -> None:
        """Close this event loop's HTTP client and the sync one."""
        await self._transports.aclose()

    def __repr__(self) -> str:
        return f"IntrospectionSource(issuer={self._issuer!r}, endpoint={self.endpoint!r})"


def _unavailable(exc: Exception) -> IntrospectionUnavailable:
    if isinstance(exc, IntrospectionUnavailable):
        return exc
    # A bug or an unexpected failure: never an accepted token nor a 500.
    logger.error("unexpected error during token introspection", exc_info=exc)
    return IntrospectionUnavailable("introspection failed unexpectedly", failure="internal_error")


def _names(
    setting: str, value: str | Sequence[str] | None, *, allow_empty: bool = False
) -> frozenset[str]:
    items = (value,) if isinstance(value, str) else tuple(value) if value is not None else ()
    if (not items and not allow_empty) or not all(isinstance(v, str) and v for v in items):
        raise ConfigurationError(setting, f"{value!r} is not accepted; give non-empty strings")
    return frozenset(items)
