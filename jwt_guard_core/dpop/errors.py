"""Rejections of sender-constrained requests (RFC 9449 DPoP).

Each is a :class:`~jwt_guard_core.errors.TokenError`, so adapters answer them
like any other rejection; :mod:`jwt_guard_core.challenges` builds the
``WWW-Authenticate`` value that names the ``DPoP`` scheme where RFC 9449
section 7.1 asks for it. ``reason`` says which check failed (logs and
events only); the client sees ``error`` and nothing else.
"""

from __future__ import annotations

from ..errors import TokenError

__all__ = ["DPoPBindingError", "InvalidDPoPProof", "UseDPoPNonce"]


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
