"""Which path a bearer token takes: the local JWS pipeline, JWE decryption, or introspection."""

from __future__ import annotations

from typing import Literal, Protocol, runtime_checkable

from ..encoding import DecodeError, b64url_decode, parse_json_object
from ..token import VerifiedToken

__all__ = ["OpaqueTokenSource", "TokenForm", "route"]

TokenForm = Literal["jws", "jwe", "opaque"]

# A JOSE header is small; a longer first segment is not worth decoding to decide.
_MAX_HEADER_SEGMENT = 4096


def route(token: str) -> TokenForm:
    """``"jws"``, ``"jwe"`` or ``"opaque"``, from the token's shape alone.

    A compact JWS (RFC 7515 section 7.1) is three base64url segments whose
    first decodes to a JSON object with an ``alg``; a compact JWE (RFC 7516
    section 7.1) is five such segments. Anything else, including strings
    that merely contain dots, is opaque to this verifier. No signature is
    checked here: a token routed to ``"jws"`` still goes through the whole
    pipeline, and an issuer that does not introspect refuses ``"opaque"``.
    """
    if not isinstance(token, str):
        return "opaque"
    parts = token.split(".")
    if len(parts) not in (3, 5) or len(parts[0]) > _MAX_HEADER_SEGMENT:
        return "opaque"
    try:
        header = parse_json_object(b64url_decode(parts[0]))
    except DecodeError:
        return "opaque"
    if not isinstance(header.get("alg"), str):
        return "opaque"
    return "jws" if len(parts) == 3 else "jwe"


@runtime_checkable
class OpaqueTokenSource(Protocol):
    """What the verifier hands an ``"opaque"`` token to (an ``IntrospectionSource``).

    ``verify``/``averify`` return the same :class:`VerifiedToken` as the JWT
    pipeline or raise a :class:`~jwt_guard_core.errors.TokenError`.
    """

    @property
    def issuer(self) -> str: ...

    def verify(self, token: str) -> VerifiedToken: ...

    async def averify(self, token: str) -> VerifiedToken: ...
