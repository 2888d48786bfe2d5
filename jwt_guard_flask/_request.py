"""One request's authentication: find the token, CSRF, verify, scopes, user.

The sync and async paths share every decision; they differ only in how
the user loader is called (an ``async def`` loader is awaited in async
views). The outcome is kept on ``flask.g`` so that a blueprint guard and a
view decorator on the same request verify the token once.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

from flask import current_app, g, has_app_context, request

from jwt_guard_core import TokenError, VerifiedToken, events
from jwt_guard_core.http import ExtractedToken, check_scopes, extract_token

from ._sessions import verify_limited
from ._state import AppState, current_state
from .config import LOCATION_ALIASES
from .csrf import check_csrf
from .errors import JWTGuardHTTPException, http_error
from .signals import token_rejected, token_verified

__all__ = [
    "EXEMPT_ATTRIBUTE",
    "aauthenticate",
    "authenticate",
    "deferred_cookie_error",
    "enforce_scopes",
    "normalize_locations",
]

logger = logging.getLogger("jwt_guard.flask")

_TOKEN_ATTR = "_jwt_guard_token"  # noqa: S105 - a flask.g attribute name, not a secret
_USER = "_jwt_guard_user"
_OUTCOMES = "_jwt_guard_outcomes"
_COOKIE_ERROR = "_jwt_guard_cookie_error"
#: Set by :func:`jwt_guard_flask.decorators.jwt_exempt` on a view function.
EXEMPT_ATTRIBUTE = "jwt_exempt"


def normalize_locations(locations: Iterable[str] | str | None) -> tuple[str, ...] | None:
    """Validate a decorator's ``locations`` at decoration time (a typo fails at import)."""
    if locations is None:
        return None
    items = (locations,) if isinstance(locations, str) else tuple(locations)
    result: list[str] = []
    for item in items:
        location = LOCATION_ALIASES.get(item.lower()) if isinstance(item, str) else None
        if location is None:
            raise ValueError(f"unknown token location {item!r}; use 'header' and/or 'cookie'")
        if location not in result:
            result.append(location)
    if not result:
        raise ValueError("locations is empty; give 'header' and/or 'cookie'")
    return tuple(result)


def _send(signal: Any, **kwargs: Any) -> None:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    for receiver in signal.receivers_for(app):
        try:
            receiver(app, **kwargs)
        except Exception:
            logger.exception("jwt-guard signal receiver %r failed", receiver)


def _reject(
    state: AppState, error: TokenError | None, *, emit: bool, level: int = logging.INFO
) -> JWTGuardHTTPException:
    exc = http_error(error, realm=state.settings.realm)
    if emit and error is not None:
        events.emit("token_rejected", level=level, reason=error.reason, status=error.status)
    _send(token_rejected, reason=exc.reason, error=error)
    return exc


def _begin(state: AppState, locations: tuple[str, ...]) -> ExtractedToken | None:
    """Find the token and apply CSRF: everything before verification."""
    settings = state.settings
    try:
        found = extract_token(
            authorization=request.headers.get("Authorization"),
            cookies=request.cookies,
            locations=locations,
            header_types=settings.header_types,
            cookie_name=settings.cookie_name,
        )
    except TokenError as exc:
        raise _reject(state, exc, emit=True) from None
    if found is None:
        return None
    refusal = check_csrf(request, found.location, settings)
    if refusal is not None:
        _send(token_rejected, reason="csrf_failed", error=None)
        raise refusal
    return found


def _cached(locations: tuple[str, ...]) -> tuple[bool, Any]:
    outcomes: dict[tuple[str, ...], Any] = g.setdefault(_OUTCOMES, {})
    if locations in outcomes:
        return True, outcomes[locations]
    return False, None


def _store(locations: tuple[str, ...], outcome: Any) -> None:
    g.setdefault(_OUTCOMES, {})[locations] = outcome


def _replay(outcome: Any, optional: bool, state: AppState) -> VerifiedToken | None:
    if isinstance(outcome, JWTGuardHTTPException):
        raise outcome
    if outcome is None and not optional:
        raise http_error(None, realm=state.settings.realm)
    return outcome  # type: ignore[no-any-return]


def _user_missing(state: AppState) -> JWTGuardHTTPException:
    error = TokenError("no user matches the token", reason="user_not_found")
    return _reject(state, error, emit=True, level=logging.WARNING)


def _verify(state: AppState, where: tuple[str, ...]) -> VerifiedToken | None:
    found = _begin(state, where)
    if found is None:
        return None
    # Async views use this sync path too: Flask runs an async view in an
    # event loop of its own that ends with the request, on the request's
    # thread. Blocking it blocks nothing else, while an async HTTP client or
    # a background key refresh bound to that loop would outlive it.
    try:
        return verify_limited(state.verifier, found.token)
    except TokenError as exc:
        # The verifier has already emitted the security event.
        rejection = _reject(state, exc, emit=False)
        if found.location == "cookie" and _exempt():
            g.setdefault(_COOKIE_ERROR, exc)
            return None
        raise rejection from None


def _exempt() -> bool:
    """Whether this request's view works whatever state the access cookie is in.

    The one place that decides whether a failed access-token cookie stops
    the request (see :func:`jwt_guard_flask.decorators.jwt_exempt`): a
    ``jwt_exempt`` view sees no token and finds the failure with
    :func:`deferred_cookie_error`. A bad header token, or a cookie without
    CSRF proof, is refused everywhere.
    """
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    return getattr(view, EXEMPT_ATTRIBUTE, False) is True


def deferred_cookie_error() -> TokenError | None:
    """Why the access cookie failed verification on this ``jwt_exempt`` view, else ``None``."""
    error = g.get(_COOKIE_ERROR) if has_app_context() else None
    return error if isinstance(error, TokenError) else None


class _UserStep(NamedTuple):
    loader: Callable[[VerifiedToken], Any]
    token: VerifiedToken


class _Attempt:
    """One authentication of the request, shared by the sync and async entry points.

    Construction replays the outcome already reached for these locations
    (a blueprint guard and a view decorator verify once) or verifies the
    token; only calling the user loader differs between the two paths.
    Every refusal is remembered, so a second check on the request replays it.
    """

    def __init__(self, optional: bool, locations: tuple[str, ...] | None) -> None:
        self.state = current_state()
        self.optional = optional
        self.where = locations or self.state.settings.locations
        self.token: VerifiedToken | None = None
        self.hit, self.outcome = _cached(self.where)
        if not self.hit:
            with self.recording():
                self.token = _verify(self.state, self.where)

    def user_step(self) -> _UserStep | None:
        """The user loader call still to make, or ``None``: no fresh token or no loader.

        Nor for a token whose issuer does not map to local users
        (``JWT_GUARD_USER_ISSUERS``): it has no ``current_user``.
        """
        loader = self.state.guard._user_loader
        if self.hit or self.token is None or loader is None:
            return None
        if not self.state.users.maps(self.token):
            return None
        return _UserStep(loader, self.token)

    @contextmanager
    def recording(self) -> Iterator[None]:
        try:
            yield
        except JWTGuardHTTPException as exc:
            _store(self.where, exc)
            raise

    def set_user(self, user: Any) -> None:
        if user is None:
            raise _user_missing(self.state)
        setattr(g, _USER, user)

    def finish(self) -> VerifiedToken | None:
        if self.hit:
            return _replay(self.outcome, self.optional, self.state)
        token = self.token
        if token is not None:
            _send(token_verified, token=token)
        _store(self.where, token)
        if token is None:
            if self.optional:
                return None
            raise _reject(self.state, None, emit=False)
        setattr(g, _TOKEN_ATTR, token)
        return token


def authenticate(
    *, optional: bool = False, locations: tuple[str, ...] | None = None
) -> VerifiedToken | None:
    """Authenticate the current request. Raises a :class:`JWTGuardHTTPException`."""
    attempt = _Attempt(optional, locations)
    step = attempt.user_step()
    if step is not None:
        with attempt.recording():
            attempt.set_user(current_app.ensure_sync(step.loader)(step.token))
    return attempt.finish()


async def aauthenticate(
    *, optional: bool = False, locations: tuple[str, ...] | None = None
) -> VerifiedToken | None:
    """Like :func:`authenticate`, for async views: an ``async def`` user loader is awaited."""
    attempt = _Attempt(optional, locations)
    step = attempt.user_step()
    if step is not None:
        with attempt.recording():
            user = step.loader(step.token)
            attempt.set_user(await user if inspect.isawaitable(user) else user)
    return attempt.finish()


def enforce_scopes(token: VerifiedToken, scopes: tuple[str, ...], *, any_of: bool) -> None:
    """403 ``insufficient_scope`` (with the ``scope`` parameter) unless ``token`` has them."""
    try:
        check_scopes(token, scopes, any_of=any_of)
    except TokenError as exc:
        raise _reject(current_state(), exc, emit=True) from None


def current_token() -> VerifiedToken | None:
    """The token verified for this request, or ``None``."""
    return g.get(_TOKEN_ATTR) if has_app_context() else None


def current_user() -> Any:
    """The user the loader returned for this request's token, or ``None``."""
    return g.get(_USER) if has_app_context() else None
