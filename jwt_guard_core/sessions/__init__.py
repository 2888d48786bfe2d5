"""Sessions: refresh tokens with reuse detection, revocation, failure rate limiting, cookies.

::

    store = SQLiteSessionStore("/var/lib/myapp/sessions.db")   # or RedisSessionStore(url)
    sessions = RefreshTokenService(store, access_tokens=token_issuer)
    revocation = RevocationService(store, emergency_epoch_source=key_manager)
    verifier = Verifier(GuardConfig(..., revocation=revocation))
    limiter = FailureRateLimiter(store)

    # or all four from settings, errors naming the setting as the user wrote it:
    services = sessions_from_settings({"BACKEND": "sqlite", "SQLITE_PATH": path},
                                      access_tokens=token_issuer)

    tokens = sessions.issue("user-42", scopes=["orders:read"])     # login
    tokens = sessions.refresh(tokens.refresh_token)                 # rotation
    revocation.revoke_token(verified.claims)                        # logout
    revocation.revoke_subject("user-42"); sessions.revoke_subject("user-42")  # everywhere

    tokens = await sessions.arefresh(tokens.refresh_token)          # the same, in async code

Every operation has a coroutine twin (``aissue``, ``arefresh``, ``arevoke``,
``arevoke_subject``; ``SessionEndpoints.alogin`` ...) making the same
decisions (:mod:`~jwt_guard_core.sessions.steps`) over the store's async
face: :class:`AsyncRedisSessionStore` (redis.asyncio) when given as
``astore=``, else :class:`AsyncSessionStore` (the sync store in a worker
thread; inline for memory).

:class:`RedisSessionStore`, :class:`AsyncRedisSessionStore` and
:class:`RedisRevocationMirror` (revocation answered from memory, kept fresh
by Redis) need the ``redis`` extra and are imported on first use, so this
package works without redis-py installed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .astore import (
    AsyncRateLimitStore,
    AsyncRefreshTokenStore,
    AsyncRevocationStore,
    AsyncSessionStore,
)
from .backends import open_async_session_store, open_session_store
from .cookies import (
    CSRF_HEADER,
    DELIVERY_MODES,
    CookiePolicy,
    CookieSpec,
    SessionReply,
    credentials_error_response,
    find_refresh_token,
    logout_reply,
    request_error_response,
    session_reply,
)
from .endpoints import SessionEndpoints, SessionRequest
from .errors import InvalidRefreshToken, StoreUnavailable
from .listing import FailureCount, RevocationRule, SessionListing
from .memory import MemorySessionStore
from .ratelimit import FailureRateLimiter, RateLimitStore
from .refresh import (
    AccessTokenIssuer,
    FamilyRecord,
    RefreshRecord,
    RefreshTokenService,
    RefreshTokenStore,
    SessionTokens,
    SpendResult,
    hash_refresh_token,
    refresh_error_response,
)
from .revocation import RevocationService, RevocationState, RevocationStore
from .settings import SESSIONS_DEFAULTS, SessionServices, SessionsSettings, sessions_from_settings
from .sqlite import SQLiteSessionStore

if TYPE_CHECKING:
    from .aredis import AsyncRedisSessionStore
    from .redis import RedisSessionStore
    from .revocation_mirror import RedisRevocationMirror

__all__ = [
    "CSRF_HEADER",
    "DELIVERY_MODES",
    "SESSIONS_DEFAULTS",
    "AccessTokenIssuer",
    "AsyncRateLimitStore",
    "AsyncRedisSessionStore",
    "AsyncRefreshTokenStore",
    "AsyncRevocationStore",
    "AsyncSessionStore",
    "CookiePolicy",
    "CookieSpec",
    "FailureCount",
    "FailureRateLimiter",
    "FamilyRecord",
    "InvalidRefreshToken",
    "MemorySessionStore",
    "RateLimitStore",
    "RedisRevocationMirror",
    "RedisSessionStore",
    "RefreshRecord",
    "RefreshTokenService",
    "RefreshTokenStore",
    "RevocationRule",
    "RevocationService",
    "RevocationState",
    "RevocationStore",
    "SQLiteSessionStore",
    "SessionEndpoints",
    "SessionListing",
    "SessionReply",
    "SessionRequest",
    "SessionServices",
    "SessionTokens",
    "SessionsSettings",
    "SpendResult",
    "StoreUnavailable",
    "credentials_error_response",
    "find_refresh_token",
    "hash_refresh_token",
    "logout_reply",
    "open_async_session_store",
    "open_session_store",
    "refresh_error_response",
    "request_error_response",
    "session_reply",
    "sessions_from_settings",
]


def __getattr__(name: str) -> Any:
    if name == "RedisSessionStore":
        from .redis import RedisSessionStore

        return RedisSessionStore
    if name == "AsyncRedisSessionStore":
        from .aredis import AsyncRedisSessionStore

        return AsyncRedisSessionStore
    if name == "RedisRevocationMirror":
        from .revocation_mirror import RedisRevocationMirror

        return RedisRevocationMirror
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
