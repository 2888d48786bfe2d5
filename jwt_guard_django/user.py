"""``request.user`` for a verified token: a ``TokenUser``, or a Django user (docs/django.md)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import partial
from typing import Any

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


def _read_users() -> users.UserSource:
    # USER_RESOLVER, else the USER_ID_FIELD lookup, else None: a TokenUser.
    try:
        resolver = conf.resolved("user_resolver")
        mapping = conf.parsed.users
    except ConfigurationError as exc:
        raise improperly_configured(exc) from exc
    if resolver is not None and not callable(resolver):
        raise ImproperlyConfigured("JWT_GUARD['USER_RESOLVER'] is not callable")
    field, id_claim = conf.USER_ID_FIELD, conf.USER_ID_CLAIM
    lookup = partial(_lookup, field, id_claim) if field else None
    return users.UserSource(mapping, resolver or lookup, id_claim)


def _lookup(field: str, id_claim: str, token: VerifiedToken) -> Any:
    value = users.id_value(token, id_claim)
    if value is None:
        return None
    model = get_user_model()
    try:
        user = model._default_manager.get(**{field: value})
    except (model.DoesNotExist, ValueError, TypeError, ValidationError):
        # A claim of the wrong shape for the field ("abc" for an integer
        # id) is the same as no such user, never a 500.
        return None
    return users.active(user)


def user_io(token: VerifiedToken) -> TokenUser | Io:
    """The user already (a :class:`TokenUser`), or the call that finds it (``None``: no user).

    A lookup (``USER_RESOLVER``, ``USER_ID_FIELD``) runs in a thread on the async path.
    """
    found: users.UserSource = conf.kept("users", _read_users)
    call = found.finder(token)
    if call is None:
        return TokenUser(token, id_claim=found.id_claim)
    if iscoroutinefunction(call):
        return Io(lambda: async_to_sync(call)(token), partial(call, token))
    return Io(partial(call, token), lambda: sync_to_async(call)(token))


def resolve_user(token: VerifiedToken) -> Any:
    """The user for ``token``, or ``None`` when no usable user matches."""
    found = user_io(token)
    return found.run() if isinstance(found, Io) else found
