"""jwt-guard core: framework-neutral JSON Web Token verification.

No Django or Flask import, ever: the adapters build on these names.
"""

from .config import GuardConfig, IssuerPolicy, RevocationCheck
from .errors import (
    AlgorithmNotAllowed,
    BadAudience,
    BadIssuer,
    BadSignature,
    BadType,
    CertificateBindingError,
    ConfigurationError,
    DPoPBindingError,
    EmbeddedKey,
    InsufficientRole,
    InsufficientScope,
    InsufficientUserAuthentication,
    InvalidClaim,
    InvalidDPoPProof,
    InvalidRequest,
    IssuedInFuture,
    KeySourceUnavailable,
    MalformedToken,
    MissingClaim,
    NotYetValid,
    RateLimited,
    StateUnavailable,
    TokenError,
    TokenExpired,
    TokenRevoked,
    TokenTooLarge,
    TokenTooOld,
    UnknownCrit,
    UnknownKid,
    UseDPoPNonce,
)
from .events import SecurityEvent, subscribe, unsubscribe
from .keys import KeySource, StaticKeySet, VerificationKey
from .token import VerifiedToken
from .verifier import Verifier

__version__ = "0.1.0"

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
    "GuardConfig",
    "InsufficientRole",
    "InsufficientScope",
    "InsufficientUserAuthentication",
    "InvalidClaim",
    "InvalidDPoPProof",
    "InvalidRequest",
    "IssuedInFuture",
    "IssuerPolicy",
    "KeySource",
    "KeySourceUnavailable",
    "MalformedToken",
    "MissingClaim",
    "NotYetValid",
    "RateLimited",
    "RemoteJWKS",
    "RevocationCheck",
    "SecurityEvent",
    "StateUnavailable",
    "StaticKeySet",
    "TokenError",
    "TokenExpired",
    "TokenRevoked",
    "TokenTooLarge",
    "TokenTooOld",
    "UnknownCrit",
    "UnknownKid",
    "UseDPoPNonce",
    "VerificationKey",
    "VerifiedToken",
    "Verifier",
    "__version__",
    "subscribe",
    "unsubscribe",
]

import logging as _logging
from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

if _TYPE_CHECKING:
    from .remote import RemoteJWKS


def __getattr__(name: str) -> _Any:
    # Loaded on first use so that an application with static keys never
    # imports the HTTP client.
    if name == "RemoteJWKS":
        from .remote import RemoteJWKS

        return RemoteJWKS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# A library never configures logging; the application decides where events go.
_logging.getLogger("jwt_guard").addHandler(_logging.NullHandler())
