"""What the login, refresh and logout endpoints decide, for every framework.

The Django views and the Flask routes are thin: they describe the request
(:class:`SessionRequest`), supply what only the framework knows (the user's
credentials check, its CSRF check, the verified access token) and apply the
:class:`~jwt_guard_core.sessions.cookies.SessionReply` they get back. Which
body is accepted, which refresh token counts, when CSRF proof is needed, what
logout revokes, which error answers which mistake: all decided here, once.

::

    endpoints = SessionEndpoints(
        refresh_tokens=sessions, revocation=revocation, policy=CookiePolicy(),
        mode="cookie", clock=time.time, access_max_age=900, realm="api",
    )
    reply = endpoints.refresh(
        SessionRequest(content_type, lambda: raw_body, cookies),
        csrf_failure=lambda: None if policy.csrf_valid(cookies, headers) else "no CSRF header",
    )
    reply = await endpoints.arefresh(...)   # an async view: the same decisions

Each endpoint is written once as steps (:mod:`jwt_guard_core.sessions.steps`):
``login``/``refresh``/``logout``/``logout_everywhere`` drive them with the
sync stores, ``alogin``/``arefresh``/``alogout``/``alogout_everywhere``
await the async ones.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from .. import events
from ..encoding import json_depth_within
from ..errors import StateUnavailable, TokenError
from ..http import (
    ErrorResponse,
    ExtractedToken,
    csrf_failure_response,
    csrf_refused,
    error_response,
)
from ..token import InvalidScope, VerifiedToken, parse_scope
from .cookies import (
    CookiePolicy,
    SessionReply,
    credentials_error_response,
    find_refresh_token,
    logout_reply,
    request_error_response,
    session_reply,
)
from .ratelimit import Attempt, FailureRateLimiter
from .refresh import RefreshTokenService, SessionTokens, refresh_error_response
from .revocation import RevocationService
from .steps import Io, Steps, adrive, drive

__all__ = [
    "AsyncCredentialsCheck",
    "CredentialsCheck",
    "CsrfCheck",
    "InvalidBody",
    "SessionEndpoints",
    "SessionRequest",
    "error_reply",
    "read_json_body",
]

#: ``check(username, password)`` -> ``None`` (refused) or ``(subject, scopes)``.
CredentialsCheck = Callable[[str, str], "tuple[str, Iterable[str]] | None"]
#: The same as a coroutine function, for :meth:`SessionEndpoints.alogin`.
AsyncCredentialsCheck = Callable[[str, str], "Awaitable[tuple[str, Iterable[str]] | None]"]
#: ``csrf_failure()`` -> ``None`` when the request proves its origin, else why not.
CsrfCheck = Callable[[], "str | None"]

_NOT_JSON = "Send a JSON object (Content-Type: application/json)."
_BAD_SCOPE = "scope is a string of scope names separated by single spaces."
_TOO_LARGE = "The body is too large."
_TOO_DEEP = "The JSON body is nested too deeply."

#: The largest session request body read (credentials, a refresh token, a scope).
MAX_BODY_BYTES = 16 * 1024
#: The deepest nesting of objects and arrays a session request body may have.
MAX_BODY_DEPTH = 16


class InvalidBody(ValueError):
    """A request body the session endpoints cannot use; ``str()`` is the client's description."""


def read_json_body(
    content_type: str | None,
    read: Callable[[], bytes],
    *,
    required: bool,
    content_length: int | None = None,
) -> dict[str, Any]:
    """The JSON object a request sent, ``{}`` for an absent optional body.

    JSON only: a cross-site HTML form cannot send ``application/json``
    without a CORS preflight, which closes login CSRF for the obtain route.
    ``content_type`` is the media type without parameters. ``read`` is
    called only for a JSON request: another content type is no body where
    one is optional (a cookie refresh), and its stream may already have been
    consumed by the framework's form parsing.

    These routes take unauthenticated bodies, so the parser is bounded
    before it runs: at most :data:`MAX_BODY_BYTES` (checked against
    ``content_length`` before ``read`` when the adapter knows it, and
    against what was read), UTF-8 (RFC 8259 section 8.1), and at most
    :data:`MAX_BODY_DEPTH` levels of nesting, so ``[[[[...`` is a 400, never
    a ``RecursionError``.

    Raises:
        InvalidBody: the body is missing where required, too large, not
            UTF-8 JSON, nested too deeply, or not an object; its message is
            the ``error_description`` of the 400 ``invalid_request``.
    """
    if content_type != "application/json":
        if required:
            raise InvalidBody(_NOT_JSON)
        return {}
    if content_length is not None and content_length > MAX_BODY_BYTES:
        raise InvalidBody(_TOO_LARGE)
    raw = read()
    if not raw:
        if required:
            raise InvalidBody(_NOT_JSON)
        return {}
    if len(raw) > MAX_BODY_BYTES:
        raise InvalidBody(_TOO_LARGE)
    try:
        text = raw.decode("utf-8-sig")  # a BOM may be ignored (RFC 8259 section 8.1)
    except UnicodeDecodeError:
        raise InvalidBody(_NOT_JSON) from None
    if not json_depth_within(text, MAX_BODY_DEPTH):
        raise InvalidBody(_TOO_DEEP)
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise InvalidBody(_NOT_JSON) from None
    if not isinstance(data, dict):
        raise InvalidBody(_NOT_JSON)
    return data


def _requested_scopes(scope: Any) -> tuple[str, ...] | None:
    """The scopes a refresh asks for (``None``: the session's own), or :class:`InvalidScope`.

    The same grammar as a token's ``scope`` claim (RFC 6749 section 3.3):
    names separated by single U+0020 spaces, nothing else.
    """
    if scope is None:
        return None
    if not isinstance(scope, str):
        raise InvalidScope("scope is not a string")
    return parse_scope(scope)


def error_reply(spec: ErrorResponse) -> SessionReply:
    """An error response as a :class:`SessionReply`, so an adapter needs one converter."""
    return SessionReply(status=spec.status, headers=spec.headers, body=spec.body)


@dataclass(frozen=True)
class SessionRequest:
    """The parts of a request a session endpoint reads.

    ``content_type`` is the media type without parameters; ``read_body``
    returns the raw body (called at most once, and only for JSON);
    ``content_length`` is the request's ``Content-Length`` when the
    framework knows it, so an oversized body is refused before it is read.
    """

    content_type: str | None
    read_body: Callable[[], bytes] = field(repr=False)
    cookies: Mapping[str, str] = field(repr=False)
    content_length: int | None = None

    def json(self, *, required: bool) -> dict[str, Any]:
        """See :func:`read_json_body`."""
        return read_json_body(
            self.content_type,
            self.read_body,
            required=required,
            content_length=self.content_length,
        )


async def _not_async() -> Any:
    raise RuntimeError("a sync credentials check reached the async path")


def _not_sync() -> Any:
    raise RuntimeError("an async credentials check reached the sync path")


def _csrf_refusal(csrf_failure: CsrfCheck) -> SessionReply | None:
    if csrf_refused(csrf_failure, credential="credential"):
        return error_reply(csrf_failure_response())
    return None


@dataclass(frozen=True, kw_only=True)
class SessionEndpoints:
    """The four session endpoints over the core's services.

    Args:
        refresh_tokens: issues, rotates and revokes sessions.
        revocation: denies access tokens (logout).
        policy: the cookie names and attributes.
        mode: ``json``, ``cookie`` or ``both`` (see
            :data:`~jwt_guard_core.sessions.cookies.DELIVERY_MODES`).
        clock: Unix time, for the refresh cookie's ``Max-Age``.
        access_max_age: the access cookie's ``Max-Age`` and ``expires_in``.
        realm: the ``WWW-Authenticate`` realm of 401 answers.
        limiter: counts failed logins per client (``None``: no limit).
        csrf_cookie: set the core's double-submit CSRF cookie; ``False``
            for a framework whose own CSRF machinery protects cookie
            requests (Django sets its ``csrftoken`` itself).
    """

    refresh_tokens: RefreshTokenService
    revocation: RevocationService
    policy: CookiePolicy
    mode: str
    clock: Callable[[], float]
    access_max_age: int | None
    realm: str = "api"
    limiter: FailureRateLimiter | None = None
    csrf_cookie: bool = True

    def _session(self, tokens: Any) -> SessionReply:
        return session_reply(
            self.policy,
            tokens,
            mode=self.mode,
            now=self.clock(),
            access_max_age=self.access_max_age,
            csrf_cookie=self.csrf_cookie,
        )

    def _ended(self) -> SessionReply:
        return logout_reply(self.policy, mode=self.mode, csrf_cookie=self.csrf_cookie)

    def _refresh_token(
        self, request: SessionRequest, data: Mapping[str, Any]
    ) -> ExtractedToken | None:
        return find_refresh_token(
            self.policy,
            mode=self.mode,
            body_token=data.get("refresh_token"),
            cookies=request.cookies,
        )

    def login(
        self, request: SessionRequest, *, client: str, check: CredentialsCheck
    ) -> SessionReply:
        """``POST {"username", "password"}``: check the credentials, start a session.

        200 with the tokens (JSON and/or cookies); 400 ``invalid_grant`` for
        wrong credentials (one answer whatever was wrong, so accounts cannot
        be discovered); 400 ``invalid_request`` for a body that is not a
        JSON object with both strings; 429 with ``Retry-After`` after too
        many failures from ``client``; 503 when the session store is down.
        The access token the request may carry plays no part.
        """
        return drive(
            self.login_steps(request, client, lambda u, p: Io(partial(check, u, p), _not_async))
        )

    async def alogin(
        self, request: SessionRequest, *, client: str, check: AsyncCredentialsCheck
    ) -> SessionReply:
        """Like :meth:`login`, awaiting ``check`` and the async stores."""
        return await adrive(
            self.login_steps(request, client, lambda u, p: Io(_not_sync, partial(check, u, p)))
        )

    def login_steps(
        self, request: SessionRequest, client: str, check: Callable[[str, str], Io]
    ) -> Steps[SessionReply]:
        try:
            data = request.json(required=True)
        except InvalidBody as exc:
            return error_reply(request_error_response(str(exc)))
        username, password = data.get("username"), data.get("password")
        if not isinstance(username, str) or not isinstance(password, str):
            return error_reply(request_error_response("Give username and password as strings."))

        def checked(attempt: Attempt | None) -> Steps[tuple[str, Iterable[str]] | None]:
            found: tuple[str, Iterable[str]] | None = yield check(username, password)
            if found is None and attempt is not None:
                attempt.fail()
            return found

        try:
            # Password guessing is a stream of failures too: the same limit,
            # reserved before the (slow) credentials check so that a parallel
            # burst gets no more guesses than a sequence. Kept when the
            # credentials are wrong, forgotten when they are right.
            found = yield from (
                self.limiter.attempt_steps(client, checked) if self.limiter else checked(None)
            )
            if found is None:
                events.emit(
                    "login_failed",
                    level=logging.WARNING,
                    reason="invalid_credentials",
                    message="login refused: invalid credentials",
                    client=client,
                )
                return error_reply(credentials_error_response())
            subject, scopes = found
            tokens = yield from self.refresh_tokens.issue_steps(subject, scopes=scopes)
        except TokenError as exc:
            return error_reply(refresh_error_response(exc))
        events.emit("login_succeeded", subject=subject, family_id=tokens.family_id)
        return self._session(tokens)

    def refresh(self, request: SessionRequest, *, csrf_failure: CsrfCheck) -> SessionReply:
        """``POST``: spend the refresh token, answer a new pair.

        The token is the body's ``refresh_token`` or the refresh cookie (by
        ``mode``); an optional ``scope`` string narrows the new access
        token. 400 ``invalid_grant`` for any refused token (reuse revokes
        the session), 400 ``invalid_request`` without a token, 403
        ``csrf_failed`` for a cookie token without CSRF proof
        (``csrf_failure``), 503 when the store is down. The access token
        plays no part: a browser whose access cookie was revoked or expired
        can still refresh.
        """
        return drive(self.refresh_steps(request, csrf_failure))

    async def arefresh(self, request: SessionRequest, *, csrf_failure: CsrfCheck) -> SessionReply:
        """Like :meth:`refresh`, awaiting the async stores."""
        return await adrive(self.refresh_steps(request, csrf_failure))

    def refresh_steps(
        self, request: SessionRequest, csrf_failure: CsrfCheck
    ) -> Steps[SessionReply]:
        try:
            data = request.json(required=False)
        except InvalidBody as exc:
            return error_reply(request_error_response(str(exc)))
        found = self._refresh_token(request, data)
        if found is None:
            return error_reply(request_error_response("No refresh token was presented."))
        if found.location == "cookie":
            # The browser attaches the cookie to cross-site requests too.
            refused = _csrf_refusal(csrf_failure)
            if refused is not None:
                return refused
        try:
            scopes = _requested_scopes(data.get("scope"))
        except InvalidScope:
            return error_reply(request_error_response(_BAD_SCOPE))
        try:
            tokens: SessionTokens = yield from self.refresh_tokens.refresh_steps(
                found.token, scopes=scopes
            )
        except TokenError as exc:
            return error_reply(refresh_error_response(exc))
        return self._session(tokens)

    def logout(
        self,
        request: SessionRequest,
        *,
        access: VerifiedToken | None,
        csrf_failure: CsrfCheck,
        access_cookie_error: TokenError | None = None,
    ) -> SessionReply:
        """``POST``: end this session.

        Revokes the access token's ``jti`` and its session (``sid``), and the
        family of the presented refresh token (body or cookie). 204 and, in
        cookie modes, the deletion of the cookies.

        ``access`` is the verified access token, if any; the adapter refuses
        a bad *header* token by the normal rules before calling this.
        ``access_cookie_error`` is why the access *cookie* failed
        verification: such a cookie (revoked by "log out everywhere" on
        another device, expired) must not keep the browser from clearing
        its session, so the logout goes on without it. A failure that is
        not about the token (503 key source or store down, 429) is answered
        as such: a logout that did not happen must not look like one.

        401 when the request carries no credential at all; 403 for a
        cookie refresh token without CSRF proof; 503 when the store is down.
        """
        return drive(self.logout_steps(request, access, csrf_failure, access_cookie_error))

    async def alogout(
        self,
        request: SessionRequest,
        *,
        access: VerifiedToken | None,
        csrf_failure: CsrfCheck,
        access_cookie_error: TokenError | None = None,
    ) -> SessionReply:
        """Like :meth:`logout`, awaiting the async stores."""
        return await adrive(self.logout_steps(request, access, csrf_failure, access_cookie_error))

    def logout_steps(
        self,
        request: SessionRequest,
        access: VerifiedToken | None,
        csrf_failure: CsrfCheck,
        access_cookie_error: TokenError | None = None,
    ) -> Steps[SessionReply]:
        try:
            data = request.json(required=False)
        except InvalidBody as exc:
            return error_reply(request_error_response(str(exc)))
        dead_cookie = access_cookie_error is not None
        if access_cookie_error is not None and access_cookie_error.status != 401:
            return error_reply(error_response(access_cookie_error, realm=self.realm))
        found = self._refresh_token(request, data)
        if access is None and found is None and not dead_cookie:
            return error_reply(error_response(None, realm=self.realm))
        if found is not None and found.location == "cookie":
            refused = _csrf_refusal(csrf_failure)
            if refused is not None:
                return refused
        try:
            if access is not None:
                yield from self.revocation.revoke_token_steps(access.claims)
                sid = access.claims.get("sid")
                if isinstance(sid, str):
                    yield from self.refresh_tokens.revoke_family_steps(sid)
            if found is not None:
                yield from self.refresh_tokens.revoke_steps(found.token)
        except StateUnavailable as exc:
            return error_reply(error_response(exc, realm=self.realm))
        return self._ended()

    def logout_everywhere(self, access: VerifiedToken | None) -> SessionReply:
        """``POST`` with a valid access token: revoke every session and token of its subject.

        204 (cookies deleted in cookie modes); 401 without a valid access
        token with a subject; 503 when the store is down.
        """
        return drive(self.logout_everywhere_steps(access))

    async def alogout_everywhere(self, access: VerifiedToken | None) -> SessionReply:
        """Like :meth:`logout_everywhere`, awaiting the async stores."""
        return await adrive(self.logout_everywhere_steps(access))

    def logout_everywhere_steps(self, access: VerifiedToken | None) -> Steps[SessionReply]:
        if access is None or not access.subject:
            return error_reply(error_response(None, realm=self.realm))
        try:
            yield from self.refresh_tokens.revoke_subject_steps(access.subject)
        except StateUnavailable as exc:
            return error_reply(error_response(exc, realm=self.realm))
        return self._ended()
