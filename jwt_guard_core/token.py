"""The result of a successful verification."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

__all__ = ["VerifiedToken", "scopes_from_claims"]


def scopes_from_claims(claims: Mapping[str, Any]) -> frozenset[str]:
    """Scopes from ``scope`` (RFC 8693/9068: space-separated) or ``scp``.

    ``scp`` is a list at most providers and a space-separated string at Entra;
    both are read. Values of other types were refused by the verifier.
    """
    scopes: set[str] = set()
    scope = claims.get("scope")
    if isinstance(scope, str):
        scopes.update(scope.split())
    scp = claims.get("scp")
    if isinstance(scp, str):
        scopes.update(scp.split())
    elif isinstance(scp, (list, tuple)):
        scopes.update(s for s in scp if isinstance(s, str))
    return frozenset(scopes)


@dataclass(frozen=True)
class VerifiedToken:
    """A token whose signature, claims and revocation state have been checked.

    ``claims`` and ``header`` are read-only mappings. Nothing in this object
    is trusted unless the verifier checked it: ``issuer`` is the issuer the
    token was matched to, ``kid`` the key that verified it.
    """

    claims: Mapping[str, Any] = field(repr=False)
    header: Mapping[str, Any] = field(repr=False)
    kid: str | None
    issuer: str | None
    subject: str | None
    scopes: frozenset[str]
    expires_at: datetime | None
    algorithm: str

    @property
    def jti(self) -> str | None:
        jti = self.claims.get("jti")
        return jti if isinstance(jti, str) else None

    @property
    def audience(self) -> tuple[str, ...]:
        aud = self.claims.get("aud")
        if isinstance(aud, str):
            return (aud,)
        if isinstance(aud, (list, tuple)):
            return tuple(a for a in aud if isinstance(a, str))
        return ()

    def has_scopes(self, *required: str) -> bool:
        """True when the token carries every scope in ``required``."""
        return self.scopes.issuperset(required)

    @staticmethod
    def _timestamp(value: float | None) -> datetime | None:
        if value is None:
            return None
        return datetime.fromtimestamp(value, tz=timezone.utc)
