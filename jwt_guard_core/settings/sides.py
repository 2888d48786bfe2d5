"""The issuing and session sides built from :class:`GuardSettings`, for both adapters.

The adapters used to translate their own spelling into the core's
settings classes and wire the sides together (the sessions' access
tokens come from the issuing side, an emergency key rotation revokes every
older session). That wiring is the same in both, so it lives here; an
adapter only says where its issuing side is (a callable, so it is built
on first use) and adds what only it has (Django's ``django`` backend).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import ConfigurationError
from .loaded import GuardSettings, import_object
from .schema import SESSIONS_DEFAULTS, group_defaults

if TYPE_CHECKING:
    from ..sessions import CookiePolicy, FailureRateLimiter, RefreshTokenService, RevocationService
    from ..sessions.endpoints import SessionEndpoints
    from ..sessions.settings import SessionsSettings
    from ..signing.manager import KeyRevocation
    from ..signing.settings import Issuing, IssuingSettings

__all__ = [
    "RememberedRead",
    "SessionSide",
    "at_most_every",
    "check_issuing",
    "issuing_values",
    "open_issuing",
    "open_sessions",
]

_HINT = {
    "issuing": "add an ISSUING dict with KEY_DIR (or REDIS_URL) and ISSUER",
    "sessions": "add a SESSIONS dict (BACKEND, MODE, ...)",
}


def _values(settings: GuardSettings, group: str) -> Mapping[str, Any]:
    values = settings.group(group)
    if values is None:
        raise ConfigurationError(f"JWT_GUARD[{group.upper()!r}]", f"not configured: {_HINT[group]}")
    return values


def issuing_values(settings: GuardSettings) -> Mapping[str, Any]:
    """The issuing group as ``{KEY: value}``; ConfigurationError when Django has no ``ISSUING``."""
    return _values(settings, "issuing")


def check_issuing(settings: GuardSettings) -> IssuingSettings:
    """Every issuing check that does not open the key store (start-up checks)."""
    from ..signing.settings import validate_issuing_settings

    return validate_issuing_settings(
        issuing_values(settings), name_for=settings.name_for("issuing")
    )


def open_issuing(settings: GuardSettings, *, revocation: KeyRevocation | None = None) -> Issuing:
    """The key manager and token issuer; opens the key store. ``CLOCK`` is theirs too.

    ``revocation`` is the sessions' revocation service when sessions are
    configured: an emergency rotation then denies the removed keys where
    every verifier of the app looks, so a token forged with a leaked key is
    refused at once, whatever ``iat`` it carries.
    """
    from ..signing.settings import issuing_from_settings

    return issuing_from_settings(
        issuing_values(settings),
        name_for=settings.name_for("issuing"),
        clock=settings.clock(),
        revocation=revocation,
        breaker=settings.breaker("redis:keys"),
    )


class RememberedRead:
    """``read``, called again only once ``every`` seconds have passed since its last answer."""

    def __init__(
        self, read: Callable[[], float | None], every: float, monotonic: Callable[[], float]
    ) -> None:
        self._read = read
        self._every = every
        self._monotonic = monotonic
        self._last: tuple[float, float | None] | None = None

    def _fresh(self, now: float) -> tuple[float, float | None] | None:
        last = self._last
        return last if last is not None and now - last[0] < self._every else None

    def __call__(self) -> float | None:
        now = self._monotonic()
        last = self._fresh(now)
        if last is not None:
            return last[1]
        value = self._read()
        self._last = (now, value)
        return value

    def known_emergency_epoch(self) -> tuple[bool, float | None]:
        """``(True, epoch)`` while the last answer is within ``every``: no read, no thread."""
        last = self._fresh(self._monotonic())
        return (True, last[1]) if last is not None else (False, None)


def at_most_every(
    read: Callable[[], float | None], every: float, monotonic: Callable[[], float]
) -> RememberedRead:
    """``read``, called again only once ``every`` seconds have passed since its last answer.

    An error is not remembered: the next call reads again (and fails closed
    if the source is still down). While the last answer is fresh the result
    also tells the async revocation check that it holds the epoch in memory
    (``known_emergency_epoch``), so no worker thread is taken to return it.
    """
    return RememberedRead(read, every, monotonic)


def _issuing_configured(settings: GuardSettings) -> bool:
    group = settings.group("issuing")
    return group is not None and (settings.adapter == "django" or group.get("ISSUER") is not None)


@dataclass
class SessionSide:
    """The session services an adapter serves: store, refresh tokens, revocation, limiter.

    ``cookie_names`` are the adapter's cookie and CSRF names the core's
    :class:`~jwt_guard_core.sessions.CookiePolicy` needs besides the
    session settings; ``access_max_age`` is the issued access tokens'
    lifetime (the access cookie's ``Max-Age``).
    """

    settings: SessionsSettings
    store: Any
    astore: Any
    refresh_tokens: RefreshTokenService
    revocation: RevocationService
    limiter: FailureRateLimiter | None
    clock: Callable[[], float]
    cookie_names: dict[str, Any]
    access_max_age: int | None
    realm: str
    name_for: Callable[[str], str] = field(repr=False)

    @property
    def mode(self) -> str:
        return self.settings.mode

    def cookie_policy(self, refresh_path: str) -> CookiePolicy:
        """The cookie policy with the refresh cookie scoped to ``refresh_path``."""
        return self.settings.cookie_policy(refresh_path=refresh_path, **self.cookie_names)

    def endpoints(self, policy: CookiePolicy, *, csrf_cookie: bool = True) -> SessionEndpoints:
        """The core's session endpoints over these services."""
        from ..sessions.endpoints import SessionEndpoints

        return SessionEndpoints(
            refresh_tokens=self.refresh_tokens,
            revocation=self.revocation,
            policy=policy,
            mode=self.mode,
            clock=self.clock,
            access_max_age=self.access_max_age,
            realm=self.realm,
            limiter=self.limiter,
            csrf_cookie=csrf_cookie,
        )


def open_sessions(
    settings: GuardSettings,
    issuing: Callable[[], Issuing],
    *,
    csrf_cookie: str | None = None,
    more: Mapping[str, Callable[[], Any]] | None = None,
    amore: Mapping[str, Callable[[Any], Any]] | None = None,
) -> SessionSide:
    """Validate the session settings, open the store, build the services.

    ``issuing()`` returns the issuing side (called when a token is issued or
    the emergency epoch is read, never here). ``csrf_cookie`` names the CSRF
    cookie when the adapter has its own (Django's ``csrftoken``); ``more``
    adds backends by name, ``amore`` their async faces. Raises ConfigurationError naming the
    key.
    """
    from ..sessions.settings import SessionsSettings

    values = dict(_values(settings, "sessions"))
    name_for = settings.name_for("sessions")
    key = values.get("RATE_LIMIT_KEY")
    if isinstance(key, str):
        try:
            values["RATE_LIMIT_KEY"] = import_object(name_for("RATE_LIMIT_KEY"), key)
        except ConfigurationError as exc:
            raise ConfigurationError(
                exc.setting, f"{str(exc)[len(exc.setting) + 2 :]}; give a function(request) -> str"
            ) from None
    adapter_keys: Collection[str] = [
        k for k in group_defaults("sessions", settings.adapter) if k not in SESSIONS_DEFAULTS
    ]
    session_settings = SessionsSettings.from_mapping(
        values, name_for=name_for, adapter_keys=adapter_keys
    )
    configured = _issuing_configured(settings)

    def emergency_epoch() -> float | None:
        # Read on every check: an emergency rotation made by another process
        # (a management or flask command) applies at once.
        if not configured:
            return None
        epoch = issuing().keys.emergency_epoch
        return None if epoch is None else float(epoch)

    clock = settings.clock()
    epoch_source: Callable[[], float | None] = emergency_epoch
    if configured and session_settings.revocation_mirror:
        # With the mirror, revocation is promised within the staleness bound,
        # not at once: the key store (a Redis GET, a PKCS#11 read per check
        # otherwise) is read as often as the mirror refreshes.
        epoch_source = at_most_every(
            emergency_epoch,
            session_settings.mirror_refresh,
            clock or time.monotonic,
        )

    def issue_access_token(
        subject: str, *, scopes: Iterable[str] = (), claims: Mapping[str, Any] | None = None
    ) -> str:
        return issuing().issuer.issue_access_token(subject, scopes=scopes, claims=claims)

    services = session_settings.open(
        access_tokens=issue_access_token,
        emergency_epoch_source=epoch_source,
        clock=clock,
        more=more,
        breaker=settings.breaker("redis:sessions"),
        amore=amore,
    )
    cookie_names = {
        "access_cookie": settings.get("cookie_name"),
        "access_path": settings.get("cookie_path"),
        "csrf_cookie": csrf_cookie or settings.get("csrf_cookie_name"),
        "csrf_header": settings.get("csrf_header_name"),
    }
    # The attributes are checked now; the refresh path comes when the routes are known.
    session_settings.cookie_policy(**cookie_names)
    return SessionSide(
        settings=session_settings,
        store=services.store,
        astore=services.astore,
        refresh_tokens=services.refresh_tokens,
        revocation=services.revocation,
        limiter=services.limiter,
        clock=clock or time.time,
        cookie_names=cookie_names,
        access_max_age=settings.seconds_or_none("issuing.access_token_lifetime"),
        realm=str(settings.get("realm")),
        name_for=name_for,
    )
