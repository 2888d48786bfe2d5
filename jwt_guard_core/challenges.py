"""``WWW-Authenticate`` challenges for Bearer, DPoP, step-up and resource metadata.

One function decides which challenges a 401/403 carries and which of them
holds the error:

* the schemes the resource accepts each get a challenge (``Bearer`` with
  DPoP off, ``Bearer`` and ``DPoP`` with it allowed, ``DPoP`` alone when it
  is required), RFC 9449 section 7.1 and 7.2;
* a DPoP proof error (``invalid_dpop_proof``, ``use_dpop_nonce``) goes on
  the ``DPoP`` challenge; any other error on the scheme the client used, or
  the first accepted one;
* the ``DPoP`` challenge names its algorithms (``algs``);
* ``insufficient_scope`` names the scope, ``insufficient_user_authentication``
  the ``acr_values`` and ``max_age`` (RFC 9470 section 3);
* every challenge carries ``resource_metadata`` when a metadata URL is set
  (RFC 9728 section 5.1).

With only ``Bearer`` and no metadata URL the value is exactly what
:func:`jwt_guard_core.http.www_authenticate` gives.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .dpop.errors import InvalidDPoPProof, UseDPoPNonce
from .dpop.policy import DPoPPolicy
from .errors import ConfigurationError, InsufficientScope, TokenError
from .http import ErrorResponse, error_response, quoted_string
from .step_up import InsufficientUserAuthentication

__all__ = ["SCHEMES", "ChallengeOptions", "challenge_response", "www_authenticate_challenges"]

SCHEMES = ("Bearer", "DPoP")
_DESCRIPTIONS = {
    "invalid_dpop_proof": "The DPoP proof is invalid.",
    "use_dpop_nonce": "Resend the request with a DPoP proof holding the server's nonce.",
    "insufficient_user_authentication": "A stronger or more recent authentication is required.",
}


@dataclass(frozen=True, kw_only=True)
class ChallengeOptions:
    """What the challenges of one protected resource say.

    Args:
        schemes: the accepted authorization schemes, in challenge order.
        realm: the ``realm`` parameter of every challenge.
        dpop_algorithms: the ``algs`` of the ``DPoP`` challenge.
        resource_metadata: the RFC 9728 metadata URL, or ``None``.
    """

    schemes: Sequence[str] = ("Bearer",)
    realm: str = "api"
    dpop_algorithms: Sequence[str] = ()
    resource_metadata: str | None = None

    def __post_init__(self) -> None:
        schemes = tuple(self.schemes)
        if (
            not schemes
            or any(s not in SCHEMES for s in schemes)
            or len(set(schemes)) != len(schemes)
        ):
            raise ConfigurationError("schemes", f"give some of {', '.join(SCHEMES)}, each once")
        object.__setattr__(self, "schemes", schemes)
        object.__setattr__(self, "dpop_algorithms", tuple(self.dpop_algorithms))

    @classmethod
    def for_policy(
        cls, dpop: DPoPPolicy | None, *, realm: str = "api", resource_metadata: str | None = None
    ) -> ChallengeOptions:
        """The challenges of a resource with DPoP ``dpop`` (``None``: DPoP off)."""
        if dpop is None or dpop.mode == "off":
            return cls(realm=realm, resource_metadata=resource_metadata)
        schemes = ("DPoP",) if dpop.mode == "required" else ("Bearer", "DPoP")
        return cls(
            schemes=schemes,
            realm=realm,
            dpop_algorithms=tuple(dpop.algorithms),
            resource_metadata=resource_metadata,
        )


def _error_scheme(error: TokenError, options: ChallengeOptions, presented: str | None) -> str:
    schemes = options.schemes
    if isinstance(error, (InvalidDPoPProof, UseDPoPNonce)) and "DPoP" in schemes:
        return "DPoP"
    for scheme in schemes:
        if presented is not None and scheme.lower() == presented.lower():
            return scheme
    return schemes[0]


def www_authenticate_challenges(
    error: TokenError | None,
    options: ChallengeOptions,
    *,
    presented: str | None = None,
    scope: str | Iterable[str] = (),
) -> str:
    """The ``WWW-Authenticate`` value: one challenge per accepted scheme, comma-separated.

    ``presented`` is the scheme the client used (``"Bearer"``, ``"DPoP"``),
    if any; ``scope`` the scope to name for ``insufficient_scope``. The
    reason is never included.
    """
    carrier = _error_scheme(error, options, presented) if error is not None else None
    challenges = []
    for scheme in options.schemes:
        params = [f"realm={quoted_string(options.realm)}"]
        if scheme == carrier and error is not None:
            params.append(f"error={quoted_string(error.error)}")
            scopes = tuple(scope.split()) if isinstance(scope, str) else tuple(scope)
            if not scopes and isinstance(error, InsufficientScope):
                scopes = error.required
            if scopes:
                params.append(f"scope={quoted_string(' '.join(scopes))}")
            if isinstance(error, InsufficientUserAuthentication):
                if error.acr_values:
                    params.append(f"acr_values={quoted_string(' '.join(error.acr_values))}")
                if error.max_age is not None:
                    params.append(f'max_age="{error.max_age}"')
        if scheme == "DPoP" and options.dpop_algorithms:
            params.append(f"algs={quoted_string(' '.join(options.dpop_algorithms))}")
        if options.resource_metadata is not None:
            params.append(f"resource_metadata={quoted_string(options.resource_metadata)}")
        challenges.append(f"{scheme} " + ", ".join(params))
    return ", ".join(challenges)


def challenge_response(
    error: TokenError | None, options: ChallengeOptions, *, presented: str | None = None
) -> ErrorResponse:
    """:func:`jwt_guard_core.http.error_response` with these challenges and ``DPoP-Nonce``.

    Status, ``Retry-After`` and body are those of ``error_response``; the
    ``WWW-Authenticate`` value comes from :func:`www_authenticate_challenges`,
    a :class:`~jwt_guard_core.dpop.UseDPoPNonce` adds the ``DPoP-Nonce``
    header (RFC 9449 section 9), and the new error codes get their own fixed
    descriptions.
    """
    base = error_response(error, realm=options.realm)
    headers = dict(base.headers)
    if "WWW-Authenticate" in headers:
        headers["WWW-Authenticate"] = www_authenticate_challenges(
            error, options, presented=presented
        )
    if isinstance(error, UseDPoPNonce):
        headers["DPoP-Nonce"] = error.nonce
    body = dict(base.body)
    if error is not None and error.error in _DESCRIPTIONS:
        body["error_description"] = _DESCRIPTIONS[error.error]
    return ErrorResponse(status=base.status, headers=headers, body=body)
