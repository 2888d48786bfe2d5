"""The signing side: key storage, rotation, the JWKS and access-token issuing.

::

    store = FileKeyStore("/var/lib/myapp/jwt-keys")      # passphrase from JWT_GUARD_KEY_PASSPHRASE
    keys = KeyManager(store)                             # ES256, rotated every 30 days
    issuer = TokenIssuer(keys, issuer="https://auth.example", audience="https://api.example")
    token = issuer.issue_access_token("user-42", scopes=["orders:read"])
    document, cache_control = keys.jwks(), keys.jwks_cache_control()

:class:`RedisKeyStore` (needs the ``redis`` extra) and :class:`Pkcs11KeyStore`
(keys on a hardware token; needs the ``hsm`` extra) are imported on first
use, so this package works without redis-py or python-pkcs11 installed.
Every key signs through a :class:`Signer`; see docs/hsm.md for its contract.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._crypto import jwk_for_public_key
from .errors import IssuanceError, KeyStoreError
from .issuer import REGISTERED_CLAIMS, TokenIssuer
from .keystore import (
    FileKeyStore,
    GeneratesKeys,
    KeyInfo,
    KeyRing,
    KeyState,
    KeyStore,
    StoredKey,
)
from .manager import JWKS_MEDIA_TYPE, JWKSResponse, KeyManager, RotationOutcome
from .settings import (
    ISSUING_DEFAULTS,
    Issuing,
    IssuingSettings,
    issuing_from_settings,
    validate_issuing_settings,
)
from .signer import LocalSigner, Signer, encode_jws

if TYPE_CHECKING:
    from .pkcs11_store import Pkcs11KeyStore
    from .redis_store import RedisKeyStore

__all__ = [
    "ISSUING_DEFAULTS",
    "JWKS_MEDIA_TYPE",
    "REGISTERED_CLAIMS",
    "FileKeyStore",
    "GeneratesKeys",
    "IssuanceError",
    "Issuing",
    "IssuingSettings",
    "JWKSResponse",
    "KeyInfo",
    "KeyManager",
    "KeyRing",
    "KeyState",
    "KeyStore",
    "KeyStoreError",
    "LocalSigner",
    "Pkcs11KeyStore",
    "RedisKeyStore",
    "RotationOutcome",
    "Signer",
    "StoredKey",
    "TokenIssuer",
    "encode_jws",
    "issuing_from_settings",
    "jwk_for_public_key",
    "validate_issuing_settings",
]


def __getattr__(name: str) -> Any:
    if name == "RedisKeyStore":
        from .redis_store import RedisKeyStore

        return RedisKeyStore
    if name == "Pkcs11KeyStore":
        from .pkcs11_store import Pkcs11KeyStore

        return Pkcs11KeyStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
