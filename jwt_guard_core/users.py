"""Which verified tokens name a local user: users are matched on issuer *and* subject.

OpenID Connect Core 1.0 section 5.7: ``sub`` is unique only within its
issuer; the pair ``(iss, sub)`` is what identifies an end-user. A service
that accepts several issuers (``ISSUERS``) and looks local users up by
``sub`` alone lets a partner issuer log in as any local user: its token
with ``sub="admin"`` would become the local ``admin``. So the adapters map
a token to a local user (Django's ``USER_ID_FIELD`` / ``USER_RESOLVER``,
Flask's ``user_loader``) only when its issuer is allowed to, which
:class:`UserMapping` decides; other tokens stay tokens (Django: a stateless
``TokenUser``; Flask: no ``current_user``).

Which issuers map by default:

* one key source (``ISSUER`` a string, a list, or not checked): every
  token maps, as before. Whoever holds that one key can mint any of the
  listed ``iss`` values anyway, so mapping them all gives nobody more;
* ``ISSUERS`` with one entry: that issuer maps;
* ``ISSUERS`` with several entries (several key holders): none maps
  until ``USER_ISSUERS`` names the ones whose subjects are local users.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from .errors import ConfigurationError

if TYPE_CHECKING:
    from .token import VerifiedToken

__all__ = ["TokenUser", "UserMapping", "UserSource", "active", "id_value", "user_mapping"]


@dataclass(frozen=True)
class UserMapping:
    """The issuers whose tokens may be matched to local users.

    ``issuers`` is ``None`` when every verified token maps (one key source),
    else the issuers that do (possibly none).
    """

    issuers: frozenset[str] | None = None

    def maps(self, token: VerifiedToken) -> bool:
        """Whether ``token`` may be matched to a local user."""
        if self.issuers is None:
            return True
        return token.issuer is not None and token.issuer in self.issuers

    @property
    def several(self) -> bool:
        """Whether more than one issuer maps (their subjects share one user namespace)."""
        return self.issuers is not None and len(self.issuers) > 1


@dataclass(frozen=True)
class UserSource:
    """How verified tokens become users under one configuration (read once, kept with it).

    ``find(token)`` finds a token's local user (an adapter's resolver, or its
    lookup by :func:`id_value`); ``None``: every token is a stateless
    :class:`TokenUser` built with ``id_claim``.
    """

    mapping: UserMapping
    find: Callable[[VerifiedToken], Any] | None
    id_claim: str = "sub"

    def finder(self, token: VerifiedToken) -> Callable[[VerifiedToken], Any] | None:
        """``find`` for a token whose issuer maps to local users, else ``None``: a TokenUser."""
        return self.find if self.find is not None and self.mapping.maps(token) else None


def id_value(token: VerifiedToken, id_claim: str) -> str | int | None:
    """The ``id_claim`` value a local user is looked up by; ``None`` (no user) unless a str or int.

    A boolean, a float, a list or an object names no user: looking one up by
    it would match by a database's own coercion rules.
    """
    value = token.claims.get(id_claim)
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    return value


def active(user: Any) -> Any:
    """``user``, or ``None`` when it is inactive (``is_active`` false).

    An account disabled after the token was issued must stop working now,
    not when the token expires.
    """
    return user if getattr(user, "is_active", True) else None


def user_mapping(
    *,
    issuers: Any,
    issuer: Any,
    user_issuers: Collection[str] | None,
    name: str,
    issuers_name: str = "ISSUERS",
    issuer_name: str = "ISSUER",
) -> UserMapping:
    """The mapping for these settings: ``ISSUERS``, ``ISSUER`` and ``USER_ISSUERS`` (read).

    ``name`` (``issuers_name``, ``issuer_name``) is how the user spells
    ``USER_ISSUERS`` (``ISSUERS``, ``ISSUER``); a listed issuer that
    no token can carry (not an ``ISSUERS`` key, not one of ``ISSUER``)
    raises :class:`~jwt_guard_core.ConfigurationError` naming it, so a typo
    cannot silently map nobody.
    """
    several = isinstance(issuers, Mapping) and len(issuers) > 1
    if user_issuers is None:
        return UserMapping(frozenset() if several else None)
    if isinstance(issuers, Mapping):
        known: Collection[Any] | None = issuers.keys()
        where = issuers_name
    elif isinstance(issuer, str):
        known, where = (issuer,), issuer_name
    elif isinstance(issuer, (list, tuple)):
        known, where = issuer, issuer_name
    else:
        known, where = None, ""
    if known is not None:
        unknown = [i for i in user_issuers if i not in known]
        if unknown:
            raise ConfigurationError(
                name,
                f"{', '.join(repr(i) for i in unknown)} is not an issuer of {where}; "
                f"list issuers among {', '.join(repr(k) for k in known)}",
            )
    return UserMapping(frozenset(user_issuers))


class TokenUser:
    """A user that exists only in the token: built from claims, never saved.

    ``pk``, ``id`` and ``username`` come from the ``id_claim`` claim
    (default ``sub``); ``scopes`` and ``roles`` are the token's (read by the
    verifier from ``SCOPES_CLAIM`` and ``ROLES_CLAIM``). It answers permission
    questions the way Django's users do: its permissions are those
    :meth:`role_permissions` maps its roles to (none by default), and
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
        # roles_claim is accepted for compatibility: the verifier reads the roles.
        self.token = token
        self._id_claim = id_claim

    def role_permissions(self) -> Mapping[str, Iterable[str]]:
        """``{role: permissions}`` (``ROLE_PERMISSIONS``), read on the first permission question."""
        return {}

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
        mapping = self.role_permissions()
        return frozenset().union(*(mapping.get(role, ()) for role in self.roles))

    def get_username(self) -> str:
        return self.username

    def has_scopes(self, *required: str) -> bool:
        return self.token.has_scopes(*required)

    def has_role(self, role: str) -> bool:
        return role in self.roles

    def has_perm(self, perm: str, obj: object = None) -> bool:
        """Whether one of the token's roles maps to ``perm``.

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
