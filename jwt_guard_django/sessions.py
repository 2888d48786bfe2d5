"""``JWT_GUARD["SESSIONS"]`` to the core's session services, built once and shared.

Read lazily on first use (a session view, the middleware's rate limit, the
verifier's revocation check, ``jwt_guard_revoke``), built once per process
and rebuilt when ``JWT_GUARD`` changes (``override_settings``). Tokens,
rotation, reuse detection, revocation and cookie attributes are the core's
(:mod:`jwt_guard_core.sessions`); this module only translates settings.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import timedelta
from functools import cached_property
from typing import Any

from django.conf import settings as django_settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.module_loading import import_string

from jwt_guard_core import ConfigurationError, TokenError, VerifiedToken
from jwt_guard_core.sessions import (
    CookiePolicy,
    FailureRateLimiter,
    RefreshTokenService,
    RevocationService,
)
from jwt_guard_core.sessions.backends import open_session_store
from jwt_guard_core.sessions.cookies import DELIVERY_MODES
from jwt_guard_core.sessions.endpoints import SessionEndpoints

from .conf import Settings, conf

__all__ = [
    "SESSIONS_DEFAULTS",
    "Sessions",
    "averify_function",
    "build_sessions",
    "client_key",
    "get_sessions",
    "reset_sessions",
    "sessions_configured",
    "verify_function",
]

#: Every ``JWT_GUARD["SESSIONS"]`` key with its default (docs/django.md lists them).
SESSIONS_DEFAULTS: Mapping[str, Any] = {
    "BACKEND": "sqlite",
    "SQLITE_PATH": None,
    "REDIS_URL": None,
    "REDIS_PREFIX": "jwt_guard:sessions",
    "DATABASE": "default",
    "MODE": "json",
    "SCOPES": (),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=14),
    "IDLE_TIMEOUT": None,
    "SESSION_LIFETIME": timedelta(days=30),
    "REUSE_INTERVAL": 0,
    "REFRESH_COOKIE": "refresh_token",
    "REFRESH_COOKIE_PATH": None,
    "COOKIE_SECURE": True,
    "COOKIE_SAMESITE": "Strict",
    "COOKIE_DOMAIN": None,
    "REVOCATION_FAIL_OPEN": False,
    "RATE_LIMIT": 20,
    "RATE_LIMIT_WINDOW": 60,
    "RATE_LIMIT_KEY": None,
}


def setting_name(key: str) -> str:
    """How errors name a sessions key: ``JWT_GUARD['SESSIONS']['BACKEND']``."""
    return f"JWT_GUARD['SESSIONS'][{key!r}]"


def _seconds(value: Any) -> Any:
    return value.total_seconds() if isinstance(value, timedelta) else value


def _renamed(exc: ConfigurationError, names: Mapping[str, str]) -> ConfigurationError:
    """The core names its parameters; the user needs the settings key to fix."""
    for key, parameter in names.items():
        if exc.setting == parameter:
            return ConfigurationError(setting_name(key), str(exc)[len(exc.setting) + 2 :])
    return exc


def _dotted(key: str, value: Any) -> Any:
    if isinstance(value, str):
        try:
            return import_string(value)
        except ImportError as exc:
            raise ConfigurationError(setting_name(key), f"cannot import {value!r}: {exc}") from None
    return value


def _remote_addr(request: HttpRequest) -> str:
    # REMOTE_ADDR, not X-Forwarded-For: a client sets that header to
    # whatever it likes and would get a fresh budget per request. Behind a
    # proxy, give RATE_LIMIT_KEY a function that reads the trusted hop.
    return str(request.META.get("REMOTE_ADDR") or "unknown")


class Sessions:
    """The session side built from settings: store, refresh service, revocation, limiter."""

    def __init__(self, settings: Settings = conf) -> None:
        raw = settings.raw.get("SESSIONS")
        if not isinstance(raw, Mapping):
            raise ConfigurationError(
                "JWT_GUARD['SESSIONS']", "give a dict of session settings (BACKEND, MODE, ...)"
            )
        unknown = sorted(str(k) for k in raw if k not in SESSIONS_DEFAULTS)
        if unknown:
            # A misspelt key would silently keep a default: refuse it.
            raise ConfigurationError(
                setting_name(unknown[0]),
                f"unknown key; known: {', '.join(sorted(SESSIONS_DEFAULTS))}",
            )
        self._raw = raw
        self._settings = settings
        clock = _dotted("CLOCK", settings.CLOCK) if settings.CLOCK is not None else None
        if clock is not None and not callable(clock):
            raise ConfigurationError("JWT_GUARD['CLOCK']", "must be a callable returning Unix time")
        timing: dict[str, Any] = {"clock": clock} if clock is not None else {}
        self.clock: Callable[[], float] = clock if clock is not None else _time

        self.mode = self.get("MODE")
        if self.mode not in DELIVERY_MODES:
            raise ConfigurationError(
                setting_name("MODE"), f"{self.mode!r} is not 'json', 'cookie' or 'both'"
            )
        self.store = self._store()
        try:
            self.revocation = RevocationService(
                self.store,
                emergency_epoch_source=self._emergency_epoch,
                fail_open=self._flag("REVOCATION_FAIL_OPEN"),
                **timing,
            )
        except ConfigurationError as exc:
            raise _renamed(exc, {"REVOCATION_FAIL_OPEN": "fail_open"}) from None
        names = {
            "REFRESH_TOKEN_LIFETIME": "lifetime",
            "IDLE_TIMEOUT": "idle_timeout",
            "SESSION_LIFETIME": "family_lifetime",
            "REUSE_INTERVAL": "reuse_interval",
        }
        try:
            self.refresh_tokens = RefreshTokenService(
                self.store,
                access_tokens=_issue_access_token,
                revocation=self.revocation,
                **{param: _seconds(self.get(key)) for key, param in names.items()},
                **timing,
            )
        except ConfigurationError as exc:
            raise _renamed(exc, names) from None
        self.limiter: FailureRateLimiter | None = None
        limit = self.get("RATE_LIMIT")
        if limit is not None:
            try:
                self.limiter = FailureRateLimiter(
                    self.store,
                    limit=limit,
                    window=_seconds(self.get("RATE_LIMIT_WINDOW")),
                    **timing,
                )
            except ConfigurationError as exc:
                raise _renamed(
                    exc, {"RATE_LIMIT": "limit", "RATE_LIMIT_WINDOW": "window"}
                ) from None
        key = _dotted("RATE_LIMIT_KEY", self.get("RATE_LIMIT_KEY"))
        if key is not None and not callable(key):
            raise ConfigurationError(setting_name("RATE_LIMIT_KEY"), "give a function(request)")
        self.client_key: Callable[[HttpRequest], str] = key or _remote_addr
        scopes = self.get("SCOPES")
        if isinstance(scopes, str):
            try:
                scopes = import_string(scopes)
            except ImportError:
                raise ConfigurationError(
                    setting_name("SCOPES"),
                    f"cannot import {scopes!r}: give a list of scope names or a "
                    "function(user) (or its dotted path)",
                ) from None
        if not callable(scopes) and (
            isinstance(scopes, (str, bytes)) or not isinstance(scopes, Iterable)
        ):
            raise ConfigurationError(
                setting_name("SCOPES"), "give a list of scope names or a function(user)"
            )
        self._scopes = scopes
        # The cookie policy is validated now, with a placeholder refresh path
        # (the URLconf may not be loaded yet); cookie_policy reads the real one.
        self._policy_options = self._cookie_options()

    def get(self, key: str) -> Any:
        return self._raw.get(key, SESSIONS_DEFAULTS[key])

    def _flag(self, key: str) -> bool:
        value = self.get(key)
        if not isinstance(value, bool):
            raise ConfigurationError(setting_name(key), f"{value!r} is not True or False")
        return value

    def _store(self) -> Any:
        def django_store() -> Any:
            from .store import DjangoSessionStore

            return DjangoSessionStore(using=str(self.get("DATABASE")))

        return open_session_store(
            self.get("BACKEND"),
            sqlite_path=self.get("SQLITE_PATH"),
            redis_url=self.get("REDIS_URL"),
            redis_prefix=str(self.get("REDIS_PREFIX")),
            setting=setting_name,
            more={"django": django_store},
        )

    def _cookie_options(self) -> dict[str, Any]:
        settings = self._settings
        options = {
            "access_cookie": settings.AUTH_COOKIE,
            "access_path": settings.AUTH_COOKIE_PATH,
            "refresh_cookie": self.get("REFRESH_COOKIE"),
            # Django's own CSRF cookie protects cookie requests; the core's
            # double-submit cookie is not set, only named (the names differ).
            "csrf_cookie": getattr(django_settings, "CSRF_COOKIE_NAME", "csrftoken"),
            "secure": self.get("COOKIE_SECURE"),
            "same_site": self.get("COOKIE_SAMESITE"),
            "domain": self.get("COOKIE_DOMAIN"),
        }
        names = {
            "REFRESH_COOKIE": "refresh_cookie",
            "COOKIE_SECURE": "secure",
            "COOKIE_SAMESITE": "same_site",
            "COOKIE_DOMAIN": "domain",
        }
        try:
            CookiePolicy(refresh_path="/", **options)
        except ConfigurationError as exc:
            raise _renamed(exc, names) from None
        return options

    @cached_property
    def cookie_policy(self) -> CookiePolicy:
        """The core's cookie policy; the refresh cookie's path is the refresh route."""
        path = self.get("REFRESH_COOKIE_PATH")
        if path is None:
            try:
                path = reverse("jwt_guard_sessions:refresh")
            except NoReverseMatch:
                raise ConfigurationError(
                    setting_name("REFRESH_COOKIE_PATH"),
                    "include jwt_guard_django.session_urls in your URLconf or set the path",
                ) from None
        try:
            return CookiePolicy(refresh_path=path, **self._policy_options)
        except ConfigurationError as exc:
            raise _renamed(exc, {"REFRESH_COOKIE_PATH": "refresh_path"}) from None

    @property
    def access_max_age(self) -> int | None:
        """The access cookie's ``Max-Age``: the issued tokens' lifetime."""
        from .issuing import ISSUING_DEFAULTS

        issuing = self._settings.raw.get("ISSUING")
        value = ISSUING_DEFAULTS["ACCESS_TOKEN_LIFETIME"]
        if isinstance(issuing, Mapping):
            value = issuing.get("ACCESS_TOKEN_LIFETIME", value)
        value = _seconds(value)
        return int(value) if isinstance(value, (int, float)) else None

    def scopes_for(self, user: Any) -> tuple[str, ...]:
        """The scopes a login of ``user`` is granted (``SESSIONS["SCOPES"]``)."""
        scopes = self._scopes(user) if callable(self._scopes) else self._scopes
        return tuple(scopes or ())

    @cached_property
    def endpoints(self) -> SessionEndpoints:
        """The core's session endpoints over these services.

        Django's own CSRF cookie protects cookie requests, so the core's
        double-submit cookie is left out of the replies.
        """
        return SessionEndpoints(
            refresh_tokens=self.refresh_tokens,
            revocation=self.revocation,
            policy=self.cookie_policy,
            mode=self.mode,
            clock=self.clock,
            access_max_age=self.access_max_age,
            realm=self._settings.REALM,
            limiter=self.limiter,
            csrf_cookie=False,
        )

    @staticmethod
    def _emergency_epoch() -> float | None:
        # Read on every check: an emergency rotation made by another process
        # (or manage.py jwt_guard_rotate_keys --emergency) applies at once.
        if conf.raw.get("ISSUING") is None:
            return None
        from .issuing import get_key_manager

        epoch = get_key_manager().emergency_epoch
        return None if epoch is None else float(epoch)


def _time() -> float:
    import time

    return time.time()


def _issue_access_token(
    subject: str, *, scopes: Iterable[str] = (), claims: Mapping[str, Any] | None = None
) -> str:
    from .issuing import get_token_issuer

    return get_token_issuer().issue_access_token(subject, scopes=scopes, claims=claims)


def build_sessions(settings: Settings = conf) -> Sessions:
    """Translate ``JWT_GUARD["SESSIONS"]``; raises ``ConfigurationError`` naming the key."""
    return Sessions(settings)


_lock = threading.Lock()
_sessions: Sessions | None = None


def sessions_configured() -> bool:
    """Whether ``JWT_GUARD["SESSIONS"]`` is set."""
    return conf.raw.get("SESSIONS") is not None


def get_sessions() -> Sessions:
    """The shared session services for the current settings, built on first use."""
    global _sessions
    current = _sessions
    if current is None:
        with _lock:
            if _sessions is None:
                _sessions = build_sessions()
            current = _sessions
    return current


def reset_sessions() -> None:
    """Forget the shared session services; the next use reads the settings again."""
    global _sessions
    with _lock:
        _sessions = None


@receiver(setting_changed)
def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == "JWT_GUARD":
        reset_sessions()


def client_key(request: HttpRequest) -> str:
    """The rate-limit key of ``request`` (``RATE_LIMIT_KEY``, default the remote address)."""
    return get_sessions().client_key(request)


def verify_function(
    request: HttpRequest, verify: Callable[[str], VerifiedToken]
) -> Callable[[str], VerifiedToken]:
    """``verify`` behind the failed-verification rate limit when ``SESSIONS`` sets one."""
    if not sessions_configured():
        return verify
    sessions = get_sessions()
    limiter = sessions.limiter
    if limiter is None:
        return verify
    client = sessions.client_key(request)

    def limited(token: str) -> VerifiedToken:
        limiter.check(client)
        try:
            return verify(token)
        except Exception as exc:
            _count(limiter, client, exc)
            raise

    return limited


def averify_function(
    request: HttpRequest, averify: Callable[[str], Awaitable[VerifiedToken]]
) -> Callable[[str], Awaitable[VerifiedToken]]:
    """Like :func:`verify_function` for ``averify``; limiter I/O runs in a thread."""
    if not sessions_configured():
        return averify
    sessions = get_sessions()
    limiter = sessions.limiter
    if limiter is None:
        return averify
    client = sessions.client_key(request)

    async def limited(token: str) -> VerifiedToken:
        from asgiref.sync import sync_to_async

        await sync_to_async(limiter.check, thread_sensitive=False)(client)
        try:
            return await averify(token)
        except Exception as exc:
            await sync_to_async(_count, thread_sensitive=False)(limiter, client, exc)
            raise

    return limited


def _count(limiter: FailureRateLimiter, client: str, exc: Exception) -> None:
    if isinstance(exc, TokenError) and limiter.counts(exc):
        limiter.record_failure(client)
