"""Decrypting a nested JWE (RFC 7516 compact serialization) to the JWS it carries.

The order keeps garbage cheap and the cryptography silent:

1. size (the verifier's ``max_token_bytes``, before anything is decoded)
   and the five-segment shape;
2. the protected header, strictly decoded (``encoding.py``): ``alg`` and
   ``enc`` in their allowlists (no default; RSA1_5 and PBES2 never),
   ``zip`` refused (a compressed plaintext is a decompression bomb), ``crit``
   refused, no key carried or pointed to (``jwk``, ``jku``, ``x5u``,
   ``x5c``), ``cty: JWT`` (RFC 7519 section 5.2: the payload is a JWT);
3. the key, by ``kid`` and ``alg``;
4. key management and content decryption. Every failure from here on is one
   :class:`DecryptionFailed`: a bad OAEP padding, a wrong key wrap, an
   ephemeral key off its curve, a bad tag or CBC padding all read the same.
   When the content key cannot be recovered a random one is used and
   decryption goes on to fail at the tag (RFC 7516 section 11.5), so timing
   does not tell the cases apart either.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, rsa, x25519

from ..encoding import DecodeError, b64url_decode, parse_json_object
from ..errors import (
    AlgorithmNotAllowed,
    ConfigurationError,
    EmbeddedKey,
    MalformedToken,
    TokenError,
    TokenTooLarge,
    UnknownCrit,
)
from ..token import frozen_mapping
from ._primitives import (
    CONTENT_ENCRYPTION,
    KEY_MANAGEMENT,
    content_decrypt,
    derive_ecdh_key,
    rsa_oaep_256_decrypt,
    unwrap_key,
)
from .keys import EC_CURVES, NEVER_ALLOWED, DecryptionKey, DecryptionKeySet, check_algorithm_names

__all__ = ["DecryptionFailed", "JWEPolicy", "decrypt_compact"]

_KEY_HEADERS = ("jwk", "jku", "x5u", "x5c")
_MAX_KID_LENGTH = 256
_MAX_PARTY_INFO = 512


class DecryptionFailed(TokenError):
    """A JWE did not decrypt. One reason for every cause, so no cause can be probed."""

    reason = "decryption_failed"
    default_detail = "the encrypted token does not decrypt"


@dataclass(frozen=True)
class _Header:
    alg: str
    enc: str
    kid: str | None
    raw: Mapping[str, Any]


@dataclass(frozen=True, kw_only=True)
class JWEPolicy:
    """Which nested JWE a verifier decrypts (``GuardConfig(jwe=...)``).

    Args:
        keys: the private keys (:class:`DecryptionKeySet`).
        algorithms: the ``alg`` allowlist (key management), e.g.
            ``["ECDH-ES+A256KW"]``. Required: no default. Supported:
            RSA-OAEP-256, ECDH-ES, ECDH-ES+A128KW, ECDH-ES+A192KW,
            ECDH-ES+A256KW. RSA1_5 and PBES2 are refused here.
        encryption: the ``enc`` allowlist (content encryption), e.g.
            ``["A256GCM"]``. Required: no default. Supported: A128GCM,
            A192GCM, A256GCM, A128CBC-HS256, A192CBC-HS384, A256CBC-HS512.
        required: when ``True`` (the default) a plain JWS is refused: in a
            domain that encrypts its tokens, a token that arrives readable
            was not made by its issuer's normal path. ``False`` accepts both.
    """

    keys: DecryptionKeySet
    algorithms: Sequence[str]
    encryption: Sequence[str]
    required: bool = True

    allowed_algorithms: frozenset[str] = field(init=False, repr=False, compare=False)
    allowed_encryption: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.keys, DecryptionKeySet):
            raise ConfigurationError(
                "jwe.keys", f"{type(self.keys).__name__} is not accepted; give a DecryptionKeySet"
            )
        algs = check_algorithm_names("jwe.algorithms", self.algorithms, KEY_MANAGEMENT)
        encs = check_algorithm_names("jwe.encryption", self.encryption, CONTENT_ENCRYPTION)
        if not isinstance(self.required, bool):
            raise ConfigurationError("jwe.required", f"{self.required!r} is not True or False")
        if not self.keys.key_algorithms() & algs:
            raise ConfigurationError(
                "jwe.algorithms",
                f"no decryption key may be used with {', '.join(sorted(algs))}",
            )
        object.__setattr__(self, "allowed_algorithms", algs)
        object.__setattr__(self, "allowed_encryption", encs)

    async def aunwrap(self, token: str, max_bytes: int) -> str:
        """Like :meth:`unwrap`; keys read from a store are looked up off the event loop."""
        if self.keys.blocking and isinstance(token, str) and token.count(".") == 4:
            return await asyncio.to_thread(self.unwrap, token, max_bytes)
        return self.unwrap(token, max_bytes)

    def unwrap(self, token: str, max_bytes: int) -> str:
        """The JWS inside a nested JWE ``token``; a plain JWS passes when not ``required``."""
        if isinstance(token, str) and token.count(".") != 4:
            if self.required:
                raise MalformedToken(
                    "this API accepts encrypted tokens only (nested JWE)",
                    reason="encryption_required",
                )
            return token
        header, plaintext = decrypt_compact(token, self, max_bytes)
        cty = header.get("cty")
        # RFC 7519 section 5.2 ("JWT"); RFC 7516 section 4.1.12 lets the
        # "application/" prefix be written out, and media types ignore case.
        if not isinstance(cty, str) or cty.lower().removeprefix("application/") != "jwt":
            raise MalformedToken("the JWE's cty is not JWT: it does not carry a signed token")
        try:
            inner = plaintext.decode("ascii")
        except UnicodeDecodeError:
            raise MalformedToken("the JWE does not carry a compact JWS") from None
        if inner.count(".") != 2:
            raise MalformedToken("the JWE does not carry a compact JWS (three segments)")
        return inner


def _check_header(segment: str, policy: JWEPolicy) -> _Header:
    try:
        header = parse_json_object(b64url_decode(segment))
    except DecodeError as exc:
        raise MalformedToken(f"JWE header: {exc}") from None
    alg, enc = header.get("alg"), header.get("enc")
    if not isinstance(alg, str) or not isinstance(enc, str):
        raise MalformedToken("the JWE header needs alg and enc strings")
    if alg in NEVER_ALLOWED:
        raise AlgorithmNotAllowed(f"{alg} is never accepted: {NEVER_ALLOWED[alg]}")
    if alg not in policy.allowed_algorithms:
        raise AlgorithmNotAllowed(f"JWE alg {alg[:24]!r} is not in the allowlist")
    if enc not in policy.allowed_encryption:
        raise AlgorithmNotAllowed(f"JWE enc {enc[:24]!r} is not in the allowlist")
    if "zip" in header:
        # A few kilobytes of DEFLATE inflate to gigabytes; nothing needs it.
        raise AlgorithmNotAllowed("compressed JWE (zip) is never accepted")
    for name in _KEY_HEADERS:
        if name in header:
            raise EmbeddedKey(f"the JWE header carries {name}; keys come only from configuration")
    if "crit" in header:
        raise UnknownCrit()
    kid = header.get("kid")
    if "kid" in header and (not isinstance(kid, str) or len(kid) > _MAX_KID_LENGTH):
        raise MalformedToken("the JWE kid is not a string of at most 256 characters")
    return _Header(alg=alg, enc=enc, kid=kid, raw=frozen_mapping(header))


def _party_info(header: Mapping[str, Any], name: str) -> bytes:
    value = header.get(name)
    if value is None:
        return b""
    if not isinstance(value, str) or len(value) > _MAX_PARTY_INFO:
        raise DecryptionFailed()
    return b64url_decode(value)


def _ephemeral_key(
    header: Mapping[str, Any], key: DecryptionKey
) -> ec.EllipticCurvePublicKey | x25519.X25519PublicKey:
    """The sender's ``epk``: on the recipient's curve, full-size coordinates, a valid point.

    ``cryptography`` refuses a point that is not on the curve when it is
    loaded; without that check an invalid-curve attack recovers the private
    key a few bits per token. An X25519 ``epk`` (RFC 8037 section 3.2.1) is
    32 bytes; a small-order one makes the exchange fail (all-zero secret).
    """
    epk = header.get("epk")
    if not isinstance(epk, Mapping) or epk.get("kty") != key.kty or "d" in epk:
        raise DecryptionFailed()
    crv = epk.get("crv")
    if crv != key.crv or not isinstance(crv, str):
        raise DecryptionFailed()
    if key.kty == "OKP":
        x_okp = epk.get("x")
        if not isinstance(x_okp, str) or "y" in epk:
            raise DecryptionFailed()
        raw = b64url_decode(x_okp)
        if len(raw) != 32:
            raise DecryptionFailed()
        return x25519.X25519PublicKey.from_public_bytes(raw)
    x, y = epk.get("x"), epk.get("y")
    if not isinstance(x, str) or not isinstance(y, str):
        raise DecryptionFailed()
    x_raw, y_raw = b64url_decode(x), b64url_decode(y)
    curve, size = EC_CURVES[crv]
    if len(x_raw) != size or len(y_raw) != size:
        raise DecryptionFailed()
    numbers = ec.EllipticCurvePublicNumbers(
        int.from_bytes(x_raw, "big"), int.from_bytes(y_raw, "big"), curve()
    )
    return numbers.public_key()


def _content_key(header: _Header, key: DecryptionKey, encrypted_key: bytes) -> bytes:
    enc = CONTENT_ENCRYPTION[header.enc]
    management = KEY_MANAGEMENT[header.alg]
    cek: bytes | None
    if management.kty == "RSA":
        assert isinstance(key.key, rsa.RSAPrivateKey)
        cek = rsa_oaep_256_decrypt(key.key, encrypted_key)
    else:
        assert isinstance(key.key, (ec.EllipticCurvePrivateKey, x25519.X25519PrivateKey))
        peer = _ephemeral_key(header.raw, key)
        apu, apv = _party_info(header.raw, "apu"), _party_info(header.raw, "apv")
        if management.wrap_bytes == 0:
            # Direct key agreement: there is no encrypted key (section 4.6).
            if encrypted_key:
                raise DecryptionFailed()
            return derive_ecdh_key(key.key, peer, header.enc, enc.key_bytes, apu, apv)
        kek = derive_ecdh_key(key.key, peer, header.alg, management.wrap_bytes, apu, apv)
        cek = unwrap_key(kek, encrypted_key)
    if cek is None or len(cek) != enc.key_bytes:
        # RFC 7516 section 11.5: carry on with a random key, and fail at the tag.
        cek = os.urandom(enc.key_bytes)
    return cek


def decrypt_compact(
    token: str, policy: JWEPolicy, max_bytes: int
) -> tuple[Mapping[str, Any], bytes]:
    """Decrypt a compact JWE; return its protected header (read-only) and plaintext.

    For JWE whose plaintext is not a token (test vectors); a verifier calls
    :meth:`JWEPolicy.unwrap`, which also checks that a JWS is inside.
    Raises :class:`~jwt_guard_core.errors.TokenError` subclasses:
    ``token_too_large``, ``malformed``, ``alg_not_allowed``,
    ``embedded_key``, ``unknown_crit``, ``unknown_kid``, and
    ``decryption_failed`` for every cryptographic failure.
    """
    if not isinstance(token, str):
        raise MalformedToken("the token is not a string")
    if len(token) > max_bytes:
        raise TokenTooLarge()
    if not token.isascii():
        raise MalformedToken("a compact JWE is ASCII only")
    parts = token.split(".")
    if len(parts) != 5:
        raise MalformedToken("a compact JWE has exactly five segments")
    header_seg, key_seg, iv_seg, ct_seg, tag_seg = parts
    header = _check_header(header_seg, policy)
    key = policy.keys.get(header.kid, header.alg)
    try:
        encrypted_key = b64url_decode(key_seg)
        iv, ciphertext, tag = b64url_decode(iv_seg), b64url_decode(ct_seg), b64url_decode(tag_seg)
        cek = _content_key(header, key, encrypted_key)
        aad = header_seg.encode("ascii")
        plaintext = content_decrypt(CONTENT_ENCRYPTION[header.enc], cek, aad, iv, ciphertext, tag)
    except TokenError:
        raise
    except Exception:
        # DecodeError, ContentError, a point off the curve, and anything a
        # primitive may raise on hostile input: one answer for all of them.
        raise DecryptionFailed() from None
    return header.raw, plaintext
