"""DPoP, RFC 9449: tokens bound to a key the client proves it holds on every request.

::

    policy = DPoPPolicy(mode="allowed", replay_store=RedisReplayStore(url),
                        request_url=RequestURL({"proto": "X-Forwarded-Proto"}))
    request = DPoPRequest(method="GET", scheme="http", host="api.example", path="/orders",
                          authorization_scheme="DPoP", proofs=tuple(dpop_headers),
                          headers=lower_case_headers)
    result = policy.check(request, verified_token, raw_access_token)   # or await acheck

:class:`RedisReplayStore` needs the ``redis`` extra and is imported on first
use, so this package works without redis-py installed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import DPoPBindingError, InvalidDPoPProof, UseDPoPNonce
from .htu import FORWARDED_PARTS, RequestURL, normalize_htu
from .nonce import DPoPNonceSource, NonceProvider
from .policy import (
    DEFAULT_PROOF_ALGORITHMS,
    DPOP_MODES,
    DPoPPolicy,
    DPoPRequest,
    DPoPResult,
    bound_thumbprint,
    extract_dpop_token,
)
from .replay import MemoryReplayStore, ReplayStore
from .replay_sqlite import SQLiteReplayStore
from .thumbprint import access_token_hash, jwk_thumbprint

if TYPE_CHECKING:
    from .replay_redis import RedisReplayStore

__all__ = [
    "DEFAULT_PROOF_ALGORITHMS",
    "DPOP_MODES",
    "FORWARDED_PARTS",
    "DPoPBindingError",
    "DPoPNonceSource",
    "DPoPPolicy",
    "DPoPRequest",
    "DPoPResult",
    "InvalidDPoPProof",
    "MemoryReplayStore",
    "NonceProvider",
    "RedisReplayStore",
    "ReplayStore",
    "RequestURL",
    "SQLiteReplayStore",
    "UseDPoPNonce",
    "access_token_hash",
    "bound_thumbprint",
    "extract_dpop_token",
    "jwk_thumbprint",
    "normalize_htu",
]


def __getattr__(name: str) -> Any:
    if name == "RedisReplayStore":
        from .replay_redis import RedisReplayStore

        return RedisReplayStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
