"""A token a thief signs with a leaked signing key: every claim theirs to choose."""

from __future__ import annotations

import secrets
from typing import Any

from tests.factories import sign


def forge(key: Any, kid: str, *, iss: str, aud: str, iat: int, sub: str = "admin") -> str:
    """An ES256 ``at+jwt`` for ``sub`` signed with ``key`` under ``kid``, issued at ``iat``."""
    header = {"alg": "ES256", "typ": "at+jwt", "kid": kid}
    payload = {
        "iss": iss,
        "aud": aud,
        "sub": sub,
        "iat": iat,
        "nbf": iat,
        "exp": iat + 900,
        "jti": secrets.token_hex(16),
    }
    return sign(header, payload, key)
