"""``LocalIssuer``: a real token issuer for tests, with its JWKS and discovery on loopback.

Its keys are made and rotated by the library's own
:class:`~jwt_guard_core.signing.KeyManager` and its tokens signed by
:class:`~jwt_guard_core.signing.TokenIssuer`, so a test exercises the same
key handling and the same token shape (``typ: at+jwt``, ``kid``, ``iss``,
``aud``, ``iat``, ``nbf``, ``exp``, ``jti``) as a service using jwt-guard to
issue. Only the key store differs: it is in memory.

::

    with LocalIssuer() as issuer:                     # ES256, http://127.0.0.1:<port>
        token = issuer.tokens().token(sub="alice", scopes=["orders:read"])
        settings.JWT_GUARD = issuer.django_settings()  # or app.config.update(issuer.flask_config())
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

from ..errors import ConfigurationError
from ..signing import KeyManager, KeyRing, StoredKey, TokenIssuer
from ..signing._crypto import ASYMMETRIC_SIGNING_ALGORITHMS
from ._server import LoopbackServer, Response
from ._settings import KeySourceMode, django_settings, flask_config
from ._store import MemoryKeyStore

if TYPE_CHECKING:
    from .tokens import TokenFactory

__all__ = ["DEFAULT_AUDIENCE", "OFFLINE_ISSUER", "LocalIssuer"]

DEFAULT_AUDIENCE = "https://api.example.test"
# The issuer URL when nothing is served: .invalid never resolves (RFC 6761).
OFFLINE_ISSUER = "https://issuer.invalid"
JWKS_PATH = "/.well-known/jwks.json"
DISCOVERY_PATH = "/.well-known/openid-configuration"
# Test tokens may live up to a day; retired keys stay published that long.
DEFAULT_MAX_LIFETIME = 86400.0


class LocalIssuer:
    """A signing service for tests: keys, a JWKS URL, a discovery URL and a token factory.

    Args:
        algorithm: the signing algorithm: ``ES256`` (default), ``ES384``,
            ``ES512``, ``RS256``, ``PS256`` (3072-bit RSA) or ``EdDSA``.
        audience: the default ``aud`` of tokens and of the settings helpers.
        serve: serve ``/.well-known/jwks.json`` and
            ``/.well-known/openid-configuration`` on 127.0.0.1 (a free port,
            a background thread) until :meth:`close`. ``False`` serves
            nothing; the issuer is then ``https://issuer.invalid`` and
            verifiers get its keys with ``source="static"``.
        port: the port to serve on; ``0`` picks a free one.
        clock: Unix time for tokens and key rotation; ``time.time`` by
            default. A custom clock is also handed to the applications by
            the settings helpers (``CLOCK``), so both sides share one time.
        max_lifetime: the longest lifetime a token may be given (default
            one day).

    The issuer starts having rotated once: its first key was already
    removed from the JWKS, and :meth:`TokenFactory.signed_by_rotated_key`
    signs with it. Use it as a context manager or call :meth:`close`.
    """

    def __init__(
        self,
        *,
        algorithm: str = "ES256",
        audience: str | Sequence[str] = DEFAULT_AUDIENCE,
        serve: bool = True,
        port: int = 0,
        clock: Callable[[], float] | None = None,
        max_lifetime: float | timedelta = DEFAULT_MAX_LIFETIME,
    ) -> None:
        if algorithm not in ASYMMETRIC_SIGNING_ALGORITHMS:
            raise ConfigurationError(
                "algorithm",
                f"{algorithm!r} is not accepted; choose one of "
                f"{', '.join(sorted(ASYMMETRIC_SIGNING_ALGORITHMS))} (a test issuer publishes "
                "its keys, so shared-secret algorithms are not offered)",
            )
        if clock is not None and not callable(clock):
            raise ConfigurationError("clock", "must be a callable returning Unix time in seconds")
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise ConfigurationError("port", f"{port!r} is not a port number (0 picks a free one)")
        self._algorithm = algorithm
        self._custom_clock = clock
        self._clock: Callable[[], float] = clock or time.time
        self._store = MemoryKeyStore()
        self._keys = KeyManager(
            self._store,
            algorithm=algorithm,
            auto_rotate=False,
            max_token_lifetime=max_lifetime,
            clock=self._clock,
        )
        self._removed: list[StoredKey] = []
        self._foreign: KeyManager | None = None
        self._server: LoopbackServer | None = None
        self._url = OFFLINE_ISSUER
        if serve:
            self._server = LoopbackServer(
                {JWKS_PATH: self._jwks_route, DISCOVERY_PATH: self._discovery_route}, port=port
            )
            self._url = self._server.origin
        try:
            # Validates the audience with the issuer's own messages.
            self._signer = TokenIssuer(self._keys, issuer=self._url, audience=audience)
            self._audience = audience
            self._keys.rotate()
            self.rotate(keep_previous=False)
        except BaseException:
            self.close()
            raise

    # -- what a verifier is told

    @property
    def url(self) -> str:
        """The issuer identifier (``iss``): ``http://127.0.0.1:<port>`` when serving."""
        return self._url

    @property
    def jwks_url(self) -> str:
        """Where the JWKS is served (``<url>/.well-known/jwks.json``)."""
        return self._url + JWKS_PATH

    @property
    def discovery_url(self) -> str:
        """The OpenID Connect discovery document (``<url>/.well-known/openid-configuration``)."""
        return self._url + DISCOVERY_PATH

    @property
    def serving(self) -> bool:
        return self._server is not None

    @property
    def algorithm(self) -> str:
        return self._algorithm

    @property
    def audience(self) -> str | Sequence[str]:
        return self._audience

    @property
    def clock(self) -> Callable[[], float]:
        return self._clock

    @property
    def kid(self) -> str:
        """The kid of the key that signs now."""
        return self._keys.active_key().kid

    def jwks(self) -> dict[str, Any]:
        """The public JWKS as served now: the active key and retired keys not yet removed."""
        return self._keys.jwks()

    @property
    def jwks_requests(self) -> int:
        """How many times the JWKS was fetched (to check that an application caches it)."""
        return self._served().count(JWKS_PATH)

    @property
    def discovery_requests(self) -> int:
        """How many times the discovery document was fetched."""
        return self._served().count(DISCOVERY_PATH)

    @contextmanager
    def outage(self, status: int = 503) -> Iterator[None]:
        """Inside the block, the JWKS and discovery routes answer ``status`` (a provider outage).

        An application with no keys cached then answers 503 with
        ``Retry-After``; one with cached keys keeps verifying with them.
        """
        if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
            raise ConfigurationError("status", f"{status!r} is not an HTTP error status")
        server = self._served()
        server.failure = status
        try:
            yield
        finally:
            server.failure = None

    def _served(self) -> LoopbackServer:
        if self._server is None:
            raise ConfigurationError("serve", "this LocalIssuer(serve=False) serves nothing")
        return self._server

    # -- keys

    def rotate(self, *, keep_previous: bool = True) -> str:
        """Sign with a new key from now on; return its kid.

        With ``keep_previous`` (the default) the old key stays published,
        as after a scheduled rotation: tokens it signed still verify. With
        ``keep_previous=False`` every old key leaves the JWKS at once, as
        after an emergency rotation: their tokens fail with ``unknown_kid``.
        A verifier holding a cached JWKS meets the new kid and fetches
        again (the settings helpers turn the refetch cooldown off).
        """
        new = self._keys.rotate()
        if not keep_previous:
            ring = self._store.load()
            gone = [k for k in ring.keys if k.kid != new.kid]
            self._store.remove(k.kid for k in gone)
            self._removed.extend(gone)
        return new.kid

    def _signing_manager(self, which: Literal["active", "removed", "foreign"]) -> KeyManager:
        """The key manager that signs a token: this issuer's, a removed key's or a stranger's."""
        if which == "active":
            return self._keys
        # Same lifetime bound and clock as the issuer's own keys: a variant
        # accepts every argument a valid token does.
        options: dict[str, Any] = {
            "auto_rotate": False,
            "max_token_lifetime": self._keys.max_token_lifetime,
            "clock": self._clock,
        }
        if which == "removed":
            key = self._removed[-1]
            active = replace(key, info=replace(key.info, state="active", retired_at=None))
            store = MemoryKeyStore(KeyRing(keys=(active,), revision=1))
            return KeyManager(store, algorithm=None, **options)
        if self._foreign is None:
            self._foreign = KeyManager(MemoryKeyStore(), algorithm=self._algorithm, **options)
        return self._foreign

    def _active_key(self) -> StoredKey:
        active = self._store.load().active
        assert active is not None  # the constructor created one
        return active

    # -- tokens and settings

    def tokens(self, *, clock: Callable[[], float] | None = None) -> TokenFactory:
        """A :class:`TokenFactory` for this issuer; ``clock`` overrides the issuer's time."""
        from .tokens import TokenFactory

        return TokenFactory(self, clock=clock)

    def django_settings(
        self,
        *,
        audience: str | Sequence[str] | None = None,
        source: KeySourceMode | None = None,
        clock: Callable[[], float] | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """A ``JWT_GUARD`` dict that accepts this issuer's tokens (pytest-django: ``settings``).

        Args:
            audience: this API's audience; the issuer's by default.
            source: ``"jwks"`` (``JWKS_URL``, the default when serving),
                ``"discovery"`` (``OIDC_ISSUER``) or ``"static"`` (the
                current public JWKS as ``VERIFYING_KEY``: no HTTP, but a
                snapshot: apply the settings again after :meth:`rotate`).
            clock: ``CLOCK`` for the verifier; the issuer's clock when it
                was given one.
            extra: more ``JWT_GUARD`` keys, e.g. ``EXPECTED_TYPE="at+jwt"``.
        """
        return django_settings(self, **self._setting_options(audience, source, clock), **extra)

    def flask_config(
        self,
        *,
        audience: str | Sequence[str] | None = None,
        source: KeySourceMode | None = None,
        clock: Callable[[], float] | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """``JWT_GUARD_*`` keys that accept this issuer's tokens, for ``app.config.update``.

        Apply them before ``JWTGuard(app)`` / ``init_app``: the extension
        reads its configuration once. Arguments as for
        :meth:`django_settings`; ``source="static"`` gives ``JWT_GUARD_JWKS``,
        and ``extra`` names are written without the prefix
        (``EXPECTED_TYPE="at+jwt"`` sets ``JWT_GUARD_EXPECTED_TYPE``).
        """
        return flask_config(self, **self._setting_options(audience, source, clock), **extra)

    def _setting_options(
        self,
        audience: str | Sequence[str] | None,
        source: KeySourceMode | None,
        clock: Callable[[], float] | None,
    ) -> dict[str, Any]:
        chosen = source or ("jwks" if self.serving else "static")
        if chosen not in ("jwks", "discovery", "static"):
            raise ConfigurationError(
                "source", f"{chosen!r} is not accepted; give 'jwks', 'discovery' or 'static'"
            )
        if chosen != "static" and not self.serving:
            raise ConfigurationError(
                "source", f"{chosen!r} needs an issuer that serves (LocalIssuer(serve=True))"
            )
        if clock is not None and not callable(clock):
            raise ConfigurationError("clock", "must be a callable returning Unix time in seconds")
        if audience is not None:
            # The issuer's own check: a non-empty string or list of them.
            TokenIssuer(self._keys, issuer=self._url, audience=audience)
        return {
            "audience": audience if audience is not None else self._audience,
            "source": chosen,
            "clock": clock if clock is not None else self._custom_clock,
        }

    # -- the loopback routes

    def _jwks_route(self) -> Response:
        response = self._keys.jwks_response()
        return response.status, response.headers, response.body

    def _discovery_route(self) -> Response:
        document = self._signer.openid_configuration(self.jwks_url)
        body = json.dumps(document, separators=(",", ":")).encode("utf-8")
        return 200, {"Content-Type": "application/json"}, body

    # -- lifetime

    def close(self) -> None:
        """Stop serving (idempotent). Tokens already made stay valid for a static verifier."""
        if self._server is not None:
            self._server.close()

    def __enter__(self) -> LocalIssuer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"LocalIssuer(url={self._url!r}, algorithm={self._algorithm!r})"
