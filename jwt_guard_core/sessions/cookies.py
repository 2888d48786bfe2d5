"""Which cookies a session sets, and with which attributes; adapters only apply them.

Three cookies:

* the access token: ``HttpOnly`` (script cannot read it, so an XSS cannot
  steal it), ``Secure``, ``SameSite=Strict``, path ``/``;
* the refresh token: the same, but its ``Path`` is the refresh route, so
  the browser sends the long-lived token to that one endpoint and nowhere
  else (not to every API call, not to a logging proxy in front of them);
* the CSRF token: *readable* by the page's script, which copies it into the
  ``X-CSRF-Token`` header of unsafe requests (double submit). A forged
  cross-site request carries the cookies but cannot read the value, so the
  header is missing or wrong.

:class:`CookiePolicy` validates the combination once (``SameSite=None``
needs ``Secure``; ``__Host-`` names need ``Secure``, path ``/`` and no
domain) and builds :class:`CookieSpec` values; ``CookieSpec.header()`` is
the ``Set-Cookie`` text for a framework without a cookie API.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any, Literal

from ..errors import ConfigurationError
from ..http import (
    ErrorResponse,
    ExtractedToken,
    double_submit_failure,
    new_csrf_token,
)
from .refresh import SessionTokens

__all__ = [
    "CSRF_HEADER",
    "DELIVERY_MODES",
    "CookiePolicy",
    "CookieSpec",
    "SessionReply",
    "credentials_error_response",
    "find_refresh_token",
    "logout_reply",
    "request_error_response",
    "session_reply",
]

SameSite = Literal["Strict", "Lax", "None"]
CSRF_HEADER = "X-CSRF-Token"
# RFC 6265 section 4.1.1 token characters for a cookie name.
_NAME_CHARS = frozenset(
    "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)


@dataclass(frozen=True)
class CookieSpec:
    """One cookie to set (or, with ``max_age=0`` and an empty value, to delete).

    Adapters map the fields one to one: Django's
    ``response.set_cookie(name, value, max_age=, path=, domain=, secure=,
    httponly=, samesite=)``, Flask/Werkzeug's ``response.set_cookie`` with
    the same names.
    """

    name: str
    value: str = field(repr=False)
    max_age: int | None
    path: str
    domain: str | None
    secure: bool
    http_only: bool
    same_site: SameSite

    @property
    def deletes(self) -> bool:
        """True for a deletion (``Max-Age=0``)."""
        return self.max_age == 0

    def set_cookie_arguments(self) -> dict[str, Any]:
        """Keyword arguments for ``response.set_cookie(**...)``.

        Django's ``HttpResponse.set_cookie`` and Werkzeug's
        ``Response.set_cookie`` take the same names (``key``, ``value``,
        ``max_age``, ``path``, ``domain``, ``secure``, ``httponly``,
        ``samesite``).
        """
        return {
            "key": self.name,
            "value": self.value,
            "max_age": self.max_age,
            "path": self.path,
            "domain": self.domain,
            "secure": self.secure,
            "httponly": self.http_only,
            "samesite": self.same_site,
        }

    def header(self) -> str:
        """The ``Set-Cookie`` header value (RFC 6265 section 4.1)."""
        parts = [f"{self.name}={self.value}"]
        if self.max_age is not None:
            parts.append(f"Max-Age={self.max_age}")
            if self.max_age == 0:
                # Older user agents ignore Max-Age; a past Expires deletes too.
                parts.append(f"Expires={formatdate(0, usegmt=True)}")
        if self.domain:
            parts.append(f"Domain={self.domain}")
        parts.append(f"Path={self.path}")
        if self.secure:
            parts.append("Secure")
        if self.http_only:
            parts.append("HttpOnly")
        parts.append(f"SameSite={self.same_site}")
        return "; ".join(parts)


def _check_name(setting: str, name: str) -> None:
    if not isinstance(name, str) or not name or not set(name) <= _NAME_CHARS:
        raise ConfigurationError(setting, f"{name!r} is not a valid cookie name (RFC 6265)")


def _check_path(setting: str, path: str) -> None:
    if not isinstance(path, str) or not path.startswith("/") or any(c in path for c in ";\r\n "):
        raise ConfigurationError(setting, f"{path!r} is not a cookie path (starts with /)")


@dataclass(frozen=True, kw_only=True)
class CookiePolicy:
    """The attributes of the session cookies, validated once.

    Args:
        access_cookie: name of the access-token cookie.
        refresh_cookie: name of the refresh-token cookie.
        csrf_cookie: name of the readable double-submit cookie.
        csrf_header: the request header the page copies it into
            (default ``X-CSRF-Token``).
        refresh_path: the refresh route; the refresh cookie is only sent
            there. Serve logout under it too (e.g. ``/auth/refresh/logout``)
            when logout should revoke the refresh token it finds, or revoke
            by the access token's ``sid`` claim.
        access_path: path of the access and CSRF cookies (default ``/``).
        domain: the ``Domain`` attribute; ``None`` (default) keeps cookies
            host-only, which is the safer choice.
        secure: ``Secure`` attribute (default ``True``). Turn off only for
            plain-HTTP local development.
        same_site: ``Strict`` (default), ``Lax`` or ``None`` (which needs
            ``secure=True``).
    """

    access_cookie: str = "access_token"
    refresh_cookie: str = "refresh_token"
    csrf_cookie: str = "csrf_token"
    csrf_header: str = CSRF_HEADER
    refresh_path: str = "/auth/refresh"
    access_path: str = "/"
    domain: str | None = None
    secure: bool = True
    same_site: SameSite = "Strict"

    def __post_init__(self) -> None:
        for setting in ("access_cookie", "refresh_cookie", "csrf_cookie"):
            _check_name(setting, getattr(self, setting))
        if len({self.access_cookie, self.refresh_cookie, self.csrf_cookie}) != 3:
            raise ConfigurationError("csrf_cookie", "the three cookie names must differ")
        _check_name("csrf_header", self.csrf_header)
        _check_path("refresh_path", self.refresh_path)
        _check_path("access_path", self.access_path)
        if not isinstance(self.secure, bool):
            raise ConfigurationError("secure", f"{self.secure!r} is not True or False")
        if self.same_site not in ("Strict", "Lax", "None"):
            raise ConfigurationError(
                "same_site", f"{self.same_site!r} is not accepted; use 'Strict', 'Lax' or 'None'"
            )
        if self.same_site == "None" and not self.secure:
            # Browsers reject SameSite=None without Secure (RFC 6265bis 5.4.7).
            raise ConfigurationError("same_site", "'None' requires secure=True")
        if self.domain is not None and (
            not isinstance(self.domain, str)
            or not self.domain
            or any(c in self.domain for c in ";/ ")
        ):
            raise ConfigurationError("domain", f"{self.domain!r} is not a domain name")
        for setting in ("access_cookie", "refresh_cookie", "csrf_cookie"):
            name = getattr(self, setting)
            # Cookie prefixes (RFC 6265bis 4.1.3): the browser refuses the
            # cookie outright when the attributes do not match the promise.
            if name.startswith(("__Secure-", "__Host-")) and not self.secure:
                raise ConfigurationError(setting, f"{name!r} needs secure=True")
            if name.startswith("__Host-"):
                path = self.refresh_path if setting == "refresh_cookie" else self.access_path
                if self.domain is not None or path != "/":
                    raise ConfigurationError(
                        setting, f"{name!r} needs path '/' and no domain (__Host- prefix)"
                    )

    def _spec(
        self, name: str, value: str, max_age: int | None, path: str, http_only: bool
    ) -> CookieSpec:
        return CookieSpec(
            name=name,
            value=value,
            max_age=max_age,
            path=path,
            domain=self.domain,
            secure=self.secure,
            http_only=http_only,
            same_site=self.same_site,
        )

    def access_cookie_spec(self, token: str, *, max_age: int | None) -> CookieSpec:
        """The HttpOnly access-token cookie; give ``max_age`` = the token's remaining life."""
        return self._spec(self.access_cookie, token, max_age, self.access_path, True)

    def refresh_cookie_spec(self, token: str, *, max_age: int | None) -> CookieSpec:
        """The HttpOnly refresh-token cookie, sent only to ``refresh_path``."""
        return self._spec(self.refresh_cookie, token, max_age, self.refresh_path, True)

    def csrf_cookie_spec(self, value: str | None = None, *, max_age: int | None) -> CookieSpec:
        """The script-readable double-submit cookie (a new random value unless given)."""
        return self._spec(
            self.csrf_cookie, value or new_csrf_token(), max_age, self.access_path, False
        )

    def session_cookies(
        self, tokens: SessionTokens, *, now: float, access_max_age: int | None
    ) -> tuple[CookieSpec, CookieSpec, CookieSpec]:
        """The three cookies a login or refresh response sets.

        The CSRF cookie gets a fresh value and lives as long as the refresh
        token, so the page can keep proving its origin for the whole
        session.
        """
        refresh_age = tokens.refresh_max_age(now)
        return (
            self.access_cookie_spec(tokens.access_token, max_age=access_max_age),
            self.refresh_cookie_spec(tokens.refresh_token, max_age=refresh_age),
            self.csrf_cookie_spec(max_age=refresh_age),
        )

    def clear_cookies(self) -> tuple[CookieSpec, CookieSpec, CookieSpec]:
        """Deletions of the three cookies, for logout (same path and domain, or no effect)."""
        return (
            self._spec(self.access_cookie, "", 0, self.access_path, True),
            self._spec(self.refresh_cookie, "", 0, self.refresh_path, True),
            self._spec(self.csrf_cookie, "", 0, self.access_path, False),
        )

    def csrf_valid(self, cookies: Mapping[str, str], headers: Mapping[str, str]) -> bool:
        """The double-submit check: the ``csrf_header`` header equals the CSRF cookie.

        Compared in constant time; a missing or empty value never passes.
        ``headers`` may be a framework's case-insensitive mapping or a plain
        dict with any capitalisation.
        """
        return self.csrf_failure(cookies, headers) is None

    def csrf_failure(self, cookies: Mapping[str, str], headers: Mapping[str, str]) -> str | None:
        """Why the request fails :meth:`csrf_valid`, or ``None``: a session route's CSRF check."""
        sent = headers.get(self.csrf_header)
        if sent is None:
            wanted = self.csrf_header.lower()
            sent = next((v for k, v in headers.items() if k.lower() == wanted), None)
        return double_submit_failure(cookies.get(self.csrf_cookie), sent)


# -- what a session endpoint answers (shared by the Django and Flask views)

#: How a session endpoint hands tokens over: in the JSON body (API clients),
#: in cookies (browsers), or both.
DELIVERY_MODES = ("json", "cookie", "both")
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_EPOCH = formatdate(0, usegmt=True)


def _check_mode(mode: str) -> None:
    if mode not in DELIVERY_MODES:
        raise ConfigurationError(
            "mode", f"{mode!r} is not accepted; use 'json', 'cookie' or 'both'"
        )


@dataclass(frozen=True)
class SessionReply:
    """What a login, refresh or logout endpoint sends: status, headers, body, cookies.

    ``body`` is ``None`` for an empty response (204). Adapters copy the
    headers, serialise the body as JSON and apply each :class:`CookieSpec`.
    """

    status: int
    headers: Mapping[str, str]
    body: Mapping[str, Any] | None
    cookies: tuple[CookieSpec, ...] = ()

    def json_body(self) -> str | None:
        """The body as the JSON text to send (``application/json``), ``None`` for no body."""
        return None if self.body is None else json.dumps(dict(self.body))

    def response_headers(self) -> dict[str, str]:
        """The headers to send, with ``Content-Type: application/json`` when there is a body."""
        json_type = {} if self.body is None else {"Content-Type": "application/json"}
        return {**json_type, **self.headers}

    def set_cookie_calls(self) -> list[dict[str, Any]]:
        """Keyword arguments of one ``response.set_cookie(**...)`` per cookie (Django, Werkzeug).

        A deletion also gets a past ``Expires`` (older user agents ignore
        ``Max-Age=0``) and keeps every attribute the policy decided.
        """
        return [
            {**spec.set_cookie_arguments(), "expires": _EPOCH if spec.deletes else None}
            for spec in self.cookies
        ]


def session_reply(
    policy: CookiePolicy,
    tokens: SessionTokens,
    *,
    mode: str,
    now: float,
    access_max_age: int | None,
    csrf_cookie: bool = True,
) -> SessionReply:
    """The answer to a successful login or refresh.

    The body follows RFC 6749 section 5.1 (``token_type``, ``expires_in``,
    ``scope``); it carries ``access_token`` and ``refresh_token`` only in
    ``json`` and ``both`` modes. In ``cookie`` mode the tokens travel only
    in HttpOnly cookies, so no script on the page (an XSS) ever holds them.
    ``csrf_cookie=False`` leaves out the double-submit cookie, for a
    framework whose own CSRF machinery protects cookie requests (Django).
    Always ``Cache-Control: no-store`` (RFC 6749 section 5.1).
    """
    _check_mode(mode)
    body: dict[str, Any] = {"token_type": "Bearer"}
    if access_max_age is not None:
        body["expires_in"] = access_max_age
    if mode != "cookie":
        body["access_token"] = tokens.access_token
        body["refresh_token"] = tokens.refresh_token
        body["refresh_expires_in"] = tokens.refresh_max_age(now)
    if tokens.scopes:
        body["scope"] = " ".join(tokens.scopes)
    cookies: tuple[CookieSpec, ...] = ()
    if mode != "json":
        access, refresh, csrf = policy.session_cookies(
            tokens, now=now, access_max_age=access_max_age
        )
        cookies = (access, refresh, csrf) if csrf_cookie else (access, refresh)
    return SessionReply(status=200, headers=dict(_NO_STORE), body=body, cookies=cookies)


def logout_reply(policy: CookiePolicy, *, mode: str, csrf_cookie: bool = True) -> SessionReply:
    """The answer to a logout: 204, and in cookie modes the deletion of the session cookies."""
    _check_mode(mode)
    cookies: tuple[CookieSpec, ...] = ()
    if mode != "json":
        access, refresh, csrf = policy.clear_cookies()
        cookies = (access, refresh, csrf) if csrf_cookie else (access, refresh)
    return SessionReply(status=204, headers=dict(_NO_STORE), body=None, cookies=cookies)


def find_refresh_token(
    policy: CookiePolicy, *, mode: str, body_token: Any, cookies: Mapping[str, str]
) -> ExtractedToken | None:
    """The refresh token a refresh or logout request presents, and where from.

    ``json`` mode reads only the body's ``refresh_token``, ``cookie`` mode
    only the refresh cookie, ``both`` the body first. A token from the
    cookie (``location == "cookie"``) was attached by the browser on its
    own, so the request needs CSRF proof
    (:func:`jwt_guard_core.http.csrf_required`). A body value that is not a
    string is passed on as given and refused by the refresh service as
    ``malformed``.
    """
    _check_mode(mode)
    if mode != "cookie" and body_token is not None:
        return ExtractedToken(body_token, "body")
    if mode != "json":
        value = cookies.get(policy.refresh_cookie)
        if value:
            return ExtractedToken(value, "cookie")
    return None


def credentials_error_response() -> ErrorResponse:
    """400 ``invalid_grant`` for a login with wrong credentials (RFC 6749 section 5.2).

    The same answer whether the user does not exist, is inactive or gave a
    wrong password, so the endpoint cannot be used to find accounts.
    """
    return ErrorResponse(
        status=400,
        headers=dict(_NO_STORE),
        body={"error": "invalid_grant", "error_description": "The credentials are invalid."},
    )


def request_error_response(description: str) -> ErrorResponse:
    """400 ``invalid_request`` for a session request without the fields it needs."""
    return ErrorResponse(
        status=400,
        headers=dict(_NO_STORE),
        body={"error": "invalid_request", "error_description": description},
    )
