"""Shared by the JWE vector tests: policies that allow every supported algorithm."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, rsa

from jwt_guard_core.errors import ConfigurationError
from jwt_guard_core.jwe import DecryptionKey, DecryptionKeySet, JWEPolicy
from jwt_guard_core.jwe._primitives import CONTENT_ENCRYPTION, KEY_MANAGEMENT

MAX_BYTES = 1024 * 1024


def widest_policy(keys: DecryptionKeySet) -> JWEPolicy:
    """Every supported alg and enc allowed: only the key binding and the token can refuse."""
    return JWEPolicy(
        keys=keys, algorithms=list(KEY_MANAGEMENT), encryption=list(CONTENT_ENCRYPTION)
    )


@cache
def stranger_policy() -> JWEPolicy:
    """Keys of our own for every supported alg: what refuses a vector whose key we refuse."""
    keys = DecryptionKeySet(
        [
            DecryptionKey.from_key(ec.generate_private_key(ec.SECP256R1()), kid="stranger-ec"),
            DecryptionKey.from_key(
                rsa.generate_private_key(public_exponent=65537, key_size=2048), kid="stranger-rsa"
            ),
        ]
    )
    return widest_policy(keys)


def policy_for(private_jwk: Mapping[str, Any]) -> tuple[JWEPolicy, str | None]:
    """The vector's own key when jwt-guard accepts it, else ours and the refusal message."""
    try:
        keys = DecryptionKeySet.from_jwks({"keys": [private_jwk]})
    except ConfigurationError as exc:
        return stranger_policy(), str(exc)
    return widest_policy(keys), None


def applicable(policy: JWEPolicy, header: Mapping[str, Any]) -> bool:
    """Whether the token's alg and enc are supported and fit one of the policy's keys."""
    alg, enc = header.get("alg"), header.get("enc")
    return (
        alg in policy.allowed_algorithms
        and enc in policy.allowed_encryption
        and any(alg in key.algorithms for key in policy.keys.keys)
    )
