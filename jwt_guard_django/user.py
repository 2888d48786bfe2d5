"""``request.user`` for a verified token.

By default a stateless :class:`TokenUser` built from the claims: no database
read per request. With ``USER_ID_FIELD`` the Django user whose field equals
the ``USER_ID_CLAIM`` claim; with ``USER_RESOLVER`` whatever a function of the
token returns. A token whose user does not exist or is inactive gets no user.

Only tokens of an issuer allowed to map to local users (``USER_ISSUERS``;
by default the one configured issuer, none of several ``ISSUERS``) are
looked up: OpenID Connect Core 5.7 identifies a user by ``iss`` and
``sub``, so a partner's ``sub="admin"`` must not become the local admin.
Other tokens get a :class:`TokenUser`, and the resolver is not called.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cached_property
from typing import Any, NamedTuple

from asgiref.sync import async_to_sync, iscoroutinefunction, sync_to_async
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured, ValidationError

from jwt_guard_core import ConfigurationError, VerifiedToken
from jwt_guard_core.users import UserMapping

from .conf import conf, improperly_configured

__all__ = ["TokenUser", "aresolve_user", "resolve_user"]


def _role_permissions() -> Any:
    try:
        return conf.parsed.read("role_permissions")
    except ConfigurationError as exc:
        raise ImproperlyConfigured(str(exc)) from exc


class TokenUser:
    """A user that exists only in the token: built from claims, never saved.

    ``pk``, ``id`` and ``username`` come from the ``USER_ID_CLAIM`` claim
    (default ``sub``); ``scopes`` and ``roles`` are the token's (read by the
    core from ``SCOPES_CLAIM`` and ``ROLES_CLAIM``). It answers permission
    questions the way Django's users do: its permissions are those
    ``ROLE_PERMISSIONS`` maps its roles to (none by default), and
    ``has_perms([])`` is ``True``, so DRF's ``DjangoModelPermissions`` lets a
    read through and checks a write against the mapped permissions.
    """

    is_active = True
    is_staff = False
    is_superuser = False
    is_anonymous = False
    is_authenticated = True

    def __init__(
        self, token: VerifiedToken, *, id_claim: str = "sub", roles_claim: str = "roles"
    ) -> None:
        self.token = token
        self._id_claim = id_claim
        self._roles_claim = roles_claim

    @cached_property
    def pk(self) -> Any:
        return self.token.claims.get(self._id_claim)

    @property
    def id(self) -> Any:
        return self.pk

    @property
    def username(self) -> str:
        return "" if self.pk is None else str(self.pk)

    @property
    def claims(self) -> Any:
        """The verified claims (a read-only mapping)."""
        return self.token.claims

    @property
    def scopes(self) -> frozenset[str]:
        return self.token.scopes

    @property
    def roles(self) -> frozenset[str]:
        """The token's roles (``VerifiedToken.roles``)."""
        return self.token.roles

    @cached_property
    def _permissions(self) -> frozenset[str]:
        mapping = _role_permissions()
        return frozenset().union(*(mapping.get(role, ()) for role in self.roles))

    def get_username(self) -> str:
        return self.username

    def has_scopes(self, *required: str) -> bool:
        return self.token.has_scopes(*required)

    def has_role(self, role: str) -> bool:
        return role in self.roles

    def has_perm(self, perm: str, obj: object = None) -> bool:
        """Whether one of the token's roles maps to ``perm`` in ``ROLE_PERMISSIONS``.

        Like Django's model backend, an object-level question (``obj`` given)
        is answered ``False``: roles grant model permissions only.
        """
        return obj is None and perm in self._permissions

    def has_perms(self, perm_list: Iterable[str], obj: object = None) -> bool:
        """Every permission in ``perm_list`` (``True`` for none, as Django's users)."""
        if isinstance(perm_list, str):
            raise ValueError("perm_list must be an iterable of permissions.")
        return all(self.has_perm(perm, obj) for perm in perm_list)

    def has_module_perms(self, module: str) -> bool:
        return any(perm.partition(".")[0] == module for perm in self._permissions)

    def get_all_permissions(self, obj: object = None) -> set[str]:
        return set(self._permissions) if obj is None else set()

    def get_user_permissions(self, obj: object = None) -> set[str]:
        return set()

    def get_group_permissions(self, obj: object = None) -> set[str]:
        # Roles play the part of Django's groups.
        return self.get_all_permissions(obj)

    def save(self) -> None:
        raise NotImplementedError("a TokenUser is stateless and cannot be saved")

    def delete(self) -> None:
        raise NotImplementedError("a TokenUser is stateless and cannot be deleted")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TokenUser):
            return NotImplemented
        return (self.pk, self.token.issuer) == (other.pk, other.token.issuer)

    def __hash__(self) -> int:
        return hash((self.pk, self.token.issuer))

    def __str__(self) -> str:
        return f"TokenUser {self.username}"

    def __repr__(self) -> str:
        return f"<TokenUser {self.username!r} iss={self.token.issuer!r}>"


class _Users(NamedTuple):
    """How tokens become users under the current settings (read once, kept until they change)."""

    mapping: UserMapping
    resolver: Callable[[VerifiedToken], Any] | None
    field: Any
    id_claim: str
    roles_claim: str


def _read_users() -> _Users:
    try:
        resolver = conf.resolved("user_resolver")
        mapping = conf.parsed.users
    except ConfigurationError as exc:
        raise improperly_configured(exc) from exc
    if resolver is not None and not callable(resolver):
        raise ImproperlyConfigured("JWT_GUARD['USER_RESOLVER'] is not callable")
    return _Users(mapping, resolver, conf.USER_ID_FIELD, conf.USER_ID_CLAIM, conf.ROLES_CLAIM)


def _users() -> _Users:
    users: _Users = conf.kept("users", _read_users)
    return users


def _token_user(token: VerifiedToken, users: _Users) -> TokenUser:
    return TokenUser(token, id_claim=users.id_claim, roles_claim=users.roles_claim)


def _lookup(token: VerifiedToken, field: str) -> Any:
    value = token.claims.get(_users().id_claim)
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


def _how(token: VerifiedToken) -> TokenUser | str | Callable[[VerifiedToken], Any]:
    """The user already (a :class:`TokenUser`), the ``USER_ID_FIELD`` to look up, or the resolver.

    A token whose issuer does not map to local users (``USER_ISSUERS``) is
    a :class:`TokenUser`, whatever ``USER_ID_FIELD`` or ``USER_RESOLVER`` say.
    """
    users = _users()
    if not users.mapping.maps(token):
        return _token_user(token, users)
    if users.resolver is not None:
        return users.resolver
    return users.field if users.field else _token_user(token, users)


def resolve_user(token: VerifiedToken) -> Any:
    """The user for ``token``, or ``None`` when no usable user matches."""
    how = _how(token)
    if isinstance(how, TokenUser):
        return how
    if not callable(how):
        return _lookup(token, how)
    return async_to_sync(how)(token) if iscoroutinefunction(how) else how(token)


async def aresolve_user(token: VerifiedToken) -> Any:
    """Like :func:`resolve_user`; database lookups run in a thread."""
    how = _how(token)
    if isinstance(how, TokenUser):
        return how
    if not callable(how):
        return await sync_to_async(_lookup)(token, how)
    return await how(token) if iscoroutinefunction(how) else await sync_to_async(how)(token)
