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
from jwt_guard_core.sessions import CookiePolicy, FailureRateLimiter
from jwt_guard_core.sessions.endpoints import SessionEndpoints
from jwt_guard_core.sessions.settings import SESSIONS_DEFAULTS as CORE_DEFAULTS
from jwt_guard_core.sessions.settings import SessionsSettings

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

#: Every ``JWT_GUARD["SESSIONS"]`` key with its default (docs/django.md lists them): the
#: core's, and the Django-only ones read here.
SESSIONS_DEFAULTS: Mapping[str, Any] = {
    **CORE_DEFAULTS,
    "DATABASE": "default",
    "SCOPES": (),
    "REFRESH_COOKIE_PATH": None,
}
_DJANGO_KEYS = ("DATABASE", "SCOPES", "REFRESH_COOKIE_PATH")


def setting_name(key: str) -> str:
    """How errors name a sessions key: ``JWT_GUARD['SESSIONS']['BACKEND']``."""
    return f"JWT_GUARD['SESSIONS'][{key!r}]"


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
    """The session side built from settings: store, refresh service, revocation, limiter.

    Validation and the services are the core's
    (:mod:`jwt_guard_core.sessions.settings`); this class adds the
    ``django`` backend, ``SCOPES``, ``REFRESH_COOKIE_PATH`` and the names.
    """

    def __init__(self, settings: Settings = conf) -> None:
        raw = settings.raw.get("SESSIONS")
        if not isinstance(raw, Mapping):
            raise ConfigurationError(
                "JWT_GUARD['SESSIONS']", "give a dict of session settings (BACKEND, MODE, ...)"
            )
        self._raw = raw
        self._settings = settings
        clock = settings.parsed.clock()
        self.clock: Callable[[], float] = clock if clock is not None else _time
        core = dict(raw)
        for key in _DJANGO_KEYS:
            core.pop(key, None)
        if "RATE_LIMIT_KEY" in core:
            core["RATE_LIMIT_KEY"] = _dotted("RATE_LIMIT_KEY", core["RATE_LIMIT_KEY"])
        self.settings = SessionsSettings.from_mapping(
            core, name_for=setting_name, adapter_keys=_DJANGO_KEYS
        )

        def django_store() -> Any:
            from .store import DjangoSessionStore

            return DjangoSessionStore(using=str(self.get("DATABASE")))

        services = self.settings.open(
            access_tokens=_issue_access_token,
            emergency_epoch_source=self._emergency_epoch,
            clock=clock,
            more={"django": django_store},
        )
        self.mode = self.settings.mode
        self.store = services.store
        self.revocation = services.revocation
        self.refresh_tokens = services.refresh_tokens
        self.limiter: FailureRateLimiter | None = services.limiter
        self.client_key: Callable[[HttpRequest], str] = self.settings.rate_limit_key or _remote_addr
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
        # Django's own CSRF cookie protects cookie requests; the core's
        # double-submit cookie is not set, only named (the names differ).
        # The policy itself is built on first use: the URLconf that gives
        # the refresh path may not be loaded yet.
        self._cookie_names = {
            "access_cookie": settings.AUTH_COOKIE,
            "access_path": settings.AUTH_COOKIE_PATH,
            "csrf_cookie": getattr(django_settings, "CSRF_COOKIE_NAME", "csrftoken"),
        }
        self.settings.cookie_policy(**self._cookie_names)

    def get(self, key: str) -> Any:
        return self._raw.get(key, SESSIONS_DEFAULTS[key])

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
            return self.settings.cookie_policy(refresh_path=path, **self._cookie_names)
        except ConfigurationError as exc:
            if exc.setting != "refresh_path":
                raise
            raise ConfigurationError(
                setting_name("REFRESH_COOKIE_PATH"), str(exc)[len(exc.setting) + 2 :]
            ) from None

    @property
    def access_max_age(self) -> int | None:
        """The access cookie's ``Max-Age``: the issued tokens' lifetime."""
        from .issuing import ISSUING_DEFAULTS

        issuing = self._settings.raw.get("ISSUING")
        value = ISSUING_DEFAULTS["ACCESS_TOKEN_LIFETIME"]
        if isinstance(issuing, Mapping):
            value = issuing.get("ACCESS_TOKEN_LIFETIME", value)
        if isinstance(value, timedelta):
            value = value.total_seconds()
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
