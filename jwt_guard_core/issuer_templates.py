"""Issuer templates: one configuration entry for every tenant of a multi-tenant issuer.

Entra ID (Azure AD) signs every tenant's tokens with one key set and writes
the tenant into ``iss``: ``https://login.microsoftonline.com/<tid>/v2.0``.
An ``ISSUER`` (or ``ISSUERS`` key) may hold the placeholder ``{tid}`` (or
Entra's own spelling ``{tenantid}``): a token is accepted when its ``iss``
equals the template with the placeholder replaced by the token's ``tid``
claim, and, with ``TENANTS``, when that tenant is on the allowlist.

The ``common`` and ``organizations`` discovery documents of Entra publish
the template itself as their ``issuer``
(``https://login.microsoftonline.com/{tenantid}/v2.0``); with a template
issuer, ``OIDC_ISSUER`` is the URL to discover from and the document's
``issuer`` must be the template (:func:`discovery_issuer`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from .errors import BadIssuer, ConfigurationError, MissingClaim

__all__ = [
    "PLACEHOLDERS",
    "IssuerTemplate",
    "discovery_issuer",
    "is_template",
    "match_template",
    "tenant_list",
]

PLACEHOLDERS = ("{tid}", "{tenantid}")
# A tenant id as it may appear in a URL path segment (Entra: a GUID).
_TENANT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def is_template(issuer: object) -> bool:
    """Whether ``issuer`` is a template (holds a brace)."""
    return isinstance(issuer, str) and ("{" in issuer or "}" in issuer)


@dataclass(frozen=True)
class IssuerTemplate:
    """An issuer with one ``{tid}`` placeholder, and the tenants allowed (``None``: any)."""

    template: str
    tenants: frozenset[str] | None = None

    def __post_init__(self) -> None:
        found = [p for p in PLACEHOLDERS if p in self.template]
        if len(found) != 1 or self.template.count(found[0]) != 1:
            raise ConfigurationError(
                "issuer", f"{self.template!r} needs exactly one {{tid}} placeholder"
            )
        prefix, _, suffix = self.template.partition(found[0])
        if is_template(prefix) or is_template(suffix):
            raise ConfigurationError(
                "issuer", f"{self.template!r} holds braces other than the {{tid}} placeholder"
            )
        object.__setattr__(self, "_prefix", prefix)
        object.__setattr__(self, "_suffix", suffix)

    _prefix: str = field(init=False, repr=False, compare=False, default="")
    _suffix: str = field(init=False, repr=False, compare=False, default="")

    def matches(self, iss: str) -> bool:
        """Whether ``iss`` has the template's shape (its tenant is checked by :meth:`check`)."""
        return (
            len(iss) > len(self._prefix) + len(self._suffix)
            and iss.startswith(self._prefix)
            and iss.endswith(self._suffix)
        )

    def check(self, iss: str, claims: Mapping[str, Any]) -> None:
        """Raise unless ``iss`` is the template filled with the token's ``tid``."""
        if "tid" not in claims:
            raise MissingClaim("the token has no tid claim for its issuer template")
        tid = claims["tid"]
        if (
            not isinstance(tid, str)
            or _TENANT.fullmatch(tid) is None
            or iss != f"{self._prefix}{tid}{self._suffix}"
        ):
            raise BadIssuer("the token's iss is not its tenant's issuer")
        if self.tenants is not None and tid not in self.tenants:
            raise BadIssuer("the token's tenant is not allowed", reason="tenant_not_allowed")


P = TypeVar("P")


def match_template(policies: Sequence[P], iss: str, claims: Mapping[str, Any]) -> P | None:
    """The template policy ``iss`` belongs to, its ``issuer`` set to ``iss``; ``None``: none.

    ``policies`` are the verifier's prepared per-issuer policies that carry
    a ``template``. Raises when ``iss`` has a template's shape but is not
    its tenant's issuer, or the tenant is not allowed.
    """
    for policy in policies:
        template: IssuerTemplate = policy.template  # type: ignore[attr-defined]
        if template.matches(iss):
            template.check(iss, claims)
            return replace(policy, issuer=iss)  # type: ignore[type-var]
    return None


def tenant_list(setting: str, value: Any) -> frozenset[str] | None:
    """``TENANTS``: ``None`` (any tenant) or a non-empty list of tenant ids."""
    if value is None:
        return None
    items = (value,) if isinstance(value, str) else value
    if (
        not isinstance(items, (list, tuple, set, frozenset))
        or not items
        or not all(isinstance(t, str) and _TENANT.fullmatch(t) for t in items)
    ):
        raise ConfigurationError(setting, f"{value!r} is not a non-empty list of tenant ids")
    return frozenset(items)


def discovery_issuer(template: str) -> str:
    """The ``issuer`` a multi-tenant discovery document publishes for ``template``.

    Entra's ``common`` and ``organizations`` documents spell the placeholder
    ``{tenantid}``; either spelling in the configuration expects that one.
    """
    return template.replace("{tid}", "{tenantid}")
