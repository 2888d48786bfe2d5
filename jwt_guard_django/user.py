"""``request.user`` for a verified token (see docs/django.md, "request.user").

A stateless :class:`TokenUser` by default; with ``USER_ID_FIELD`` the Django
user whose field equals the ``USER_ID_CLAIM`` claim; with ``USER_RESOLVER``
what a function of the token returns. Only tokens of an issuer that maps to
local users (``USER_ISSUERS``, :mod:`jwt_guard_core.users`) are looked up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import Any, NamedTuple

from asgiref.sync import async_to_sync, iscoroutinefunction, sync_to_async
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured, ValidationError

from jwt_guard_core import ConfigurationError, VerifiedToken, users
from jwt_guard_core.steps import Io

from .conf import conf, improperly_configured

__all__ = ["TokenUser", "resolve_user", "user_io"]


class TokenUser(users.TokenUser):
    __doc__ = users.TokenUser.__doc__

    def role_permissions(self) -> Mapping[str, Iterable[str]]:
        """``JWT_GUARD["ROLE_PERMISSIONS"]``."""
        try:
            mapping: Mapping[str, Iterable[str]] = conf.parsed.read("role_permissions")
        except ConfigurationError as exc:
            raise ImproperlyConfigured(str(exc)) from exc
        return mapping


class _Users(NamedTuple):
    """How tokens become users under the current settings (read once, kept until they change)."""

    mapping: users.UserMapping
    #: ``USER_RESOLVER``, or the ``USER_ID_FIELD`` lookup, or ``None``: a :class:`TokenUser`.
    find: Callable[[VerifiedToken], Any] | None
    id_claim: str


def _read_users() -> _Users:
    try:
        resolver = conf.resolved("user_resolver")
        mapping = conf.parsed.users
    except ConfigurationError as exc:
        raise improperly_configured(exc) from exc
    if resolver is not None and not callable(resolver):
        raise ImproperlyConfigured("JWT_GUARD['USER_RESOLVER'] is not callable")
    field, id_claim = conf.USER_ID_FIELD, conf.USER_ID_CLAIM
    lookup = partial(_lookup, field, id_claim) if field else None
    return _Users(mapping, resolver or lookup, id_claim)


def _lookup(field: str, id_claim: str, token: VerifiedToken) -> Any:
    value = token.claims.get(id_claim)
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    model = get_user_model()
    try:
        user = model._default_manager.get(**{field: value})
    except (model.DoesNotExist, ValueError, TypeError, ValidationError):
        # A claim of the wrong shape for the field ("abc" for an integer
        # id) is the same as no such user, never a 500.
        return None
    # An account disabled after the token was issued must stop working now,
    # not when the token expires.
    if not getattr(user, "is_active", True):
        return None
    return user


def user_io(token: VerifiedToken) -> TokenUser | Io:
    """The user already (a :class:`TokenUser`), or the call that finds it (``None``: no user).

    A token whose issuer does not map to local users (``USER_ISSUERS``) is
    a :class:`TokenUser`, whatever ``USER_ID_FIELD`` or ``USER_RESOLVER`` say.
    Database lookups run in a thread on the async path.
    """
    found: _Users = conf.kept("users", _read_users)
    call = found.find
    if call is None or not found.mapping.maps(token):
        return TokenUser(token, id_claim=found.id_claim)
    if iscoroutinefunction(call):
        return Io(lambda: async_to_sync(call)(token), partial(call, token))
    return Io(partial(call, token), lambda: sync_to_async(call)(token))


def resolve_user(token: VerifiedToken) -> Any:
    """The user for ``token``, or ``None`` when no usable user matches."""
    found = user_io(token)
    return found.run() if isinstance(found, Io) else found
