"""Issuing nested JWE: which audiences get their tokens encrypted, and to which key."""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import ConfigurationError
from .encrypt import encrypt_compact
from .keys import RecipientKey

__all__ = ["AudienceEncryption"]


class AudienceEncryption:
    """Encrypts the tokens of configured audiences to each audience's key (``cty: JWT``).

    A token whose ``aud`` names a configured audience is wrapped in a JWE to
    that audience's :class:`RecipientKey`; one for other audiences stays a
    plain JWS. A token for several audiences is encrypted only when they all
    share one recipient key: a key none of them can decrypt with, or a
    readable copy for some, would each defeat the point.
    """

    def __init__(self, recipients: Mapping[str, RecipientKey]) -> None:
        if not isinstance(recipients, Mapping) or not recipients:
            raise ConfigurationError(
                "encrypt_for", "give a non-empty mapping of audience to RecipientKey"
            )
        for audience, recipient in recipients.items():
            if not isinstance(audience, str) or not audience:
                raise ConfigurationError("encrypt_for", f"{audience!r} is not an audience string")
            if not isinstance(recipient, RecipientKey):
                raise ConfigurationError(
                    f"encrypt_for[{audience!r}]", "give a RecipientKey (RecipientKey.from_jwk)"
                )
        self._recipients = dict(recipients)

    def recipient_for(self, audience: str | list[str]) -> RecipientKey | None:
        """The key to encrypt a token for ``audience`` to, or ``None`` for a plain JWS.

        Raises ``ValueError`` for audiences that are only partly configured
        or configured with different keys.
        """
        audiences = [audience] if isinstance(audience, str) else audience
        found = {id(r): r for a in audiences if (r := self._recipients.get(a)) is not None}
        if not found:
            return None
        if len(found) > 1 or any(a not in self._recipients for a in audiences):
            raise ValueError(
                "the token's audiences do not share one encryption key; issue one token per "
                "audience"
            )
        return next(iter(found.values()))

    def wrap(self, token: str, audience: str | list[str]) -> str:
        recipient = self.recipient_for(audience)
        if recipient is None:
            return token
        return encrypt_compact(token.encode("ascii"), recipient, headers={"cty": "JWT"})
