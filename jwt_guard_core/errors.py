"""Errors are data: every rejection carries a stable machine ``reason``.

A :class:`TokenError` is what the verifier raises for a token it will not
accept. Adapters turn it into a response in one place, using ``status`` and
``error`` (the RFC 6750 section 3.1 error code) and never the ``reason``,
which goes to logs and security events only.

``str()`` of an error is built from a fixed message and never contains the
token, a claim value chosen by the sender, or key material.
"""

from __future__ import annotations

__all__ = [
    "AlgorithmNotAllowed",
    "BadAudience",
    "BadIssuer",
    "BadSignature",
    "BadType",
    "CertificateBindingError",
    "ConfigurationError",
    "DPoPBindingError",
    "EmbeddedKey",
    "InsufficientRole",
    "InsufficientScope",
    "InsufficientUserAuthentication",
    "InvalidClaim",
    "InvalidDPoPProof",
    "InvalidRequest",
    "IssuedInFuture",
    "KeySourceUnavailable",
    "MalformedToken",
    "MissingClaim",
    "NotYetValid",
    "RateLimited",
    "StateUnavailable",
    "StoreUnavailable",
    "TokenError",
    "TokenExpired",
    "TokenRevoked",
    "TokenTooLarge",
    "TokenTooOld",
    "UnknownCrit",
    "UnknownKid",
    "UseDPoPNonce",
]


class ConfigurationError(ValueError):
    """A setting is invalid. Raised at start-up, never per request.

    The message names the setting, the value given (never secret material)
    and what would be accepted.
    """

    def __init__(self, setting: str, message: str) -> None:
        self.setting = setting
        super().__init__(f"{setting}: {message}")

    def renamed(self, setting: str) -> ConfigurationError:
        """The same error naming ``setting``: a core parameter as the user spelt its setting."""
        return ConfigurationError(setting, str(self).removeprefix(f"{self.setting}: "))


class TokenError(Exception):
    """A token was rejected.

    Attributes:
        reason: stable machine code for logs, metrics and events
            (``token_expired``, ``bad_signature``, ...).
        error: the RFC 6750 error code an adapter puts in
            ``WWW-Authenticate`` (``invalid_token``, ``invalid_request``,
            ``insufficient_scope``).
        status: the HTTP status an adapter answers with.
        detail: a short human explanation, safe to log; never contains the
            token or key material.
    """

    reason: str = "invalid_token"
    error: str = "invalid_token"
    status: int = 401
    default_detail: str = "the token is not valid"

    def __init__(self, detail: str | None = None, *, reason: str | None = None) -> None:
        self.detail = detail or self.default_detail
        if reason is not None:
            self.reason = reason
        super().__init__(self.detail)

    def __str__(self) -> str:
        return f"{self.reason}: {self.detail}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(reason={self.reason!r}, detail={self.detail!r})"


class InvalidRequest(TokenError):
    """The request carrying the token is malformed (RFC 6750 ``invalid_request``)."""

    reason = "invalid_request"
    error = "invalid_request"
    status = 400
    default_detail = "the request is malformed"


class MalformedToken(TokenError):
    reason = "malformed"
    default_detail = "the token is not a well-formed compact JWS"


class TokenTooLarge(TokenError):
    reason = "token_too_large"
    default_detail = "the token is larger than the configured limit"


class AlgorithmNotAllowed(TokenError):
    reason = "alg_not_allowed"
    default_detail = "the token's algorithm is not allowed"


class EmbeddedKey(TokenError):
    """The header carries or points to a key (``jwk``, ``jku``, ``x5u``, ``x5c``).

    RFC 8725 section 3.10: a verifier never lets a token choose its own key;
    such headers are refused outright and never fetched.
    """

    reason = "embedded_key"
    default_detail = "the token names or embeds its own key (jwk/jku/x5u/x5c); never used"


class UnknownCrit(TokenError):
    """RFC 7515 section 4.1.11: ``crit`` names extensions this verifier does not implement."""

    reason = "unknown_crit"
    default_detail = "the token requires header extensions this verifier does not implement"


class BadType(TokenError):
    reason = "bad_type"
    default_detail = "the token's typ header is not the expected type"


class UnknownKid(TokenError):
    reason = "unknown_kid"
    default_detail = "no key matches the token's kid"


class BadSignature(TokenError):
    reason = "bad_signature"
    default_detail = "the signature does not verify"


class TokenExpired(TokenError):
    reason = "token_expired"
    default_detail = "the token has expired"


class NotYetValid(TokenError):
    reason = "not_yet_valid"
    default_detail = "the token is not valid yet (nbf)"


class IssuedInFuture(TokenError):
    reason = "issued_in_future"
    default_detail = "the token's iat is in the future"


class TokenTooOld(TokenError):
    reason = "token_too_old"
    default_detail = "the token is older than the configured maximum age"


class BadIssuer(TokenError):
    reason = "bad_issuer"
    default_detail = "the token's issuer is not accepted"


class BadAudience(TokenError):
    reason = "bad_audience"
    default_detail = "the token is not meant for this audience"


class MissingClaim(TokenError):
    reason = "missing_claim"
    default_detail = "a required claim is missing"


class InvalidClaim(TokenError):
    reason = "invalid_claim"
    default_detail = "a claim has an invalid value"


class TokenRevoked(TokenError):
    reason = "revoked"
    default_detail = "the token has been revoked"


class InsufficientScope(TokenError):
    """The token is valid but lacks a scope the resource needs (RFC 6750 3.1)."""

    reason = "insufficient_scope"
    error = "insufficient_scope"
    status = 403
    default_detail = "the token lacks a required scope"

    def __init__(self, required: tuple[str, ...] = (), detail: str | None = None) -> None:
        self.required = tuple(required)
        super().__init__(detail)


class InsufficientRole(TokenError):
    """The token is valid but lacks a role the resource needs.

    403 with ``error="insufficient_scope"``: RFC 6750 section 3.1 defines it
    as "the request requires higher privileges than provided by the access
    token", which a missing role is; the challenge names no ``scope`` (roles
    are not scopes). The reason ``insufficient_role`` goes to logs only.
    """

    reason = "insufficient_role"
    error = "insufficient_scope"
    status = 403
    default_detail = "the token lacks a required role"

    def __init__(self, required: tuple[str, ...] = (), detail: str | None = None) -> None:
        self.required = tuple(required)
        super().__init__(detail)


class KeySourceUnavailable(TokenError):
    """The keys needed to verify the token cannot be obtained right now.

    This is an outage, not an invalid token: adapters answer 503 with a
    ``Retry-After`` of :attr:`retry_after` seconds.
    """

    reason = "key_source_unavailable"
    error = "temporarily_unavailable"
    status = 503
    default_detail = "the key source is unavailable"

    def __init__(self, detail: str | None = None, *, retry_after: int = 30) -> None:
        self.retry_after = max(1, int(retry_after))
        super().__init__(detail)


class StateUnavailable(KeySourceUnavailable):
    """Revocation or session state cannot be read right now (its store is down).

    A subclass of :class:`KeySourceUnavailable` so adapters answer it the
    same way: 503 with ``Retry-After``. Failing closed means no token that
    might have been revoked is accepted while the denylist is unreachable.
    """

    reason = "revocation_unavailable"
    default_detail = "the revocation state is unavailable"

    def __init__(
        self, detail: str | None = None, *, retry_after: int = 5, reason: str | None = None
    ) -> None:
        super().__init__(detail, retry_after=retry_after)
        if reason is not None:
            self.reason = reason


class RateLimited(TokenError):
    """Too many failed verifications from one client in the sliding window.

    429 with ``Retry-After`` of :attr:`retry_after` seconds (RFC 6585
    section 4). RFC 6750 has no error code for it, so ``error`` is
    ``too_many_requests`` and adapters send no ``WWW-Authenticate``.
    """

    reason = "rate_limited"
    error = "too_many_requests"
    status = 429
    default_detail = "too many failed attempts from this client"

    def __init__(self, detail: str | None = None, *, retry_after: int = 1) -> None:
        self.retry_after = max(1, int(retry_after))
        super().__init__(detail)


# -- sender-constrained tokens and step-up (RFC 9449, RFC 8705, RFC 9470)


class InvalidDPoPProof(TokenError):
    """The ``DPoP`` proof is missing, malformed or does not fit the request.

    RFC 9449 section 7.1: 401 with ``error="invalid_dpop_proof"`` in a
    ``DPoP`` challenge. ``reason`` is one of ``dpop_proof_missing``,
    ``dpop_multiple_proofs``, ``dpop_proof_malformed``, ``dpop_bad_type``,
    ``dpop_alg_not_allowed``, ``dpop_bad_jwk``, ``dpop_private_key``,
    ``dpop_unknown_crit``, ``dpop_bad_signature``, ``dpop_missing_claim``,
    ``dpop_htm_mismatch``, ``dpop_htu_mismatch``, ``dpop_iat_out_of_window``,
    ``dpop_replayed``, ``dpop_ath_mismatch``, ``dpop_jkt_mismatch``.
    """

    reason = "dpop_proof_invalid"
    error = "invalid_dpop_proof"
    status = 401
    default_detail = "the DPoP proof is not valid"

    def __init__(self, detail: str | None = None, *, reason: str) -> None:
        super().__init__(detail, reason=reason)


class UseDPoPNonce(TokenError):
    """The proof lacks the server nonce, or carries a stale one (RFC 9449 section 9).

    401 with ``error="use_dpop_nonce"`` and a ``DPoP-Nonce`` response header
    holding :attr:`nonce`, which the client puts in its next proof.
    ``reason`` is ``dpop_nonce_missing`` or ``dpop_nonce_invalid``.
    """

    reason = "dpop_nonce_missing"
    error = "use_dpop_nonce"
    status = 401
    default_detail = "the DPoP proof must carry the server's current nonce"

    def __init__(self, nonce: str, detail: str | None = None, *, reason: str) -> None:
        self.nonce = nonce
        super().__init__(detail, reason=reason)


class DPoPBindingError(TokenError):
    """The token and the authorization scheme disagree about DPoP.

    RFC 9449 section 7.1 and 7.2: a DPoP-bound token (``cnf.jkt``) sent as
    ``Bearer`` (or from a cookie), a ``DPoP`` proof sent with a ``Bearer``
    token, a token without ``cnf.jkt`` sent with the ``DPoP`` scheme, or a
    plain bearer token where DPoP is required. 401 ``invalid_token``.
    ``reason`` is one of ``dpop_bound_token_as_bearer``,
    ``dpop_proof_with_bearer``, ``dpop_token_not_bound``, ``dpop_required``,
    ``dpop_not_enabled``.
    """

    reason = "dpop_binding"
    default_detail = "the token's DPoP binding does not fit how it was presented"

    def __init__(self, detail: str | None = None, *, reason: str) -> None:
        super().__init__(detail, reason=reason)


class CertificateBindingError(TokenError):
    """A certificate-bound token without the matching client certificate.

    RFC 8705 section 3: 401 ``invalid_token``. ``reason`` is one of
    ``mtls_certificate_missing``, ``mtls_certificate_mismatch``,
    ``mtls_header_malformed``, ``mtls_bad_cnf``.
    """

    reason = "mtls_certificate_mismatch"
    default_detail = "the token is bound to another client certificate"

    def __init__(self, detail: str | None = None, *, reason: str) -> None:
        super().__init__(detail, reason=reason)


class InsufficientUserAuthentication(TokenError):
    """The token is valid but the user's authentication is not strong or recent enough.

    RFC 9470 section 3: 401 with ``error="insufficient_user_authentication"``;
    :attr:`acr_values` and :attr:`max_age` go into the challenge. ``reason``
    is one of ``acr_missing``, ``acr_not_accepted``, ``auth_time_missing``,
    ``auth_time_too_old``, ``auth_time_invalid``.
    """

    reason = "step_up_required"
    error = "insufficient_user_authentication"
    status = 401
    default_detail = "the user's authentication does not meet this resource's requirements"

    def __init__(
        self,
        detail: str | None = None,
        *,
        reason: str,
        acr_values: tuple[str, ...] = (),
        max_age: int | None = None,
    ) -> None:
        self.acr_values = acr_values
        self.max_age = max_age
        super().__init__(detail, reason=reason)


class StoreUnavailable(RuntimeError):
    """A state backend (SQLite file, Redis server) cannot be read or written now.

    Raised by session and DPoP replay stores (``jwt_guard_core.sessions``
    re-exports it); the services turn it into a 503 (:class:`StateUnavailable`).

    The message names the backend and the exception class, never a URL,
    password or token.
    """
