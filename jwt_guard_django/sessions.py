"""``JWT_GUARD["SESSIONS"]`` to the core's session services, built once and shared.

Read lazily on first use (a session view, the middleware's rate limit, the
verifier's revocation check, ``jwt_guard_revoke``), built once per process
and rebuilt when ``JWT_GUARD`` changes (``override_settings``). Tokens,
rotation, reuse detection, revocation and cookie attributes are the core's
(:mod:`jwt_guard_core.sessions`); this module only translates settings.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterable, Mapping
from functools import cached_property
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings as django_settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from jwt_guard_core import ConfigurationError, VerifiedToken, Verifier
from jwt_guard_core.sessions import AsyncSessionStore, CookiePolicy, FailureRateLimiter
from jwt_guard_core.sessions.endpoints import SessionEndpoints
from jwt_guard_core.sessions.http import client_address
from jwt_guard_core.settings import import_object
from jwt_guard_core.settings.schema import by_name, group_defaults
from jwt_guard_core.settings.sides import SessionSide, open_sessions

from .conf import Settings, conf

__all__ = [
    "SESSIONS_DEFAULTS",
    "Sessions",
    "aget_sessions",
    "async_views",
    "averify_function",
    "build_sessions",
    "client_key",
    "get_sessions",
    "reset_sessions",
    "sessions_configured",
    "verify_function",
]

#: Every ``JWT_GUARD["SESSIONS"]`` key with its default (the core's schema; docs/django.md).
SESSIONS_DEFAULTS: Mapping[str, Any] = group_defaults("sessions", "django")


def _remote_addr(request: HttpRequest) -> str:
    return client_address(request.META.get("REMOTE_ADDR"))


def _orm(call: Callable[[], Any]) -> Awaitable[Any]:
    # The ORM's connections are per thread: Django's thread-sensitive
    # executor keeps them on the thread that owns them (and, in tests, on
    # the test's transaction).
    return sync_to_async(call, thread_sensitive=True)()


def _orm_face(store: Any) -> AsyncSessionStore:
    return AsyncSessionStore(store, offload=_orm)


class Sessions:
    """The session side built from settings: store, refresh service, revocation, limiter.

    Validation, the services and their wiring are the core's
    (:func:`jwt_guard_core.settings.sides.open_sessions`); this class adds
    the ``django`` backend, ``SCOPES``, ``REFRESH_COOKIE_PATH`` and Django's
    own CSRF cookie. The ``django`` backend's async face goes through
    ``sync_to_async(thread_sensitive=True)``.
    """

    def __init__(self, settings: Settings = conf) -> None:
        from .issuing import get_issuing

        parsed = settings.parsed
        self._name = parsed.name_for("sessions")
        self._values = parsed.group("sessions") or {}

        def django_store() -> Any:
            from .store import DjangoSessionStore

            return DjangoSessionStore(using=str(self.get("DATABASE")))

        # Django's own CSRF cookie protects cookie requests; the core's
        # double-submit cookie is not set, only named.
        self.side: SessionSide = open_sessions(
            parsed,
            get_issuing,
            csrf_cookie=getattr(django_settings, "CSRF_COOKIE_NAME", "csrftoken"),
            more={"django": django_store},
            amore={"django": _orm_face},
        )
        self.mode = self.side.mode
        self.clock = self.side.clock
        self.store = self.side.store
        self.astore = self.side.astore
        self.revocation = self.side.revocation
        self.refresh_tokens = self.side.refresh_tokens
        self.limiter: FailureRateLimiter | None = self.side.limiter
        self.client_key: Callable[[HttpRequest], str] = (
            self.side.settings.rate_limit_key or _remote_addr
        )
        self._scopes = self._read_scopes()

    def get(self, key: str) -> Any:
        return self._values.get(key, SESSIONS_DEFAULTS[key])

    def _read_scopes(self) -> Any:
        scopes = self.get("SCOPES")
        hint = "give a list of scope names or a function(user)"
        if isinstance(scopes, str):
            try:
                scopes = import_object(self._name("SCOPES"), scopes)
            except ConfigurationError:
                raise ConfigurationError(
                    self._name("SCOPES"), f"cannot import {scopes!r}: {hint} (or its dotted path)"
                ) from None
        if not callable(scopes) and (
            isinstance(scopes, (str, bytes)) or not isinstance(scopes, Iterable)
        ):
            raise ConfigurationError(self._name("SCOPES"), hint)
        return scopes

    @cached_property
    def cookie_policy(self) -> CookiePolicy:
        """The core's cookie policy; the refresh cookie's path is the refresh route."""
        # Built on first use: the URLconf that gives the refresh path may not
        # be loaded when the settings are read.
        path = self.get("REFRESH_COOKIE_PATH")
        if path is None:
            try:
                path = reverse("jwt_guard_sessions:refresh")
            except NoReverseMatch:
                raise ConfigurationError(
                    self._name("REFRESH_COOKIE_PATH"),
                    "include jwt_guard_django.session_urls in your URLconf or set the path",
                ) from None
        try:
            return self.side.cookie_policy(path)
        except ConfigurationError as exc:
            if exc.setting != "refresh_path":
                raise
            raise ConfigurationError(
                self._name("REFRESH_COOKIE_PATH"), str(exc)[len(exc.setting) + 2 :]
            ) from None

    @property
    def access_max_age(self) -> int | None:
        """The access cookie's ``Max-Age``: the issued tokens' lifetime."""
        return self.side.access_max_age

    def scopes_for(self, user: Any) -> tuple[str, ...]:
        """The scopes a login of ``user`` is granted (``SESSIONS["SCOPES"]``)."""
        scopes = self._scopes(user) if callable(self._scopes) else self._scopes
        return tuple(scopes or ())

    @cached_property
    def endpoints(self) -> SessionEndpoints:
        """The core's session endpoints; Django's CSRF cookie, not the core's, is used."""
        return self.side.endpoints(self.cookie_policy, csrf_cookie=False)


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


async def aget_sessions() -> Sessions:
    """:func:`get_sessions` for async code: the first build (opening the store) runs in a thread."""
    current = _sessions
    if current is not None:
        return current
    return await asyncio.to_thread(get_sessions)


def async_views() -> bool:
    """``SESSIONS["ASYNC"]``: whether :mod:`~jwt_guard_django.session_urls` serves async views.

    Read without building the session services (no store is opened).
    """
    parsed = conf.parsed
    values = parsed.group("sessions") or {}
    row = by_name("sessions.async")
    return bool(row.read(values.get("ASYNC", row.default), parsed.nested_name("sessions", "ASYNC")))


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


def _limit(request: HttpRequest) -> tuple[FailureRateLimiter, str] | None:
    """The failed-verification limiter and ``request``'s client key, when ``SESSIONS`` sets one."""
    if not sessions_configured():
        return None
    sessions = get_sessions()
    limiter = sessions.limiter
    return None if limiter is None else (limiter, sessions.client_key(request))


def verify_function(request: HttpRequest, verifier: Verifier) -> Callable[[str], VerifiedToken]:
    """``verifier.verify`` behind the failed-verification rate limit when ``SESSIONS`` sets one.

    A token the verifier recalls skips the reservation (``FailureRateLimiter.verify``).
    """
    found = _limit(request)
    if found is None:
        return verifier.verify
    limiter, client = found
    return lambda token: limiter.verify(verifier, token, client=client)


def averify_function(
    request: HttpRequest, verifier: Verifier
) -> Callable[[str], Awaitable[VerifiedToken]]:
    """Like :func:`verify_function` for ``averify``; the limiter's store is awaited."""
    found = _limit(request)
    if found is None:
        return verifier.averify
    limiter, client = found
    return lambda token: limiter.averify(verifier, token, client=client)
