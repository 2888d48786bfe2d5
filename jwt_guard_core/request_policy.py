"""A request's credentials, decided once over plain data: find, CSRF, verify, sender checks.

Both adapters describe their framework's request as a :class:`RequestView`
and get an :class:`Outcome` back; they only store it and turn its
:meth:`Outcome.refusal` into their own response::

    view = RequestView(method, authorization, cookie=..., headers=..., url=...)
    step = locate(view, settings, policy, csrf_failure=...)   # Outcome, or the token found
    outcome = step if isinstance(step, Outcome) else verify_request(view, step, verify, policy)
    outcome.refusal()      # ErrorResponse, or None: the request may go on

:func:`verify_steps` (and :meth:`BearerPlan.steps`) is the verification as
:mod:`~jwt_guard_core.steps`, for an adapter that drives its sync and async
paths with ``drive``/``adrive``; :func:`verify_request` and
:func:`averify_request` drive it.

What the configuration does not use is never read: cookies only when they
are a token location, the URL only when a DPoP proof is checked against
it, the CSRF check only for a cookie token on an unsafe method. The
CSRF check itself is the framework's (Django's ``CsrfViewMiddleware``, the
Flask double-submit cookie): the adapter passes it as ``csrf_failure``.

The common request, a ``Bearer`` token in the ``Authorization`` header
under a configuration that reads nothing else, has a flatter path decided
once per configuration (:func:`bearer_plan`)::

    plan = bearer_plan(settings, policy)          # once; None: always the full path
    step = plan.verify(authorization, verify, view=lambda: RequestView(...))  # or plan.steps
    # a VerifiedToken: accepted; an Outcome: what verify_request reaches;
    # None: the full path (locate, verify_request) decides the request

:class:`RequestPlan` keeps both for one configuration: its ``steps`` take the
bearer plan when it applies, else the full path, and give the :class:`Outcome`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache, partial
from typing import Any, ClassVar, Protocol

from . import events
from .errors import InvalidRequest, TokenError
from .http import ErrorResponse, csrf_failure_response, csrf_refused, csrf_required, is_b64token
from .sender import PresentedToken, ResourcePolicy, SenderRequest, SenderResult, find_token
from .settings.loaded import RequestSettings
from .steps import Io, Steps, adrive, drive
from .token import VerifiedToken

__all__ = [
    "BearerPlan",
    "Outcome",
    "RequestPlan",
    "RequestView",
    "averify_request",
    "bearer_plan",
    "locate",
    "missing_user",
    "sender_request",
    "set_dpop_nonce",
    "user_not_found",
    "verify_request",
    "verify_steps",
    "without_user",
]


def _no_url() -> tuple[str, str, str]:
    return ("", "", "")


def _no_headers(name: str) -> tuple[str, ...]:
    return ()


def _no_cookie(name: str) -> str | None:
    return None


@dataclass(frozen=True, slots=True)
class RequestView:
    """What the request decisions read from a framework request.

    Args:
        method: the request method.
        authorization: the ``Authorization`` header, or ``None``.
        cookie: ``cookie(name)``, the cookie's value or ``None``; called
            only when cookies are a token location.
        headers: ``headers(name)``, every value of that header (none: an
            empty tuple); read for the DPoP proof, the client certificate
            and the forwarded headers the settings name.
        url: ``url()``, the ``(scheme, host with port, path)`` the DPoP
            ``htu`` is compared with; called only when a DPoP proof is
            checked (Django's ``get_host()`` refuses a host outside
            ``ALLOWED_HOSTS``, which a bearer request never met).
    """

    method: str
    authorization: str | None
    cookie: Callable[[str], str | None] = _no_cookie
    headers: Callable[[str], tuple[str, ...]] = _no_headers
    url: Callable[[], tuple[str, str, str]] = _no_url

    @classmethod
    def from_environ(
        cls,
        environ: Mapping[str, Any],
        method: str,
        *,
        cookie: Callable[[str], str | None] = _no_cookie,
        url: Callable[[], tuple[str, str, str]] = _no_url,
    ) -> RequestView:
        """The view of a WSGI ``environ`` (Django's ``request.META``): headers from ``HTTP_*``.

        WSGI and Django's ASGI handler fold a repeated header into one value
        joined by ","; the DPoP check refuses that as several proofs.
        """
        headers = partial(_environ_header, environ)
        return cls(method, environ.get("HTTP_AUTHORIZATION"), cookie, headers, url)


def _environ_header(environ: Mapping[str, Any], name: str) -> tuple[str, ...]:
    value = environ.get("HTTP_" + name.upper().replace("-", "_"))
    return (value,) if value is not None else ()


@dataclass(frozen=True)
class Outcome:
    """What a request's credentials came to.

    Exactly one of: a verified ``token``; an ``error`` (invalid, malformed
    request, key source down); ``csrf_failed``; or none of them (no token:
    anonymous). ``location`` is where the token was found (``"header"``,
    ``"cookie"``), ``presented`` how it came (``"DPoP"``, ``"Bearer"``,
    ``"cookie"``), ``sender`` what the DPoP and certificate checks found
    (the ``DPoP-Nonce`` to send, among others), ``policy`` the resource
    policy whose challenges a refusal carries.
    """

    token: VerifiedToken | None = None
    error: TokenError | None = None
    csrf_failed: bool = False
    location: str | None = None
    presented: str | None = None
    sender: SenderResult | None = None
    policy: ResourcePolicy | None = field(default=None, repr=False, compare=False)

    @property
    def reason(self) -> str | None:
        """The machine reason of a refusal (``csrf_failed`` included), else ``None``."""
        if self.csrf_failed:
            return "csrf_failed"
        return self.error.reason if self.error is not None else None

    @property
    def deferrable(self) -> bool:
        """Whether a ``jwt_exempt`` view may run without this refused token.

        Only a cookie that failed verification (revoked, expired, a retired
        key) is: a bad ``Authorization`` header is the client's choice, and
        a cookie without CSRF proof may be a forged cross-site request.
        """
        return self.location == "cookie" and self.error is not None

    @property
    def nonce(self) -> str | None:
        """The ``DPoP-Nonce`` to send on the response (RFC 9449 section 8.2), if any."""
        return self.sender.nonce if self.sender is not None else None

    def refusal(self, *, dpop: str | None = None) -> ErrorResponse | None:
        """The response this outcome demands, or ``None`` when the request may go on.

        ``dpop="required"``: a route's own demand, which shapes the challenge.
        """
        if self.csrf_failed:
            return csrf_failure_response()
        if self.error is not None:
            return self.answer(self.error, dpop=dpop)
        return None

    def answer(self, error: TokenError | None, *, dpop: str | None = None) -> ErrorResponse:
        """The response for ``error`` (``None``: no token) on this request: status, challenges."""
        policy = self.policy if self.policy is not None else _default_policy()
        return policy.refusal(error, presented=self.presented, dpop=dpop)

    def refused(self, error: TokenError) -> Outcome:
        """This request refused with ``error`` after all (its token's user is gone, say)."""
        return replace(self, token=None, error=error, sender=None)

    @property
    def signal(self) -> tuple[str, dict[str, Any]] | None:
        """The adapter signal this outcome sends and its arguments; ``None`` for no token.

        ``("token_verified", {"token"})`` or ``("token_rejected", {"reason", "error"})``
        (``error`` is ``None`` for a CSRF failure).
        """
        if self.token is not None:
            return "token_verified", {"token": self.token}
        if self.reason is not None:
            return "token_rejected", {"reason": self.reason, "error": self.error}
        return None


@cache
def _default_policy() -> ResourcePolicy:
    # An outcome built without a policy (a signal's, say) answers as the defaults.
    return ResourcePolicy()


def user_not_found() -> TokenError:
    """The rejection for a valid token whose user does not exist or is inactive."""
    return TokenError("no active user matches the token", reason="user_not_found")


def missing_user() -> TokenError:
    """:func:`user_not_found`, reported as a ``token_rejected`` security event (WARNING)."""
    events.emit("token_rejected", level=logging.WARNING, reason="user_not_found", status=401)
    return user_not_found()


def without_user(outcome: Outcome, exempt: Callable[[], bool]) -> Outcome:
    """What a middleware lets through when the request's ``outcome`` gave it no user.

    A valid token whose user is missing or inactive is refused
    (``user_not_found``), as the decorators and DRF refuse it, or a plain
    view would act for a disabled account. A refusal the outcome can defer
    (:attr:`Outcome.deferrable`) on a view that is ``exempt()`` (asked only
    then) becomes anonymous: the view finds the real outcome itself.
    """
    if outcome.token is not None:
        outcome = outcome.refused(user_not_found())
    if outcome.deferrable and exempt():
        return Outcome()
    return outcome


class _Headers(Protocol):
    def __contains__(self, name: str, /) -> bool: ...
    def __setitem__(self, name: str, value: str, /) -> None: ...


def set_dpop_nonce(headers: _Headers, nonce: str | None) -> None:
    """Put the next DPoP ``nonce`` on a response's ``headers`` unless it sets its own.

    RFC 9449 section 8.2: the nonce may ride on any response, so a client
    never needs a failed request to learn it.
    """
    if nonce and "DPoP-Nonce" not in headers:
        headers["DPoP-Nonce"] = nonce


def locate(
    view: RequestView,
    settings: RequestSettings,
    policy: ResourcePolicy,
    *,
    csrf_failure: Callable[[], str | None],
    locations: Sequence[str] | None = None,
) -> Outcome | PresentedToken:
    """Everything before verification: find the token, apply CSRF.

    Returns the token found, or the outcome already reached: no token
    (anonymous), a malformed ``Authorization`` header (400), or a cookie
    token on an unsafe method whose CSRF proof ``csrf_failure()`` refuses
    (it returns why, or ``None``). ``locations`` overrides the settings'
    for one route. Each refusal is a ``token_rejected`` security event.
    """
    where = locations or settings.locations
    cookies: dict[str, str] = {}
    if "cookie" in where:
        value = view.cookie(settings.cookie_name)
        if value is not None:
            cookies[settings.cookie_name] = value
    try:
        found = find_token(
            authorization=view.authorization,
            cookies=cookies,
            locations=where,
            header_types=settings.header_types,
            cookie_name=settings.cookie_name,
        )
    except InvalidRequest as exc:
        events.emit("token_rejected", reason=exc.reason, status=exc.status)
        return Outcome(error=exc, location="header", policy=policy)
    if found is None:
        return Outcome(policy=policy)
    # A browser sends cookies with cross-site requests on its own; an
    # unsafe request authenticated by one must prove it came from our pages.
    if (
        settings.csrf_protect
        and csrf_required(view.method, found.location)
        and csrf_refused(csrf_failure, credential="token")
    ):
        return Outcome(
            csrf_failed=True, location=found.location, presented=found.scheme, policy=policy
        )
    return found


def sender_request(
    view: RequestView, found: PresentedToken, policy: ResourcePolicy
) -> SenderRequest:
    """What the DPoP and certificate checks read, taken from ``view`` as the policy needs it."""
    proof_checked = found.scheme == "DPoP" and policy.dpop_mode != "off"
    headers = {}
    for name in policy.forwarded_headers:
        values = view.headers(name)
        if values:
            headers[name] = values[0]
    # Only a proof names the URL (htu); a bearer or certificate check never reads it.
    scheme, host, path = view.url() if proof_checked else _no_url()
    mtls = policy.mtls
    return SenderRequest(
        method=view.method,
        scheme=scheme,
        host=host,
        path=path,
        presented=found.scheme,
        proofs=view.headers("DPoP"),
        headers=headers,
        certificates=view.headers(mtls.header) if mtls is not None else (),
    )


_UNBOUND = SenderResult()


def _unbound(found: PresentedToken, token: VerifiedToken, policy: ResourcePolicy) -> bool:
    # Nothing for the sender checks to do: DPoP off, no certificate header
    # configured, a bearer token without cnf. Their answer would be an
    # unbound result, so the request is not read for it.
    return (
        policy.dpop_mode == "off"
        and policy.mtls is None
        and found.scheme != "DPoP"
        and "cnf" not in token.claims
    )


def _outcome(
    found: PresentedToken,
    policy: ResourcePolicy,
    token: VerifiedToken | None = None,
    sender: SenderResult | None = None,
    error: TokenError | None = None,
) -> Outcome:
    return Outcome(
        token=token,
        error=error,
        location=found.location,
        presented=found.scheme,
        sender=sender,
        policy=policy,
    )


def verify_steps(
    view: RequestView,
    found: PresentedToken,
    verify: Callable[[str], Io],
    policy: ResourcePolicy,
) -> Steps[Outcome]:
    """Verify the token found (``verify(raw)``: the call), then its sender binding; the outcome.

    The verifier and the sender checks emit their own security events.
    """
    try:
        token = yield verify(found.token)
    except TokenError as exc:
        return _outcome(found, policy, error=exc)
    if _unbound(found, token, policy):
        return _outcome(found, policy, token, _UNBOUND)
    return (yield from _sender_steps(view, found, token, policy))


def _sender_steps(
    view: RequestView, found: PresentedToken, token: VerifiedToken, policy: ResourcePolicy
) -> Steps[Outcome]:
    # DPoP proof and certificate binding (RFC 9449, RFC 8705), after the
    # signature: the proof's jti is spent only on an otherwise valid request.
    request = sender_request(view, found, policy)
    try:
        sender = yield Io(
            partial(policy.check, request, token, found.token),
            partial(policy.acheck, request, token, found.token),
        )
    except TokenError as exc:
        return _outcome(found, policy, error=exc)
    return _outcome(found, policy, token, sender)


def _async(call: Callable[[str], Awaitable[Any]]) -> Callable[[str], Io]:
    return lambda raw: Io(_no_sync, partial(call, raw))


def _no_sync() -> Any:  # pragma: no cover - an async driver never runs the sync call
    raise AssertionError("driven the other way")


def verify_request(
    view: RequestView,
    found: PresentedToken,
    verify: Callable[[str], VerifiedToken],
    policy: ResourcePolicy,
) -> Outcome:
    """:func:`verify_steps` with the sync ``verify``, written out: no generator on the hot path."""
    try:
        token = verify(found.token)
    except TokenError as exc:
        return _outcome(found, policy, error=exc)
    if _unbound(found, token, policy):
        return _outcome(found, policy, token, _UNBOUND)
    return drive(_sender_steps(view, found, token, policy))


async def averify_request(
    view: RequestView,
    found: PresentedToken,
    averify: Callable[[str], Awaitable[VerifiedToken]],
    policy: ResourcePolicy,
) -> Outcome:
    """Like :func:`verify_request`; key fetches and replay stores never block the event loop."""
    return await adrive(verify_steps(view, found, _async(averify), policy))


@dataclass(frozen=True, slots=True)
class BearerPlan:
    """The path of a bearer token in the ``Authorization`` header, decided once per configuration.

    :func:`bearer_plan` builds one only when such a request needs nothing
    but verifying: tokens are read from the header alone (no cookie, so no
    CSRF), DPoP is off and no client-certificate header is configured. Per
    request, :meth:`verify` reads the header value once and returns the
    verified token, or the :class:`Outcome` :func:`verify_request` reaches
    for it (a refusal, or the sender checks' answer on a token with
    ``cnf``), or ``None``: any other header (none, another scheme, a
    malformed one, ``DPoP``) goes the full path, which decides it as before.
    The answer is the full path's, token for token and refusal for refusal.
    """

    #: What the sender checks find for the plan's token: nothing bound.
    sender: ClassVar[SenderResult] = _UNBOUND
    #: The lower-case ``Authorization`` schemes taken (``JWT_GUARD_HEADER_TYPES`` but DPoP).
    schemes: frozenset[str]
    locations: tuple[str, ...]
    policy: ResourcePolicy = field(repr=False)

    def credential(self, authorization: str | None) -> str | None:
        """The token of a well-formed ``<scheme> <token>`` header this plan takes, else ``None``."""
        if authorization is None:
            return None
        scheme, space, raw = authorization.partition(" ")
        # Anything the full path would parse differently (leading or doubled
        # spaces, a tab, characters outside token68) is left to it.
        if space and scheme.lower() in self.schemes and is_b64token(raw):
            return raw
        return None

    def found(self, raw: str) -> PresentedToken:
        """What :func:`locate` returns for the same header."""
        return PresentedToken(raw, "header", "Bearer")

    def outcome(self, token: VerifiedToken) -> Outcome:
        """The :class:`Outcome` :func:`verify_request` reaches for an accepted bearer token."""
        return Outcome(
            token=token,
            location="header",
            presented="Bearer",
            sender=self.sender,
            policy=self.policy,
        )

    def steps(
        self,
        authorization: str | None,
        verify: Callable[[str], Io],
        *,
        view: Callable[[], RequestView],
    ) -> Steps[VerifiedToken | Outcome | None]:
        """The verified token, the outcome reached otherwise, or ``None``: take the full path.

        ``verify(raw)`` is the verification call; ``view()`` is called only
        for a token with ``cnf``, whose sender checks read the request as on
        the full path.
        """
        raw = self.credential(authorization)
        if raw is None:
            return None
        try:
            token: VerifiedToken = yield verify(raw)
        except TokenError as exc:
            return _outcome(self.found(raw), self.policy, error=exc)
        if "cnf" not in token.claims:
            return token
        return (yield from _sender_steps(view(), self.found(raw), token, self.policy))

    def verify(
        self,
        authorization: str | None,
        verify: Callable[[str], VerifiedToken],
        *,
        view: Callable[[], RequestView],
    ) -> VerifiedToken | Outcome | None:
        """:meth:`steps` with the sync ``verify``, written out: the hot path runs no generator."""
        raw = self.credential(authorization)
        if raw is None:
            return None
        try:
            token = verify(raw)
        except TokenError as exc:
            return _outcome(self.found(raw), self.policy, error=exc)
        if "cnf" not in token.claims:
            return token
        return drive(_sender_steps(view(), self.found(raw), token, self.policy))

    async def averify(
        self,
        authorization: str | None,
        averify: Callable[[str], Awaitable[VerifiedToken]],
        *,
        view: Callable[[], RequestView],
    ) -> VerifiedToken | Outcome | None:
        """Like :meth:`verify`; key fetches and replay stores never block the event loop."""
        return await adrive(self.steps(authorization, _async(averify), view=view))


def bearer_plan(
    settings: RequestSettings, policy: ResourcePolicy, locations: Sequence[str] | None = None
) -> BearerPlan | None:
    """A configuration's :class:`BearerPlan`, or ``None``: every request takes the full path.

    ``locations`` overrides the settings' (a route's own); the plan needs
    the header alone, DPoP off and no client-certificate header.
    """
    where = tuple(locations or settings.locations)
    if where != ("header",) or policy.dpop_mode != "off" or policy.mtls is not None:
        return None
    # find_token reads a header starting "dpop" as DPoP first: never the plan's.
    schemes = frozenset(
        t.lower() for t in settings.header_types if not t.lower().startswith("dpop")
    )
    if not schemes:
        return None
    return BearerPlan(schemes=schemes, locations=where, policy=policy)


@dataclass(frozen=True, slots=True)
class RequestPlan:
    """How one configuration decides a request's credentials: built once, kept with it.

    :meth:`steps` takes the :class:`BearerPlan` when there is one and it
    takes the request, else the full path (:func:`locate`, then
    :func:`verify_steps`); the outcome is the same either way.
    """

    settings: RequestSettings
    policy: ResourcePolicy
    #: The configuration's :func:`bearer_plan`.
    bearer: BearerPlan | None = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "bearer", bearer_plan(self.settings, self.policy))

    def steps(
        self,
        authorization: str | None,
        view: Callable[[], RequestView],
        verify: Callable[[str], Io],
        csrf_failure: Callable[[], str | None],
    ) -> Steps[Outcome]:
        """The request's :class:`Outcome`; ``view()`` is built only when the request is read.

        ``authorization`` is the ``Authorization`` header, ``verify(raw)`` the
        verification call, ``csrf_failure`` as for :func:`locate`.
        """
        plan = self.bearer
        if plan is not None:
            step = yield from plan.steps(authorization, verify, view=view)
            if isinstance(step, VerifiedToken):
                return plan.outcome(step)
            if step is not None:
                return step
        request = view()
        found = locate(request, self.settings, self.policy, csrf_failure=csrf_failure)
        if isinstance(found, Outcome):
            return found
        return (yield from verify_steps(request, found, verify, self.policy))
