"""The JWE cryptography of RFC 7518, both directions, on ``cryptography`` primitives.

Content encryption (section 5): AES-GCM, and AES-CBC with HMAC-SHA2
(section 5.2, the tag compared in constant time before any padding is
looked at, so no padding oracle exists). Key management (section 4):
RSA-OAEP-256 and ECDH-ES with the Concat KDF (section 4.6), directly or
with AES key wrap, on the NIST curves or X25519 (RFC 8037 section 3.2).
Nothing here decides what is allowed: the callers do.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.asymmetric import ec, rsa, x25519
from cryptography.hazmat.primitives.asymmetric import padding as asym_padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.concatkdf import ConcatKDFHash
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

__all__ = [
    "CONTENT_ENCRYPTION",
    "KEY_MANAGEMENT",
    "ContentEncryption",
    "KeyManagement",
    "content_decrypt",
    "content_encrypt",
    "derive_ecdh_key",
    "key_types",
    "rsa_oaep_256_decrypt",
    "rsa_oaep_256_encrypt",
]


@dataclass(frozen=True)
class ContentEncryption:
    """An ``enc`` value: CEK size, IV size and tag size in bytes."""

    name: str
    key_bytes: int
    iv_bytes: int
    tag_bytes: int
    gcm: bool


@dataclass(frozen=True)
class KeyManagement:
    """An ``alg`` value: the key type it needs and, for ECDH-ES+AxxxKW, the KEK size."""

    name: str
    kty: str
    wrap_bytes: int = 0


CONTENT_ENCRYPTION: dict[str, ContentEncryption] = {
    "A128GCM": ContentEncryption("A128GCM", 16, 12, 16, gcm=True),
    "A192GCM": ContentEncryption("A192GCM", 24, 12, 16, gcm=True),
    "A256GCM": ContentEncryption("A256GCM", 32, 12, 16, gcm=True),
    # Section 5.2: the CEK is MAC_KEY || ENC_KEY, the tag the first half of the HMAC.
    "A128CBC-HS256": ContentEncryption("A128CBC-HS256", 32, 16, 16, gcm=False),
    "A192CBC-HS384": ContentEncryption("A192CBC-HS384", 48, 16, 24, gcm=False),
    "A256CBC-HS512": ContentEncryption("A256CBC-HS512", 64, 16, 32, gcm=False),
}

KEY_MANAGEMENT: dict[str, KeyManagement] = {
    "RSA-OAEP-256": KeyManagement("RSA-OAEP-256", "RSA"),
    "ECDH-ES": KeyManagement("ECDH-ES", "EC"),
    "ECDH-ES+A128KW": KeyManagement("ECDH-ES+A128KW", "EC", 16),
    "ECDH-ES+A192KW": KeyManagement("ECDH-ES+A192KW", "EC", 24),
    "ECDH-ES+A256KW": KeyManagement("ECDH-ES+A256KW", "EC", 32),
}


def key_types(alg: str) -> tuple[str, ...]:
    """The JWK ``kty`` values ``alg`` works with: ECDH-ES takes EC and OKP (X25519) keys."""
    kty = KEY_MANAGEMENT[alg].kty
    return ("EC", "OKP") if kty == "EC" else (kty,)


_CBC_HASH = {32: hashlib.sha256, 48: hashlib.sha384, 64: hashlib.sha512}
_OAEP_256 = asym_padding.OAEP(
    mgf=asym_padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None
)


class ContentError(Exception):
    """The ciphertext, IV or tag is not authentic. Carries no detail on purpose."""


def _cbc_tag(mac_key: bytes, aad: bytes, iv: bytes, ciphertext: bytes, size: int) -> bytes:
    # Section 5.2.2.1: HMAC over AAD || IV || ciphertext || AL, AL the AAD
    # length in bits as a 64-bit big-endian integer; T is the first half.
    al = struct.pack(">Q", len(aad) * 8)
    digest = hmac.new(mac_key, aad + iv + ciphertext + al, _CBC_HASH[2 * size]).digest()
    return digest[:size]


def content_encrypt(
    enc: ContentEncryption, cek: bytes, aad: bytes, plaintext: bytes
) -> tuple[bytes, bytes, bytes]:
    """Encrypt ``plaintext``; returns ``(iv, ciphertext, tag)``."""
    iv = os.urandom(enc.iv_bytes)
    if enc.gcm:
        sealed = AESGCM(cek).encrypt(iv, plaintext, aad)
        return iv, sealed[: -enc.tag_bytes], sealed[-enc.tag_bytes :]
    half = enc.key_bytes // 2
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext) + padder.finalize()
    encryptor = Cipher(algorithms.AES(cek[half:]), modes.CBC(iv)).encryptor()
    ciphertext = encryptor.update(padded) + encryptor.finalize()
    return iv, ciphertext, _cbc_tag(cek[:half], aad, iv, ciphertext, enc.tag_bytes)


def content_decrypt(
    enc: ContentEncryption, cek: bytes, aad: bytes, iv: bytes, ciphertext: bytes, tag: bytes
) -> bytes:
    """Decrypt and authenticate, or raise :class:`ContentError` (one error for every cause)."""
    if len(cek) != enc.key_bytes or len(iv) != enc.iv_bytes or len(tag) != enc.tag_bytes:
        raise ContentError
    try:
        if enc.gcm:
            return AESGCM(cek).decrypt(iv, ciphertext + tag, aad)
        half = enc.key_bytes // 2
        expected = _cbc_tag(cek[:half], aad, iv, ciphertext, enc.tag_bytes)
        # Constant time, and before the padding is touched: a padding error
        # is only ever seen on a ciphertext the sender authenticated.
        if not hmac.compare_digest(expected, tag):
            raise ContentError
        if not ciphertext or len(ciphertext) % 16:
            raise ContentError
        decryptor = Cipher(algorithms.AES(cek[half:]), modes.CBC(iv)).decryptor()
        padded = decryptor.update(ciphertext) + decryptor.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        return unpadder.update(padded) + unpadder.finalize()
    except ContentError:
        raise
    except Exception:
        # InvalidTag, a bad padding, a wrong key length: all one failure.
        raise ContentError from None


def rsa_oaep_256_encrypt(key: rsa.RSAPublicKey, cek: bytes) -> bytes:
    return key.encrypt(cek, _OAEP_256)


def rsa_oaep_256_decrypt(key: rsa.RSAPrivateKey, encrypted_key: bytes) -> bytes | None:
    """The CEK, or ``None`` when OAEP decoding fails (the caller then uses a random CEK)."""
    try:
        return key.decrypt(encrypted_key, _OAEP_256)
    except ValueError:
        return None


def _length_prefixed(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def derive_ecdh_key(
    private: ec.EllipticCurvePrivateKey | x25519.X25519PrivateKey,
    peer: ec.EllipticCurvePublicKey | x25519.X25519PublicKey,
    algorithm_id: str,
    key_bytes: int,
    apu: bytes,
    apv: bytes,
) -> bytes:
    """RFC 7518 section 4.6.2: ECDH, then the Concat KDF (NIST SP 800-56A) with SHA-256.

    ``algorithm_id`` is the ``enc`` value for direct key agreement and the
    ``alg`` value for ECDH-ES+AxxxKW. An X25519 exchange whose shared secret
    is all zeros (a small-order peer point, RFC 7748 section 6.1) raises
    ``ValueError``: the key would be known to anyone.
    """
    shared: bytes
    if isinstance(private, x25519.X25519PrivateKey):
        if not isinstance(peer, x25519.X25519PublicKey):
            raise ValueError("an X25519 key agrees only with an X25519 key")
        shared = private.exchange(peer)  # cryptography refuses an all-zero result
        if not any(shared):  # and so do we, whatever the backend does
            raise ValueError("X25519 shared secret is all zeros")
    else:
        if not isinstance(peer, ec.EllipticCurvePublicKey):
            raise ValueError("an EC key agrees only with an EC key")
        shared = private.exchange(ec.ECDH(), peer)
    other_info = (
        _length_prefixed(algorithm_id.encode("ascii"))
        + _length_prefixed(apu)
        + _length_prefixed(apv)
        + struct.pack(">I", key_bytes * 8)
    )
    return ConcatKDFHash(hashes.SHA256(), key_bytes, other_info).derive(shared)


def wrap_key(kek: bytes, cek: bytes) -> bytes:
    return aes_key_wrap(kek, cek)


def unwrap_key(kek: bytes, wrapped: bytes) -> bytes | None:
    """RFC 3394 unwrap, or ``None`` when the integrity check fails."""
    try:
        return aes_key_unwrap(kek, wrapped)
    except (InvalidUnwrap, ValueError):
        return None
