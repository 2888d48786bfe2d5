"""What a protected resource checks after the token verified: sender binding, step-up, challenges.

Both adapters call this module, so DPoP (RFC 9449), certificate binding
(RFC 8705), step-up (RFC 9470) and the ``WWW-Authenticate`` challenges
(with RFC 9728 ``resource_metadata``) are decided once::

    found = find_token(authorization=..., cookies=..., locations=..., header_types=...,
                       cookie_name=...)                  # token + how it was presented
    token = verifier.verify(found.token)
    result = policy.check(SenderRequest(...), token, found.token)   # or await acheck
    # result.nonce -> DPoP-Nonce response header
    policy.refusal(error, presented=found.scheme)        # ErrorResponse for any TokenError

The adapter hands over plain data (method, URL parts, header values); the
core never sees a framework request.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import events
from .challenges import ChallengeOptions, challenge_response
from .dpop.errors import DPoPBindingError
from .dpop.policy import DPoPPolicy, DPoPRequest, extract_dpop_token
from .errors import ConfigurationError, TokenError
from .http import ErrorResponse, extract_token
from .mtls import MTLSPolicy, check_certificate_binding
from .resource_metadata import ProtectedResourceMetadata
from .step_up import StepUpRequirement, check_step_up
from .token import VerifiedToken

__all__ = [
    "PresentedToken",
    "ResourcePolicy",
    "SenderRequest",
    "SenderResult",
    "find_token",
    "route_dpop",
    "route_step_up",
]

#: What a route may demand of DPoP beyond the global setting.
ROUTE_DPOP = ("required",)


@dataclass(frozen=True)
class PresentedToken:
    """A token found in a request and how it came (``scheme``: DPoP, Bearer or cookie).

    ``location`` is ``"header"`` or ``"cookie"`` (CSRF applies to cookies).
    ``scheme`` is what the DPoP rules and the challenges need: any
    ``Authorization`` scheme other than ``DPoP`` counts as ``Bearer``.
    """

    token: str = field(repr=False)
    location: str
    scheme: str


def find_token(
    *,
    authorization: str | None,
    cookies: Mapping[str, str],
    locations: Sequence[str],
    header_types: Sequence[str],
    cookie_name: str,
) -> PresentedToken | None:
    """The request's token: ``Authorization: DPoP`` first, then the configured locations.

    A ``DPoP`` header is read whenever tokens are read from the header,
    whatever the DPoP mode: with DPoP off the policy refuses it
    (``dpop_not_enabled``) rather than treat the request as anonymous.
    Malformed credentials raise :class:`~jwt_guard_core.errors.InvalidRequest`.
    """
    # The prefix test keeps the common Bearer request to one parse.
    if "header" in locations and authorization and authorization.lstrip()[:4].lower() == "dpop":
        dpop = extract_dpop_token(authorization)
        if dpop is not None:
            return PresentedToken(dpop, "header", "DPoP")
    found = extract_token(
        authorization=authorization,
        cookies=cookies,
        locations=locations,
        header_types=header_types,
        cookie_name=cookie_name,
    )
    if found is None:
        return None
    scheme = "Bearer" if found.location == "header" else "cookie"
    return PresentedToken(found.token, found.location, scheme)


@dataclass(frozen=True)
class SenderRequest:
    """What the sender checks read from the request, as plain data.

    Args:
        method: the request method, as sent.
        scheme: ``http`` or ``https`` as the application sees it.
        host: the ``Host`` header, with its port if any.
        path: the request path without query.
        presented: ``"DPoP"``, ``"Bearer"`` or ``"cookie"``.
        proofs: every ``DPoP`` header value, unfolded where the server allows.
        headers: lower-case header name -> value; only the configured
            forwarded headers are read.
        certificates: every value of the configured client-certificate header.
    """

    method: str
    scheme: str
    host: str
    path: str
    presented: str | None
    proofs: tuple[str, ...] = ()
    headers: Mapping[str, str] = field(default_factory=dict)
    certificates: tuple[str, ...] = ()


@dataclass(frozen=True)
class SenderResult:
    """An accepted request: ``dpop_bound`` (and ``jkt``), the certificate thumbprint, the nonce.

    ``nonce``, when DPoP nonces are on, goes out as the ``DPoP-Nonce``
    response header (RFC 9449 section 8.2).
    """

    dpop_bound: bool = False
    jkt: str | None = None
    certificate: str | None = None
    nonce: str | None = None


def route_dpop(value: str | None) -> str | None:
    """Validate a route's ``dpop=`` argument at decoration time: ``None`` or ``"required"``."""
    if value is not None and value not in ROUTE_DPOP:
        raise ConfigurationError(
            "dpop", f"{value!r}: a route can only ask for dpop='required' (or leave it out)"
        )
    return value


def route_step_up(
    acr_values: Iterable[str] | str = (), max_age: int | None = None
) -> StepUpRequirement | None:
    """A route's step-up demand (``acr_values=``, ``max_age=``), checked at decoration time.

    ``None`` when the route demands nothing; a bad value raises
    :class:`ConfigurationError` (``acr_values`` or ``max_age``).
    """
    requirement = StepUpRequirement(acr_values, max_age)
    return requirement if requirement.acr_values or requirement.max_age is not None else None


@dataclass(frozen=True, kw_only=True)
class ResourcePolicy:
    """How this resource treats a verified token: DPoP, mTLS, metadata, challenges, step-up.

    Args:
        dpop: the DPoP policy; mode ``"off"`` still refuses a DPoP-bound
            token presented as a bearer token (RFC 9449 section 7.2).
        mtls: where the proxy passes the client certificate, or ``None``:
            a certificate-bound token is then refused (its binding cannot
            be confirmed).
        metadata: the RFC 9728 document; its URL goes into every challenge.
        realm: the challenges' ``realm``.
        clock: the verifier's clock (step-up ``max_age``).
        leeway: clock skew allowed on ``auth_time``, in seconds.
    """

    dpop: DPoPPolicy = field(default_factory=lambda: DPoPPolicy(mode="off"))
    mtls: MTLSPolicy | None = None
    metadata: ProtectedResourceMetadata | None = None
    realm: str = "api"
    clock: Callable[[], float] = time.time
    leeway: float = 10.0

    @property
    def dpop_mode(self) -> str:
        return self.dpop.mode

    @property
    def forwarded_headers(self) -> tuple[str, ...]:
        """The lower-case names of the forwarded headers to pass in :attr:`SenderRequest.headers`.

        Only these are read, so an adapter copies nothing else per request.
        """
        return tuple(self.dpop.request_url.forwarded_headers.values())

    def _dpop_request(self, request: SenderRequest) -> DPoPRequest:
        return DPoPRequest(
            method=request.method,
            scheme=request.scheme,
            host=request.host,
            path=request.path,
            authorization_scheme=request.presented,
            proofs=request.proofs,
            headers=request.headers,
        )

    def _certificate(self, token: VerifiedToken, request: SenderRequest) -> str | None:
        if self.mtls is None:
            check_certificate_binding(token.claims, None)
            return None
        return self.mtls.check(token.claims, request.certificates)

    def check(self, request: SenderRequest, token: VerifiedToken, raw: str) -> SenderResult:
        """Run the DPoP and certificate checks; raise a :class:`TokenError` or return the result."""
        result = self.dpop.check(self._dpop_request(request), token, raw)
        certificate = self._certificate(token, request)
        return SenderResult(result.bound, result.jkt, certificate, result.nonce)

    async def acheck(self, request: SenderRequest, token: VerifiedToken, raw: str) -> SenderResult:
        """Like :meth:`check`; a replay store that does I/O runs in a worker thread."""
        result = await self.dpop.acheck(self._dpop_request(request), token, raw)
        certificate = self._certificate(token, request)
        return SenderResult(result.bound, result.jkt, certificate, result.nonce)

    # -- per route

    def require_dpop(self, result: SenderResult | None) -> None:
        """A route's ``dpop="required"``: refuse a token that was not DPoP-bound and proven.

        Raises :class:`~jwt_guard_core.dpop.DPoPBindingError`
        (``dpop_required``); a :class:`ConfigurationError` when DPoP is off
        globally, since no request could then satisfy the route.
        """
        if self.dpop.mode == "off":
            raise ConfigurationError(
                "dpop", "a route requires DPoP but DPoP is 'off'; set it to 'allowed'"
            )
        if result is not None and result.dpop_bound:
            return
        error = DPoPBindingError("this route requires a DPoP-bound token", reason="dpop_required")
        events.emit(
            "dpop_rejected",
            level=logging.INFO,
            reason=error.reason,
            message=f"DPoP request rejected: {error.detail}",
            status=error.status,
        )
        raise error

    def step_up(self, token: VerifiedToken, requirement: StepUpRequirement) -> None:
        """Raise :class:`~jwt_guard_core.step_up.InsufficientUserAuthentication` unless met."""
        check_step_up(token.claims, requirement, now=float(self.clock()), leeway=self.leeway)

    # -- answers

    def challenges(self, *, dpop: str | None = None) -> ChallengeOptions:
        """The challenge options; ``dpop="required"`` for a route that demands DPoP."""
        metadata = self.metadata.url if self.metadata is not None else None
        if dpop == "required" and self.dpop.mode != "off":
            return ChallengeOptions(
                schemes=("DPoP",),
                realm=self.realm,
                dpop_algorithms=self.dpop.algorithms,
                resource_metadata=metadata,
            )
        return ChallengeOptions.for_policy(self.dpop, realm=self.realm, resource_metadata=metadata)

    def refusal(
        self, error: TokenError | None, *, presented: str | None = None, dpop: str | None = None
    ) -> ErrorResponse:
        """Status, headers and body for ``error`` (``None``: no credentials).

        ``presented`` is how the token came (``"DPoP"``, ``"Bearer"``,
        ``"cookie"``); ``dpop`` a route's own DPoP demand.
        """
        scheme = presented if presented in ("DPoP", "Bearer") else None
        return challenge_response(error, self.challenges(dpop=dpop), presented=scheme)

    def metadata_document(self) -> dict[str, Any] | None:
        """The RFC 9728 document to serve, or ``None`` when not configured."""
        return self.metadata.document() if self.metadata is not None else None
