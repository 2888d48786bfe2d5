"""HTTP decisions both adapters share, as plain functions over plain data.

The Django and Flask adapters never parse an ``Authorization`` header, build a
``WWW-Authenticate`` value, decide whether CSRF applies or shape an error body
themselves: they call these functions with headers, cookies and the method,
and apply the result to their framework's request and response objects.
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import events
from .errors import (
    ConfigurationError,
    InsufficientScope,
    InvalidRequest,
    KeySourceUnavailable,
    TokenError,
)
from .token import VerifiedToken, is_scope_name

__all__ = [
    "SAFE_METHODS",
    "ErrorResponse",
    "ExtractedToken",
    "check_scopes",
    "constant_time_equals",
    "csrf_failure_response",
    "csrf_required",
    "error_response",
    "extract_token",
    "is_b64token",
    "new_csrf_token",
    "quoted_string",
    "www_authenticate",
]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
TOKEN_LOCATIONS = frozenset({"header", "cookie"})

# RFC 6750 section 2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
# RFC 7235 section 2.1: credentials = auth-scheme [ 1*SP token68 ]; the
# scheme is a token, so it ends at the first whitespace of any kind.
_SCHEME = re.compile(r"\s*(\S+)(.*)\Z", re.DOTALL)
_DESCRIPTIONS = {
    "invalid_token": "The access token is invalid or expired.",
    "invalid_request": "The request is malformed.",
    "insufficient_scope": "The access token does not grant the required scope.",
    "temporarily_unavailable": "Token verification is temporarily unavailable.",
    "too_many_requests": "Too many failed attempts; retry later.",
    "invalid_grant": "The refresh token is invalid, expired or revoked.",
}


@dataclass(frozen=True)
class ExtractedToken:
    """A token found in a request, and where (``header`` or ``cookie``)."""

    token: str = field(repr=False)
    location: str


def extract_token(
    *,
    authorization: str | None,
    cookies: Mapping[str, str],
    locations: Sequence[str] = ("header",),
    header_types: Sequence[str] = ("Bearer",),
    cookie_name: str = "access_token",
) -> ExtractedToken | None:
    """Find the token in the configured ``locations``, in order.

    Returns ``None`` when the request carries no credentials we handle (the
    request goes on as anonymous, or another authentication scheme takes
    it). An ``Authorization`` header that uses one of ``header_types`` but
    is malformed raises :class:`InvalidRequest` (400), RFC 6750 section 3.1.
    """
    for location in locations:
        if location == "header":
            if authorization is None:
                continue
            found = _from_authorization(authorization, header_types)
            if found is not None:
                return ExtractedToken(found, "header")
        elif location == "cookie":
            value = cookies.get(cookie_name)
            if value:
                return ExtractedToken(value, "cookie")
        else:
            raise ConfigurationError(
                "locations", f"unknown token location {location!r}; use 'header' or 'cookie'"
            )
    return None


def _from_authorization(value: str, header_types: Sequence[str]) -> str | None:
    match = _SCHEME.match(value)
    if match is None:
        return None  # an empty header carries no credentials
    scheme, rest = match.groups()
    lowered = scheme.lower()
    for accepted in header_types:
        if accepted.lower() == lowered:
            break
    else:
        return None  # Basic, Digest, ...: not ours.
    credentials = rest.strip(" ")
    if not credentials.strip():
        raise InvalidRequest("the Authorization header has no token")
    if not rest.startswith(" "):
        # "Bearer\ttoken": RFC 6750 section 2.1 separates with spaces only.
        raise InvalidRequest("the Authorization header's scheme and token are not space-separated")
    if not is_b64token(credentials):
        raise InvalidRequest("the Authorization header's token has invalid characters")
    return credentials


def is_b64token(value: str) -> bool:
    """Whether ``value`` is an RFC 6750 ``b64token``: what a bearer credential may be."""
    return _B64TOKEN.fullmatch(value) is not None


def csrf_required(method: str, location: str) -> bool:
    """A cookie-borne token on an unsafe method needs CSRF proof; a header token never does.

    A browser attaches cookies to cross-site requests on its own, but never
    an ``Authorization`` header, so only the cookie path can be forged.
    """
    return location == "cookie" and method.upper() not in SAFE_METHODS


def csrf_refused(csrf_failure: Callable[[], str | None], *, credential: str) -> bool:
    """Whether the framework's CSRF check refuses the request; a refusal is an event.

    ``csrf_failure()`` returns why the request's origin is unproven, or
    ``None``. A refusal is logged once here as a ``token_rejected`` event
    (``reason="csrf_failed"``, status 403) whose message names the refused
    ``credential`` (``"token"`` for an access token, ``"credential"`` on the
    session routes) and the framework's reason; the client is answered
    :func:`csrf_failure_response`, which never repeats that reason.
    """
    failure = csrf_failure()
    if failure is None:
        return False
    events.emit(
        "token_rejected",
        level=logging.WARNING,
        reason="csrf_failed",
        message=f"cookie {credential} refused: {failure}",
        status=403,
    )
    return True


def double_submit_failure(cookie: str | None, header: str | None) -> str | None:
    """Why a double-submit CSRF check fails, or ``None`` when the header equals the cookie.

    Compared in constant time (:func:`constant_time_equals`); a missing or
    empty value never passes.
    """
    if constant_time_equals(cookie, header):
        return None
    return "CSRF header missing or not equal to the CSRF cookie"


def new_csrf_token() -> str:
    """A fresh random value for a double-submit CSRF cookie (256 bits)."""
    return secrets.token_urlsafe(32)


def constant_time_equals(a: str | None, b: str | None) -> bool:
    """Compare two secrets without leaking where they differ; ``None`` never matches."""
    if not a or not b:
        return False
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def _scope_names(scopes: str | Iterable[str]) -> tuple[str, ...]:
    # A string is a space-separated scope list (RFC 6749 section 3.3), never
    # an iterable of one-letter scopes. Only U+0020 separates, as in a
    # token's scope claim: "a\tb" is not two scopes but a mistake, reported
    # as one (no token can carry such a name, so the route could never pass).
    names = tuple(n for n in scopes.split(" ") if n) if isinstance(scopes, str) else tuple(scopes)
    for name in names:
        if not is_scope_name(name):
            raise ConfigurationError(
                "scopes",
                f"{name!r} is not a scope name; scope names are printable ASCII without "
                'spaces, " or \\ (RFC 6749 section 3.3); a string of them is separated by spaces',
            )
    return names


def check_scopes(
    token: VerifiedToken, required: str | Iterable[str], *, any_of: bool = False
) -> None:
    """Raise :class:`InsufficientScope` unless ``token`` has every scope in ``required``.

    ``required`` is a list of scope names or one string of names separated
    by U+0020 spaces (no other whitespace). With ``any_of=True`` one of them
    is enough. Scopes match exactly and case-sensitively. A name that is not
    an RFC 6749 scope-token raises ``ConfigurationError`` (setting ``scopes``).
    """
    needed = _scope_names(required)
    if not needed:
        return
    ok = (not token.scopes.isdisjoint(needed)) if any_of else token.scopes.issuperset(needed)
    if not ok:
        raise InsufficientScope(needed)


def quoted_string(value: str) -> str:
    """``value`` as an RFC 7230 quoted-string, for a challenge parameter.

    Backslash and quote are escaped; control characters are dropped, so a
    value can never end the header or start another.
    """
    cleaned = "".join(ch for ch in value if ch >= " " and ch != "\x7f")
    return '"' + cleaned.replace("\\", "\\\\").replace('"', '\\"') + '"'


def www_authenticate(
    error: TokenError | None, *, realm: str = "api", scope: str | Iterable[str] = ()
) -> str:
    """The RFC 6750 section 3 ``WWW-Authenticate`` value for a 401 or 403.

    With no ``error`` (the request had no credentials) only the realm is
    given, as section 3.1 asks. The reason is never included.
    """
    params = [f"realm={quoted_string(realm)}"]
    if error is not None:
        params.append(f"error={quoted_string(error.error)}")
        scopes = _scope_names(scope) or (
            error.required if isinstance(error, InsufficientScope) else ()
        )
        if scopes:
            params.append(f"scope={quoted_string(' '.join(scopes))}")
    return "Bearer " + ", ".join(params)


@dataclass(frozen=True)
class ErrorResponse:
    """What an adapter sends for a rejection: status, headers and a JSON body."""

    status: int
    headers: Mapping[str, str]
    body: Mapping[str, Any]


def error_response(error: TokenError | None, *, realm: str = "api") -> ErrorResponse:
    """Map a rejection (or missing credentials, ``None``) to a response.

    The body carries the RFC 6750 error code and a fixed description, never
    the reason or anything from the token.
    """
    if error is None:
        return ErrorResponse(
            status=401,
            headers={"WWW-Authenticate": www_authenticate(None, realm=realm)},
            body={"error": "unauthorized", "error_description": "Authentication is required."},
        )
    headers: dict[str, str] = {}
    if isinstance(error, KeySourceUnavailable):
        headers["Retry-After"] = str(error.retry_after)
    elif error.status in (400, 401, 403):
        headers["WWW-Authenticate"] = www_authenticate(error, realm=realm)
    retry_after = getattr(error, "retry_after", None)
    if error.status == 429 and retry_after is not None:
        headers["Retry-After"] = str(int(retry_after))
    body = {
        "error": error.error,
        "error_description": _DESCRIPTIONS.get(error.error, "The request was refused."),
    }
    return ErrorResponse(status=error.status, headers=headers, body=body)


def csrf_failure_response() -> ErrorResponse:
    """403 for a cookie-borne token on an unsafe method without valid CSRF proof.

    No ``WWW-Authenticate``: the credentials may be fine, it is the request's
    origin that is unproven (a cross-site forgery), so a new token would not
    help. The body says so with a fixed text, never the framework's reason.
    """
    return ErrorResponse(
        status=403,
        headers={},
        body={"error": "csrf_failed", "error_description": "CSRF verification failed."},
    )
