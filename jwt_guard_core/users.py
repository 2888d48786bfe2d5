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

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import ConfigurationError

if TYPE_CHECKING:
    from .token import VerifiedToken

__all__ = ["UserMapping", "user_mapping"]


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
