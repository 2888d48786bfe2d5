"""Session settings as plain data: validated once, then opened into the session services.

Both framework adapters read the same settings (``BACKEND``, ``MODE``,
``REFRESH_TOKEN_LIFETIME``, ``RATE_LIMIT`` ...) from their own
configuration and hand them here as a plain mapping, with a ``name_for``
callable that says how the user spells a key
(``JWT_GUARD['SESSIONS']['MODE']`` in Django, ``JWT_GUARD_SESSIONS_MODE``
in Flask), so every :class:`~jwt_guard_core.ConfigurationError` names the
setting to fix::

    settings = SessionsSettings.from_mapping(
        {"BACKEND": "sqlite", "SQLITE_PATH": "/var/lib/app/sessions.db"},
        name_for=lambda key: f"MYAPP_SESSIONS_{key}",
    )
    services = settings.open(access_tokens=token_issuer, emergency_epoch_source=key_manager)
    policy = settings.cookie_policy(refresh_path="/auth/refresh")

Validation happens in two steps, so a start-up check costs no I/O:

1. :class:`SessionsSettings` (``__post_init__``): the delivery mode, the
   flags, and every rule of ``RefreshTokenService``, ``FailureRateLimiter``
   and ``CookiePolicy`` (their rules are not copied here, so they cannot
   drift), checked by building them over an in-memory store;
2. :meth:`SessionsSettings.open`: opens the store ``BACKEND`` names (a
   missing ``SQLITE_PATH`` or ``REDIS_URL`` fails here) and builds the
   services over it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, fields
from datetime import timedelta
from os import PathLike
from typing import Any

from .._naming import NameFor, refuse_unknown_keys, renamed, setting_name
from ..errors import ConfigurationError
from ..settings.schema import SESSIONS_DEFAULTS as _SCHEMA_SESSIONS_DEFAULTS
from .backends import open_async_session_store, open_session_store
from .cookies import CSRF_HEADER, DELIVERY_MODES, CookiePolicy
from .memory import MemorySessionStore
from .ratelimit import FailureRateLimiter
from .refresh import AccessTokenIssuer, RefreshTokenService
from .revocation import REFRESHES_PER_BOUND, RevocationService, check_max_staleness

__all__ = [
    "SESSIONS_DEFAULTS",
    "SessionServices",
    "SessionsSettings",
    "revocation_mirror_problem",
    "sessions_from_settings",
]

#: Every session setting both adapters read (upper-case key) with its default: the schema's.
SESSIONS_DEFAULTS: Mapping[str, Any] = _SCHEMA_SESSIONS_DEFAULTS

# Core parameter names (the services, CookiePolicy) -> the setting a user changes.
_PARAMETER_FIELDS = {
    "lifetime": "refresh_token_lifetime",
    "family_lifetime": "session_lifetime",
    "limit": "rate_limit",
    "window": "rate_limit_window",
    "secure": "cookie_secure",
    "same_site": "cookie_samesite",
    "domain": "cookie_domain",
    "fail_open": "revocation_fail_open",
    "ipv6_prefix": "rate_limit_ipv6_prefix",
    "max_staleness": "revocation_max_staleness",
}

Clock = Callable[[], float]


def _seconds(value: Any) -> Any:
    # Users write timedelta(days=14); the services take seconds.
    return value.total_seconds() if isinstance(value, timedelta) else value


def _never_issued(subject: str, **options: Any) -> str:
    raise RuntimeError("settings validation never issues a token")


@dataclass(frozen=True)
class SessionServices:
    """The session side built from settings: store, refresh tokens, revocation, rate limiter.

    ``limiter`` is ``None`` when ``RATE_LIMIT`` is ``None`` (no limit).
    ``astore`` is the store's async face the services' ``a...`` methods await.
    """

    settings: SessionsSettings
    store: Any
    astore: Any
    refresh_tokens: RefreshTokenService
    revocation: RevocationService
    limiter: FailureRateLimiter | None


@dataclass(frozen=True)
class SessionsSettings:
    """The session side's settings, validated when constructed (no I/O).

    Field names are the lower-case :data:`SESSIONS_DEFAULTS` keys;
    durations are seconds or :class:`~datetime.timedelta`. A bad value
    raises :class:`~jwt_guard_core.ConfigurationError` whose ``setting`` is
    ``name_for(KEY)`` (the field name when ``name_for`` is ``None``).
    """

    backend: Any = SESSIONS_DEFAULTS["BACKEND"]
    sqlite_path: str | PathLike[str] | None = SESSIONS_DEFAULTS["SQLITE_PATH"]
    redis_url: str | None = SESSIONS_DEFAULTS["REDIS_URL"]
    redis_prefix: str = SESSIONS_DEFAULTS["REDIS_PREFIX"]
    mode: str = SESSIONS_DEFAULTS["MODE"]
    refresh_token_lifetime: float | timedelta = SESSIONS_DEFAULTS["REFRESH_TOKEN_LIFETIME"]
    idle_timeout: float | timedelta | None = SESSIONS_DEFAULTS["IDLE_TIMEOUT"]
    session_lifetime: float | timedelta = SESSIONS_DEFAULTS["SESSION_LIFETIME"]
    reuse_interval: float = SESSIONS_DEFAULTS["REUSE_INTERVAL"]
    refresh_cookie: str = SESSIONS_DEFAULTS["REFRESH_COOKIE"]
    cookie_secure: bool = SESSIONS_DEFAULTS["COOKIE_SECURE"]
    cookie_samesite: Any = SESSIONS_DEFAULTS["COOKIE_SAMESITE"]
    cookie_domain: str | None = SESSIONS_DEFAULTS["COOKIE_DOMAIN"]
    revocation_fail_open: bool = SESSIONS_DEFAULTS["REVOCATION_FAIL_OPEN"]
    rate_limit: int | None = SESSIONS_DEFAULTS["RATE_LIMIT"]
    rate_limit_window: float | timedelta = SESSIONS_DEFAULTS["RATE_LIMIT_WINDOW"]
    rate_limit_key: Callable[[Any], str] | None = SESSIONS_DEFAULTS["RATE_LIMIT_KEY"]
    rate_limit_ipv6_prefix: int = SESSIONS_DEFAULTS["RATE_LIMIT_IPV6_PREFIX"]
    key_retention: float | timedelta | None = SESSIONS_DEFAULTS["KEY_RETENTION"]
    revocation_mirror: bool = SESSIONS_DEFAULTS["REVOCATION_MIRROR"]
    revocation_max_staleness: float | timedelta = SESSIONS_DEFAULTS["REVOCATION_MAX_STALENESS"]
    name_for: NameFor | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        with self._naming():
            if self.mode not in DELIVERY_MODES:
                raise ConfigurationError("mode", f"{self.mode!r} is not 'json', 'cookie' or 'both'")
            if not isinstance(self.revocation_fail_open, bool):
                # "False" read from an environment variable is truthy: refuse, never guess.
                raise ConfigurationError(
                    "revocation_fail_open", f"{self.revocation_fail_open!r} is not True or False"
                )
            if self.rate_limit_key is not None and not callable(self.rate_limit_key):
                raise ConfigurationError("rate_limit_key", "give a function(request) -> str")
            problem = revocation_mirror_problem(self.backend, self.revocation_mirror)
            if problem is not None:
                raise ConfigurationError("revocation_mirror", problem)
            check_max_staleness(_seconds(self.revocation_max_staleness))
            # A memory store costs no I/O; the real one is opened by open().
            self._build(MemorySessionStore(), access_tokens=_never_issued, epoch=None, clock=None)
            self.cookie_policy()

    @classmethod
    def from_mapping(
        cls,
        values: Mapping[str, Any],
        *,
        name_for: NameFor | None = None,
        adapter_keys: Collection[str] = (),
    ) -> SessionsSettings:
        """Settings from upper-case keys (:data:`SESSIONS_DEFAULTS`); a missing key has its default.

        ``adapter_keys`` are keys the adapter reads itself (Django's
        ``DATABASE``): accepted and ignored here. Any other unknown key is
        refused: a misspelt one would silently keep a default (a 30-day
        session someone meant to shorten).
        """
        refuse_unknown_keys(values, {*SESSIONS_DEFAULTS, *adapter_keys}, name_for)
        given = {key.lower(): values.get(key, value) for key, value in SESSIONS_DEFAULTS.items()}
        return cls(**given, name_for=name_for)

    def cookie_policy(
        self,
        *,
        refresh_path: str = "/",
        access_cookie: str = "access_token",
        access_path: str = "/",
        csrf_cookie: str = "csrf_token",
        csrf_header: str = CSRF_HEADER,
    ) -> CookiePolicy:
        """The core's :class:`CookiePolicy` with these settings' refresh cookie attributes.

        The other names (access and CSRF cookies, ``refresh_path``, the
        route the refresh cookie is scoped to) are the adapter's.
        """
        with self._naming():
            return CookiePolicy(
                access_cookie=access_cookie,
                refresh_cookie=self.refresh_cookie,
                csrf_cookie=csrf_cookie,
                csrf_header=csrf_header,
                refresh_path=refresh_path,
                access_path=access_path,
                domain=self.cookie_domain,
                secure=self.cookie_secure,
                same_site=self.cookie_samesite,
            )

    def open_store(
        self, *, more: Mapping[str, Callable[[], Any]] | None = None, breaker: Any = None
    ) -> Any:
        """Open the store ``backend`` names; ``more`` adds an adapter's backends by name.

        ``breaker`` is the Redis store's circuit breaker (``None``: its default).
        """
        return open_session_store(
            self.backend,
            sqlite_path=self.sqlite_path,
            redis_url=self.redis_url,
            redis_prefix=str(self.redis_prefix),
            setting=lambda key: self._name(key.lower()),
            more=more,
            breaker=breaker,
        )

    def open(
        self,
        *,
        access_tokens: AccessTokenIssuer | Callable[..., str],
        emergency_epoch_source: Any = None,
        clock: Clock | None = None,
        more: Mapping[str, Callable[[], Any]] | None = None,
        breaker: Any = None,
        amore: Mapping[str, Callable[[Any], Any]] | None = None,
    ) -> SessionServices:
        """Open the store and build the services over it.

        ``access_tokens`` issues the access tokens (a ``TokenIssuer`` or
        ``callable(subject, *, scopes, claims)``); ``emergency_epoch_source``
        (a ``KeyManager`` or a callable) makes an emergency key rotation
        revoke every older token; ``clock`` (Unix time) is every service's;
        ``breaker`` is the Redis store's circuit breaker (the async store shares
        it). ``amore`` gives the async face of an adapter's backend
        (:func:`~jwt_guard_core.sessions.open_async_session_store`).
        """
        store = self.open_store(more=more, breaker=breaker)
        astore = open_async_session_store(
            self.backend,
            store,
            redis_url=self.redis_url,
            redis_prefix=str(self.redis_prefix),
            more=amore,
        )
        with self._naming():
            refresh_tokens, revocation, limiter = self._build(
                store,
                access_tokens=access_tokens,
                epoch=emergency_epoch_source,
                clock=clock,
                astore=astore,
                revocation_store=self._revocation_store(store, clock),
            )
        return SessionServices(
            settings=self,
            store=store,
            astore=astore,
            refresh_tokens=refresh_tokens,
            revocation=revocation,
            limiter=limiter,
        )

    @property
    def mirror_refresh(self) -> float:
        """How often, in seconds, the revocation mirror refreshes: a quarter of its bound."""
        return float(_seconds(self.revocation_max_staleness)) / REFRESHES_PER_BOUND

    # -- helpers

    def _revocation_store(self, store: Any, clock: Clock | None) -> Any:
        """The store revocation is read from: ``store``, or its mirror when turned on."""
        if not self.revocation_mirror:
            return store
        from .revocation_mirror import RedisRevocationMirror

        # CLOCK (tests) measures the staleness too, so a test moves it past
        # the bound instead of sleeping; otherwise the monotonic clock.
        try:
            return RedisRevocationMirror(
                store,
                max_staleness=_seconds(self.revocation_max_staleness),
                monotonic=clock or time.monotonic,
            )
        except ConfigurationError as exc:
            if exc.setting != "store":
                raise
            # A Redis Cluster URL: the mirror setting is the one to change.
            raise ConfigurationError(
                "revocation_mirror", str(exc)[len(exc.setting) + 2 :]
            ) from None

    def _build(
        self,
        store: Any,
        *,
        access_tokens: AccessTokenIssuer | Callable[..., str],
        epoch: Any,
        clock: Clock | None,
        astore: Any = None,
        revocation_store: Any = None,
    ) -> tuple[RefreshTokenService, RevocationService, FailureRateLimiter | None]:
        timing: dict[str, Any] = {"clock": clock} if clock is not None else {}
        timing["astore"] = astore
        revocation = RevocationService(
            store if revocation_store is None else revocation_store,
            emergency_epoch_source=epoch,
            fail_open=self.revocation_fail_open,
            key_retention=_seconds(self.key_retention),
            **timing,
        )
        refresh_tokens = RefreshTokenService(
            store,
            access_tokens=access_tokens,
            revocation=revocation,
            lifetime=_seconds(self.refresh_token_lifetime),
            idle_timeout=_seconds(self.idle_timeout),
            family_lifetime=_seconds(self.session_lifetime),
            reuse_interval=_seconds(self.reuse_interval),
            **timing,
        )
        limiter = None
        if self.rate_limit is not None:
            limiter = FailureRateLimiter(
                store,
                limit=self.rate_limit,
                window=_seconds(self.rate_limit_window),
                ipv6_prefix=self.rate_limit_ipv6_prefix,
                **timing,
            )
        return refresh_tokens, revocation, limiter

    def _name(self, field_name: str) -> str:
        return setting_name(field_name, self.name_for)

    def _naming(self) -> AbstractContextManager[None]:
        return renamed(_FIELDS, _PARAMETER_FIELDS, self.name_for)


_FIELDS = frozenset(f.name for f in fields(SessionsSettings)) - {"name_for"}


def revocation_mirror_problem(backend: Any, mirror: Any) -> str | None:
    """What is wrong with ``REVOCATION_MIRROR`` given ``BACKEND``, or ``None``.

    The mirror copies a Redis store's revocation state; other backends have
    nothing to mirror (memory is already local, SQLite and the Django
    database are read in place).
    """
    if not isinstance(mirror, bool):
        return f"{mirror!r} is not True or False"
    if mirror and backend != "redis":
        return f"mirrors a Redis session store only; the backend is {backend!r}, not 'redis'"
    return None


def sessions_from_settings(
    values: Mapping[str, Any],
    *,
    access_tokens: AccessTokenIssuer | Callable[..., str],
    name_for: NameFor | None = None,
    emergency_epoch_source: Any = None,
    clock: Clock | None = None,
    adapter_keys: Collection[str] = (),
    more: Mapping[str, Callable[[], Any]] | None = None,
    amore: Mapping[str, Callable[[Any], Any]] | None = None,
) -> SessionServices:
    """Translate session settings (:data:`SESSIONS_DEFAULTS` keys) into opened services.

    Validates every setting, then opens the store (a missing
    ``SQLITE_PATH`` or ``REDIS_URL`` fails here). Raises
    :class:`~jwt_guard_core.ConfigurationError` whose ``setting`` is
    ``name_for(KEY)``. See :meth:`SessionsSettings.open` for the rest.
    """
    settings = SessionsSettings.from_mapping(values, name_for=name_for, adapter_keys=adapter_keys)
    return settings.open(
        access_tokens=access_tokens,
        emergency_epoch_source=emergency_epoch_source,
        clock=clock,
        more=more,
        amore=amore,
    )
