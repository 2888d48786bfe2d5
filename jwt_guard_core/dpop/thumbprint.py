"""JWK thumbprints (RFC 7638) and access-token hashes (RFC 9449 section 4.2).

The thumbprint is what a DPoP-bound token names in ``cnf.jkt``: the SHA-256
of the key's required members, in lexicographic order, as JSON without
whitespace, base64url-encoded.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from ..encoding import b64url_encode

__all__ = ["access_token_hash", "jwk_thumbprint"]

# RFC 7638 section 3.2 (RSA, EC) and RFC 8037 section 2 (OKP).
_REQUIRED = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x")}


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """The RFC 7638 SHA-256 thumbprint of a public JWK, base64url-encoded.

    Raises ``ValueError`` for a key type other than RSA, EC or OKP, or when
    a required member is missing or not a string.
    """
    kty = jwk.get("kty")
    members = _REQUIRED.get(kty) if isinstance(kty, str) else None
    if members is None:
        raise ValueError("the JWK's kty is not RSA, EC or OKP")
    picked = {}
    for name in members:
        value = jwk.get(name)
        if not isinstance(value, str):
            raise ValueError(f"the JWK member {name!r} is missing or not a string")
        picked[name] = value
    canonical = json.dumps(picked, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return b64url_encode(hashlib.sha256(canonical.encode("utf-8")).digest())


def access_token_hash(token: str) -> str:
    """The ``ath`` value for ``token``: base64url of SHA-256 over its ASCII bytes."""
    return b64url_encode(hashlib.sha256(token.encode("ascii", "replace")).digest())
