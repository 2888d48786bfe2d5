"""What both adapters do to serve the issuing and session sides, written once.

The adapters differ in where their settings come from (Django's lazily read
``JWT_GUARD``, one Flask app's config) and in their request and response
objects; the rest is here: a side built on first use by one thread and
shared (:class:`Shared`, :func:`built_in`), the session side as its routes
and the request authentication use it (:class:`ServedSessions`), and the
readers of what a login grants (:func:`scopes_setting`,
:func:`subject_and_scopes`). Nothing here imports the session side: an app
without sessions never loads it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import TYPE_CHECKING, Any, TypeVar

from .errors import ConfigurationError
from .lazy import Lazy
from .settings import import_object

if TYPE_CHECKING:
    from .sessions import CookiePolicy
    from .settings import GuardSettings
    from .settings.sides import SessionSide
    from .signing import KeyManager, TokenIssuer
    from .signing.settings import Issuing  # noqa: F401 (a string in a base class)
    from .token import VerifiedToken
    from .verifier import Verifier

__all__ = [
    "ServedSessions",
    "Shared",
    "SharedIssuing",
    "async_sessions",
    "built_in",
    "scopes_setting",
    "subject_and_scopes",
]

_T = TypeVar("_T")
_lock = threading.Lock()


class Shared(Lazy[_T]):
    """A :class:`~jwt_guard_core.lazy.Lazy` called for its value; :meth:`aget` for async code."""

    #: The value, built on first use.
    __call__ = Lazy.get

    async def aget(self) -> _T:
        """The value for async code: a first build (opening a store) runs in a worker thread."""
        current = self._value
        return current if current is not None else await asyncio.to_thread(self.get)

    def reset_when(self, name: str) -> Callable[..., None]:
        """A ``receiver(*, setting, **kwargs)`` that resets when the setting ``name`` changes."""

        def receiver(*, setting: str, **kwargs: Any) -> None:
            if setting == name:
                self.reset()

        return receiver


class SharedIssuing(Shared["Issuing"]):
    """The issuing side built once and shared: its key manager and its token issuer."""

    def keys(self) -> KeyManager:
        """The shared :class:`~jwt_guard_core.signing.KeyManager` (JWKS, rotation, key listing)."""
        return self().keys

    def issuer(self) -> TokenIssuer:
        """The shared :class:`~jwt_guard_core.signing.TokenIssuer`; call ``issue_access_token``."""
        return self().issuer


def built_in(extensions: MutableMapping[str, Any], key: str, build: Callable[[], _T]) -> _T:
    """``extensions[key]``, built by ``build()`` on first use by one thread (a Flask app's)."""
    found = extensions.get(key)
    if found is None:
        with _lock:
            found = extensions.get(key)
            if found is None:
                found = extensions[key] = build()
    return found


class ServedSessions:
    """The session side as an adapter serves it: the core's services and the client's key.

    ``remote_address(request)`` is how the framework names the peer; the
    rate-limit key is ``RATE_LIMIT_KEY(request)`` when set, else that
    address (never ``X-Forwarded-For``:
    :func:`jwt_guard_core.sessions.http.client_address`).
    """

    def __init__(self, side: SessionSide, remote_address: Callable[[Any], str | None]) -> None:
        self.side = side
        self._remote_address = remote_address

    store = property(lambda self: self.side.store)
    astore = property(lambda self: self.side.astore)
    revocation = property(lambda self: self.side.revocation)
    refresh_tokens = property(lambda self: self.side.refresh_tokens)
    limiter = property(lambda self: self.side.limiter)
    mode = property(lambda self: self.side.mode)
    clock = property(lambda self: self.side.clock)
    access_max_age = property(lambda self: self.side.access_max_age)

    def client_key(self, request: Any) -> str:
        """The rate-limit key of ``request``."""
        key = self.side.settings.rate_limit_key
        if key is not None:
            return key(request)
        from .sessions.http import client_address

        return client_address(self._remote_address(request))

    def policy_at(self, refresh_path: str, setting: str) -> CookiePolicy:
        """The cookie policy, refresh cookie at ``refresh_path``; a bad path names ``setting``."""
        try:
            return self.side.cookie_policy(refresh_path)
        except ConfigurationError as exc:
            if exc.setting != "refresh_path":
                raise
            raise ConfigurationError(setting, str(exc)[len(exc.setting) + 2 :]) from None

    def verify_function(self, request: Any, verifier: Verifier) -> Callable[[str], VerifiedToken]:
        """``verifier.verify`` behind the failed-verification rate limit, when one is set.

        A token the verifier recalls skips the reservation (``FailureRateLimiter.verify``).
        """
        limiter = self.side.limiter
        if limiter is None:
            return verifier.verify
        client = self.client_key(request)
        return lambda token: limiter.verify(verifier, token, client=client)

    def averify_function(
        self, request: Any, verifier: Verifier
    ) -> Callable[[str], Awaitable[VerifiedToken]]:
        """Like :meth:`verify_function` for ``averify``; the limiter's store is awaited."""
        limiter = self.side.limiter
        if limiter is None:
            return verifier.averify
        client = self.client_key(request)
        return lambda token: limiter.averify(verifier, token, client=client)


def scopes_setting(scopes: Any, setting: str) -> Callable[[Any], tuple[str, ...]]:
    """A login's scopes setting (a list, a function of the user, or its dotted path) as a function.

    Raises ConfigurationError naming ``setting`` for anything else.
    """
    hint = "give a list of scope names or a function(user)"
    if isinstance(scopes, str):
        try:
            scopes = import_object(setting, scopes)
        except ConfigurationError:
            raise ConfigurationError(
                setting, f"cannot import {scopes!r}: {hint} (or its dotted path)"
            ) from None
    if callable(scopes):
        function = scopes
        return lambda user: tuple(function(user) or ())
    if isinstance(scopes, (str, bytes)) or not isinstance(scopes, Iterable):
        raise ConfigurationError(setting, hint)
    listed = scopes
    return lambda user: tuple(listed or ())


def subject_and_scopes(found: Any) -> tuple[str, tuple[str, ...]] | None:
    """What a credentials check answered: ``None``, a subject, or ``(subject, scopes)``.

    Raises TypeError for anything else, so a mistaken check fails loudly.
    """
    if found is None:
        return None
    if isinstance(found, str):
        return found, ()
    if isinstance(found, tuple) and len(found) == 2 and isinstance(found[0], str):
        scopes = found[1]
        if isinstance(scopes, str) or not isinstance(scopes, Iterable):
            raise TypeError("the credentials loader's scopes must be a list of scope names")
        return found[0], tuple(scopes)
    raise TypeError(
        "the credentials loader must return None, a subject string or (subject, scopes)"
    )


def async_sessions(settings: GuardSettings) -> bool:
    """``SESSIONS["ASYNC"]``, read without building the session side (no store is opened)."""
    from .settings.schema import by_name

    row = by_name("sessions.async")
    value = (settings.group("sessions") or {}).get("ASYNC", row.default)
    return bool(row.read(value, settings.nested_name("sessions", "ASYNC")))
