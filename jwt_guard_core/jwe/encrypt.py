"""Encrypting a signed token to a recipient: a nested JWE (RFC 7519 section 5.2).

Sign first, then encrypt: the recipient decrypts with its private key and
verifies the inner JWS against the issuer's public key, so the token is both
confidential and attributable to its issuer.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa, x25519

from ..encoding import b64url_encode
from ..errors import ConfigurationError
from ..keys import key_from_public_key
from ._primitives import (
    CONTENT_ENCRYPTION,
    KEY_MANAGEMENT,
    content_encrypt,
    derive_ecdh_key,
    rsa_oaep_256_encrypt,
    wrap_key,
)
from .keys import RecipientKey

__all__ = ["encrypt_compact", "encrypt_nested"]


def _epk(key: ec.EllipticCurvePublicKey | x25519.X25519PublicKey) -> dict[str, str]:
    """The ephemeral public key as the ``epk`` header member (RFC 7518 section 4.6.1.1).

    X25519: ``{"kty": "OKP", "crv": "X25519", "x": ...}`` (RFC 8037 section 3.2.1).
    """
    if isinstance(key, x25519.X25519PublicKey):
        raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {"kty": "OKP", "crv": "X25519", "x": b64url_encode(raw)}
    jwk = key_from_public_key(key).public_jwk
    assert jwk is not None
    return {member: jwk[member] for member in ("kty", "crv", "x", "y")}


def encrypt_compact(
    plaintext: bytes, recipient: RecipientKey, *, headers: Mapping[str, Any] | None = None
) -> str:
    """Encrypt ``plaintext`` to ``recipient``; returns a compact JWE.

    ``headers`` are extra protected header members (``cty``, ``typ``);
    ``alg``, ``enc``, ``kid`` and ``epk`` are set from the recipient.
    """
    if not isinstance(recipient, RecipientKey):
        raise ConfigurationError("recipient", "give a RecipientKey (RecipientKey.from_jwk)")
    enc = CONTENT_ENCRYPTION[recipient.enc]
    management = KEY_MANAGEMENT[recipient.alg]
    header: dict[str, Any] = dict(headers or {})
    header.update({"alg": recipient.alg, "enc": recipient.enc})
    if recipient.kid is not None:
        header["kid"] = recipient.kid
    if isinstance(recipient.key, rsa.RSAPublicKey):
        cek = os.urandom(enc.key_bytes)
        encrypted_key = rsa_oaep_256_encrypt(recipient.key, cek)
    else:
        ephemeral: ec.EllipticCurvePrivateKey | x25519.X25519PrivateKey
        if isinstance(recipient.key, x25519.X25519PublicKey):
            ephemeral = x25519.X25519PrivateKey.generate()
        else:
            ephemeral = ec.generate_private_key(recipient.key.curve)
        header["epk"] = _epk(ephemeral.public_key())
        if management.wrap_bytes == 0:
            cek = derive_ecdh_key(ephemeral, recipient.key, recipient.enc, enc.key_bytes, b"", b"")
            encrypted_key = b""
        else:
            kek = derive_ecdh_key(
                ephemeral, recipient.key, recipient.alg, management.wrap_bytes, b"", b""
            )
            cek = os.urandom(enc.key_bytes)
            encrypted_key = wrap_key(kek, cek)
    header_seg = b64url_encode(json.dumps(header, separators=(",", ":")).encode("utf-8"))
    iv, ciphertext, tag = content_encrypt(enc, cek, header_seg.encode("ascii"), plaintext)
    return ".".join(
        (header_seg, *(b64url_encode(part) for part in (encrypted_key, iv, ciphertext, tag)))
    )


def encrypt_nested(jws: str, recipient_public_jwk: Mapping[str, Any], alg: str, enc: str) -> str:
    """Wrap a compact JWS in a JWE for the holder of ``recipient_public_jwk`` (``cty: JWT``).

    ``alg`` (RSA-OAEP-256, ECDH-ES, ECDH-ES+A128KW/A192KW/A256KW) and ``enc``
    (A128GCM, A192GCM, A256GCM, A128CBC-HS256, A192CBC-HS384, A256CBC-HS512)
    have no default. Raises ``ConfigurationError`` for a key or algorithm
    that is refused.
    """
    if not isinstance(jws, str) or jws.count(".") != 2 or not jws.isascii():
        raise ConfigurationError("jws", "give a compact JWS (three segments)")
    recipient = RecipientKey.from_jwk(recipient_public_jwk, alg=alg, enc=enc)
    return encrypt_compact(jws.encode("ascii"), recipient, headers={"cty": "JWT"})
