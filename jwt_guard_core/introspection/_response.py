"""What an introspection answer means, as plain functions over plain data.

Three stages, none doing I/O:

* the body: a JSON object (RFC 7662 section 2.2), or a signed JWT (RFC 9701)
  that :func:`parse_signed` splits and :func:`open_signed` checks once the
  driver has looked up its key;
* :func:`judge`: the members checked like a JWT's claims (``active``,
  ``iss``, ``aud``, ``exp``, ``nbf``, ``iat``, ``scope``, ``client_id``,
  ``token_type``, ``sub``) and turned into a :class:`VerifiedToken`.

A body that is not a usable answer raises :class:`FetchError` (an outage:
503); an answer about a token that is not acceptable raises a
:class:`TokenError` (401).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from .._remote_policy import FetchError, parse_document, short
from ..algorithms import verify_signature
from ..encoding import b64url_decode, parse_json_object
from ..errors import (
    BadAudience,
    BadIssuer,
    BadType,
    InvalidClaim,
    IssuedInFuture,
    MissingClaim,
    NotYetValid,
    TokenExpired,
)
from ..keys import VerificationKey
from ..token import InvalidScope, VerifiedToken, scopes_from_claims
from .errors import TokenInactive

__all__ = [
    "JSON_MEDIA",
    "JWT_MEDIA",
    "ResponsePolicy",
    "SignedResponse",
    "judge",
    "open_signed",
    "parse_members",
    "parse_signed",
]

JSON_MEDIA = "application/json"
# RFC 9701 section 4 / 12.2: the media type of a signed introspection response.
JWT_MEDIA = "application/token-introspection+jwt"
_JWT_TYP = "token-introspection+jwt"
# The algorithm a VerifiedToken reports for a token the verifier never parsed.
INTROSPECTED = "introspection"
_KEY_HEADERS = ("jwk", "jku", "x5u", "x5c")
_MAX_NUMERIC_DATE = 253402300799


@dataclass(frozen=True)
class ResponsePolicy:
    """The checks :func:`judge` and :func:`open_signed` make (see IntrospectionSource)."""

    issuer: str
    audiences: frozenset[str]
    verify_audience: bool
    required: frozenset[str]
    token_types: frozenset[str]
    clients: frozenset[str] | None
    leeway: float
    client_id: str
    response_algorithms: frozenset[str]
    max_response_age: float


# --- the body -------------------------------------------------------------------


def check_json_type(value: str | None) -> None:
    """An unsigned answer is ``application/json`` (RFC 7662 section 2.2)."""
    if _media(value) != JSON_MEDIA:
        raise FetchError("bad_content_type", f"content type {_shown(value)} is not {JSON_MEDIA}")


def check_jwt_type(value: str | None) -> None:
    """A signed answer is ``application/token-introspection+jwt``; a JSON one is a downgrade."""
    if _media(value) != JWT_MEDIA:
        raise FetchError(
            "unsigned_response",
            f"content type {_shown(value)} is not {JWT_MEDIA}; signed responses are required",
        )


def _media(value: str | None) -> str:
    return (value or "").split(";", 1)[0].strip().lower()


def _shown(value: str | None) -> str:
    return repr(short(_media(value) or "missing", 80))


def parse_members(body: bytes) -> dict[str, Any]:
    """The members of an unsigned introspection response."""
    return parse_document(body, "introspection response")


@dataclass(frozen=True)
class SignedResponse:
    """A compact JWS response split up, before its key is known."""

    alg: str
    kid: str | None
    header: Mapping[str, Any]
    signing_input: bytes
    signature: bytes
    claims: Mapping[str, Any]


def parse_signed(body: bytes, policy: ResponsePolicy) -> SignedResponse:
    """Split an RFC 9701 response and check its header, before any key lookup."""
    try:
        text = body.decode("ascii").strip()
        header_seg, payload_seg, sig_seg = text.split(".")
        header = parse_json_object(b64url_decode(header_seg))
        claims = parse_json_object(b64url_decode(payload_seg))
        signature = b64url_decode(sig_seg)
    except (UnicodeDecodeError, ValueError) as exc:  # DecodeError is a ValueError
        raise FetchError(
            "bad_response", f"the signed response is not a compact JWS: {exc}"
        ) from None
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in policy.response_algorithms:
        raise FetchError("bad_signature", f"response alg {short(str(alg), 16)!r} is not allowed")
    for name in (*_KEY_HEADERS, "crit", "b64"):
        if name in header:
            raise FetchError("bad_signature", f"the response header carries {name}")
    kid = header.get("kid")
    if "kid" in header and not isinstance(kid, str):
        raise FetchError("bad_signature", "the response kid is not a string")
    # RFC 9701 section 5: typ protects against a JWT of another kind (an
    # access token, an ID token) being passed off as an introspection answer.
    typ = header.get("typ")
    if not isinstance(typ, str) or typ.lower().removeprefix("application/") != _JWT_TYP:
        raise FetchError("bad_response", f"the response typ is not {_JWT_TYP}")
    return SignedResponse(
        alg=alg,
        kid=kid,
        header=header,
        signing_input=f"{header_seg}.{payload_seg}".encode("ascii"),
        signature=signature,
        claims=claims,
    )


def open_signed(
    signed: SignedResponse, key: VerificationKey, policy: ResponsePolicy, now: float
) -> dict[str, Any]:
    """The ``token_introspection`` members of a signed response whose signature verifies.

    RFC 9701 section 5: ``iss`` is the authorization server, ``aud`` this
    resource server's client id, ``iat`` recent (a replayed old answer would
    resurrect a revoked token).
    """
    if not verify_signature(signed.alg, key.key, signed.signing_input, signed.signature):
        raise FetchError("bad_signature", "the response signature does not verify")
    claims = signed.claims
    if claims.get("iss") != policy.issuer:
        raise FetchError("bad_response", "the signed response is from another issuer")
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    if policy.client_id not in audiences:
        raise FetchError("bad_response", "the signed response is not addressed to this client")
    try:
        iat = _numeric_date(claims, "iat")
    except InvalidClaim:
        iat = None
    if iat is None:
        raise FetchError("bad_response", "the signed response has no valid iat")
    if iat > now + policy.leeway or now - iat > policy.max_response_age + policy.leeway:
        raise FetchError("bad_response", "the signed response is not fresh (iat)")
    members = claims.get("token_introspection")
    if not isinstance(members, dict):
        raise FetchError("bad_response", "the signed response has no token_introspection object")
    return members


# --- the answer -------------------------------------------------------------------


def _numeric_date(members: Mapping[str, Any], name: str) -> float | None:
    if name not in members:
        return None
    value = members[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidClaim(f"{name} is not a NumericDate")
    if not math.isfinite(value) or not 0 <= value <= _MAX_NUMERIC_DATE:
        raise InvalidClaim(f"{name} is out of range")
    return float(value)


def is_active(members: Mapping[str, Any]) -> bool:
    """RFC 7662 section 2.2: ``active`` is REQUIRED and a boolean; anything else is no answer."""
    active = members.get("active")
    if not isinstance(active, bool):
        raise FetchError("bad_response", "the response has no boolean active member")
    return active


def judge(members: Mapping[str, Any], policy: ResponsePolicy, now: float) -> VerifiedToken:
    """The verified token an active answer describes, or the :class:`TokenError` it earns.

    Members are checked like a JWT's claims, and the response is trusted no
    further than a token would be: an ``exp`` in the past is expired
    whatever ``active`` says, an ``iss`` other than the configured issuer is
    refused (mix-up), ``aud`` must name this API, and a refresh token that a
    server reports as active is refused by ``token_type``.
    """
    if not is_active(members):
        raise TokenInactive()
    missing = policy.required - members.keys()
    if missing:
        raise MissingClaim(f"the response has no {sorted(missing)[0]}")
    iss = members.get("iss", policy.issuer)
    if iss != policy.issuer:
        raise BadIssuer("the response names another issuer")
    exp = _numeric_date(members, "exp")
    if exp is not None and now >= exp + policy.leeway:
        raise TokenExpired()
    nbf = _numeric_date(members, "nbf")
    if nbf is not None and now + policy.leeway < nbf:
        raise NotYetValid()
    iat = _numeric_date(members, "iat")
    if iat is not None and iat > now + policy.leeway:
        raise IssuedInFuture()
    if policy.verify_audience:
        _check_audience(members, policy.audiences)
    token_type = members.get("token_type")
    if "token_type" in members and (
        not isinstance(token_type, str) or token_type.lower() not in policy.token_types
    ):
        raise BadType("the response's token_type is not an accepted access token type")
    client_id = members.get("client_id")
    if "client_id" in members and (not isinstance(client_id, str) or not client_id):
        raise InvalidClaim("client_id is not a non-empty string")
    if policy.clients is not None and client_id not in policy.clients:
        raise InvalidClaim(
            "the token was issued to a client that is not accepted", reason="bad_client"
        )
    sub = members.get("sub")
    if "sub" in members and (not isinstance(sub, str) or not sub):
        raise InvalidClaim("sub is not a non-empty string")
    try:
        scopes = scopes_from_claims(members)
    except InvalidScope as exc:
        raise InvalidClaim(str(exc)) from None
    return VerifiedToken(
        claims=members,
        header={},
        kid=None,
        issuer=policy.issuer,
        subject=sub,
        scopes=scopes,
        expires_at=datetime.fromtimestamp(exp, tz=timezone.utc) if exp is not None else None,
        algorithm=INTROSPECTED,
    )


def _check_audience(members: Mapping[str, Any], audiences: frozenset[str]) -> None:
    if "aud" not in members:
        raise MissingClaim("the response has no aud")
    aud = members["aud"]
    values = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) and aud else None
    if values is None or not all(isinstance(a, str) for a in values):
        raise InvalidClaim("aud is not a string or a non-empty list of strings")
    if audiences.isdisjoint(values):
        raise BadAudience()
