"""Key generation, public JWK export and the at-rest encryption of signing keys.

Private keys are encrypted with AES-256-GCM under a key derived from the
operator's passphrase with scrypt (RFC 7914). The associated data binds each
ciphertext to its ``kid`` and algorithm, so a key file cannot be swapped for
another one, nor its algorithm relabelled, without the open failing.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NoReturn, cast

from cryptography.exceptions import InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa, x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from ..algorithms import _MLDSA_PRIVATE, generate_mldsa_key, mldsa_algorithm_of
from ..encoding import DecodeError, b64url_decode, b64url_encode
from ..errors import ConfigurationError
from ..keys import KeyRejected, key_from_public_key
from .errors import KeyStoreError

__all__ = [
    "ASYMMETRIC_SIGNING_ALGORITHMS",
    "ENCRYPTION_ALGORITHMS",
    "ENCRYPTION_CURVES",
    "HMAC_SIGNING_ALGORITHMS",
    "SIGNING_ALGORITHMS",
    "KeyMaterial",
    "Sealer",
    "generate_encryption_material",
    "generate_material",
    "jwk_for_public_key",
    "load_material",
    "new_kdf_params",
    "public_jwk",
    "resolve_passphrase",
    "thumbprint_kid",
]

# RSA keys are generated at 3072 bits: NIST SP 800-57 puts 2048 at the end of
# its acceptable life (112-bit security) and 3072 matches P-256 (128-bit).
RSA_BITS = 3072
_EC: dict[str, type[ec.SECP256R1 | ec.SECP384R1 | ec.SECP521R1]] = {
    "ES256": ec.SECP256R1,
    "ES384": ec.SECP384R1,
    "ES512": ec.SECP521R1,
}
# ML-DSA (RFC 9964) where cryptography provides it (48 and later).
ASYMMETRIC_SIGNING_ALGORITHMS = frozenset({*_EC, "RS256", "PS256", "EdDSA", *_MLDSA_PRIVATE})
# RFC 7518 section 3.2: the secret is at least as long as the hash output.
_HMAC_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}
HMAC_SIGNING_ALGORITHMS = frozenset(_HMAC_BYTES)
SIGNING_ALGORITHMS = ASYMMETRIC_SIGNING_ALGORITHMS | HMAC_SIGNING_ALGORITHMS
# JWE decryption keys (issue 16) kept in a store of their own: a ring entry's
# "alg" is the key-management algorithm the key serves. ECDH-ES keys are on
# P-256 or X25519 (the stored key says which).
_ECDH = frozenset({"ECDH-ES", "ECDH-ES+A128KW", "ECDH-ES+A192KW", "ECDH-ES+A256KW"})
ENCRYPTION_ALGORITHMS = frozenset({"RSA-OAEP-256", *_ECDH})

MIN_PASSPHRASE_BYTES = 16
DEFAULT_PASSPHRASE_ENV = "JWT_GUARD_KEY_PASSPHRASE"  # noqa: S105 - a variable name
# scrypt cost: 2**15 x 8 x 128 bytes = 32 MiB and ~0.1 s, paid once per store
# object (RFC 7914 section 2 recommends N=2**20 for files at rest; the
# derived key is cached, so the cost is a start-up cost only).
_SCRYPT_N = 2**15
_SCRYPT_R = 8
_SCRYPT_P = 1
_CHECK_AAD = b"jwt-guard/key-store-check/v1"
_CHECK_PLAINTEXT = b"jwt-guard key store"

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import mldsa

    PrivateKey = (
        rsa.RSAPrivateKey
        | ec.EllipticCurvePrivateKey
        | ed25519.Ed25519PrivateKey
        | x25519.X25519PrivateKey
        | mldsa.MLDSA44PrivateKey
        | mldsa.MLDSA65PrivateKey
        | mldsa.MLDSA87PrivateKey
    )
else:
    PrivateKey = object


class KeyMaterial:
    """A private signing key or an HMAC secret, opaque to ``repr``, ``str`` and pickle.

    Holding the key in this wrapper means that a stray ``print``, log line
    or traceback with locals shows ``<KeyMaterial redacted>`` and never the
    secret. :meth:`reveal` hands the object to the signer.
    """

    __slots__ = ("_algorithm", "_key")

    def __init__(self, key: PrivateKey | bytes, algorithm: str) -> None:
        self._key = key
        self._algorithm = algorithm

    @property
    def algorithm(self) -> str:
        return self._algorithm

    def reveal(self) -> PrivateKey | bytes:
        """The ``cryptography`` private key object, or the HMAC secret bytes."""
        return self._key

    def __repr__(self) -> str:
        return f"<KeyMaterial {self._algorithm} redacted>"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        # Pickling would copy the secret into caches, queues or crash dumps.
        raise TypeError("signing key material cannot be pickled")

    def __eq__(self, other: object) -> bool:
        return self is other

    def __hash__(self) -> int:
        return id(self)


def generate_material(algorithm: str) -> KeyMaterial:
    """A fresh key for ``algorithm`` from the operating system's CSPRNG."""
    key: PrivateKey | bytes
    if algorithm in _EC:
        key = ec.generate_private_key(_EC[algorithm]())
    elif algorithm in ("RS256", "PS256"):
        key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
    elif algorithm == "EdDSA":
        key = ed25519.Ed25519PrivateKey.generate()
    elif algorithm in _MLDSA_PRIVATE:
        key = generate_mldsa_key(algorithm)
    elif algorithm in _HMAC_BYTES:
        key = secrets.token_bytes(_HMAC_BYTES[algorithm])
    else:
        raise ConfigurationError(
            "algorithm",
            f"{algorithm!r} cannot sign; choose one of {', '.join(sorted(SIGNING_ALGORITHMS))}",
        )
    return KeyMaterial(key, algorithm)


ENCRYPTION_CURVES = ("P-256", "X25519")


def generate_encryption_material(algorithm: str, curve: str = "P-256") -> KeyMaterial:
    """A fresh decryption key for the JWE key-management ``algorithm``.

    RSA-OAEP-256: 3072-bit RSA; ECDH-ES and its key-wrap variants: ``curve``,
    EC P-256 or X25519 (RFC 8037).
    """
    key: PrivateKey
    if algorithm == "RSA-OAEP-256":
        key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
    elif algorithm in _ECDH and curve == "X25519":
        key = x25519.X25519PrivateKey.generate()
    elif algorithm in _ECDH and curve == "P-256":
        key = ec.generate_private_key(ec.SECP256R1())
    else:
        raise ConfigurationError(
            "algorithm",
            f"{algorithm!r} is not a key-management algorithm for stored keys; choose one of "
            f"{', '.join(sorted(ENCRYPTION_ALGORITHMS))}",
        )
    return KeyMaterial(key, algorithm)


def dump_material(material: KeyMaterial) -> bytes:
    """Plaintext serialization (PKCS#8 DER, or the raw secret), only ever sealed."""
    key = material.reveal()
    if isinstance(key, bytes):
        return key
    return key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def load_material(raw: bytes, algorithm: str) -> KeyMaterial:
    """Inverse of :func:`dump_material`, checking that the key fits ``algorithm``."""
    if algorithm in _HMAC_BYTES:
        if len(raw) < _HMAC_BYTES[algorithm]:
            raise KeyStoreError(f"a stored {algorithm} secret is shorter than the hash output")
        return KeyMaterial(bytes(raw), algorithm)
    try:
        key = serialization.load_der_private_key(raw, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise KeyStoreError("a stored private key cannot be parsed") from None
    fits = (
        (algorithm in _EC and isinstance(key, ec.EllipticCurvePrivateKey)
         and isinstance(key.curve, _EC[algorithm]))
        or (algorithm in ("RS256", "PS256") and isinstance(key, rsa.RSAPrivateKey))
        or (algorithm == "EdDSA" and isinstance(key, ed25519.Ed25519PrivateKey))
        or (algorithm in _MLDSA_PRIVATE and mldsa_algorithm_of(key) == algorithm)
        or (algorithm == "RSA-OAEP-256" and isinstance(key, rsa.RSAPrivateKey))
        or (algorithm in _ECDH and isinstance(key, ec.EllipticCurvePrivateKey)
            and isinstance(key.curve, ec.SECP256R1))
        or (algorithm in _ECDH and isinstance(key, x25519.X25519PrivateKey))
    )  # fmt: skip
    if not fits:
        raise KeyStoreError(f"a stored private key does not fit its algorithm {algorithm}")
    return KeyMaterial(cast("PrivateKey", key), algorithm)


def public_jwk(material: KeyMaterial, kid: str | None = None) -> dict[str, Any] | None:
    """The public JWK (RFC 7517) with ``alg`` and ``use: sig``; ``None`` for HMAC secrets."""
    key = material.reveal()
    if isinstance(key, bytes):
        return None
    return jwk_for_public_key(key.public_key(), material.algorithm, kid)


def jwk_for_public_key(public_key: Any, algorithm: str, kid: str | None = None) -> dict[str, Any]:
    """The public JWK of a ``cryptography`` public key, with ``alg`` and ``use: sig``.

    Shared by local keys and keys held elsewhere (a PKCS#11 token reads its
    public half into a ``cryptography`` object), so both publish the same
    members and pass the same key hygiene checks.
    """
    try:
        verification = key_from_public_key(public_key)
    except KeyRejected as exc:
        raise KeyStoreError(f"a signing key fails the key hygiene checks: {exc}") from None
    assert verification.public_jwk is not None
    jwk = {k: v for k, v in verification.public_jwk.items() if k not in ("kid", "use", "alg")}
    if kid is not None:
        jwk["kid"] = kid
    jwk["alg"] = algorithm
    jwk["use"] = "sig"
    return jwk


_THUMBPRINT_MEMBERS = {
    "RSA": ("e", "kty", "n"),
    "EC": ("crv", "kty", "x", "y"),
    "OKP": ("crv", "kty", "x"),
    # RFC 9964 section 6: an AKP thumbprint includes alg.
    "AKP": ("alg", "kty", "pub"),
}


def thumbprint_kid(jwk: Mapping[str, Any]) -> str:
    """The RFC 7638 JWK thumbprint of a public JWK, base64url: anyone can check it."""
    members = {m: jwk[m] for m in _THUMBPRINT_MEMBERS[jwk["kty"]]}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode("utf-8")
    return b64url_encode(hashlib.sha256(canonical).digest())


def sign_mldsa(material: KeyMaterial, signing_input: bytes) -> bytes:
    """An ML-DSA signature over a JWS signing input (RFC 9964; PyJWT has no ML-DSA).

    JOSE signs with the empty context.
    """
    key: Any = material.reveal()
    if material.algorithm not in _MLDSA_PRIVATE or mldsa_algorithm_of(key) != material.algorithm:
        raise KeyStoreError(f"the key is not an {material.algorithm} key")
    signature: bytes = key.sign(signing_input)
    return signature


def new_kid(material: KeyMaterial) -> str:
    """RFC 7638 JWK thumbprint for public keys; a random id for HMAC secrets.

    A thumbprint lets anyone check that a kid belongs to its key. An HMAC
    secret gets a random kid: nothing about the secret should be derivable
    from a value placed in every token header.
    """
    jwk = public_jwk(material)
    if jwk is None:
        return "hs-" + secrets.token_urlsafe(16)
    return thumbprint_kid(jwk)


# --- at-rest encryption --------------------------------------------------------


def resolve_passphrase(passphrase: str | bytes | None, env: str | None) -> bytes:
    """The passphrase given, or the one in environment variable ``env``."""
    if passphrase is None:
        if not env:
            raise ConfigurationError(
                "passphrase", "give a passphrase, or the name of an environment variable holding it"
            )
        value = os.environ.get(env)
        if not value:
            raise ConfigurationError(
                "passphrase",
                f"no passphrase given and the environment variable {env} is not set; "
                'generate one with: python -c "import secrets; print(secrets.token_urlsafe(32))"',
            )
        passphrase = value
    if isinstance(passphrase, str):
        raw = passphrase.encode("utf-8")
    elif isinstance(passphrase, bytes):
        raw = passphrase
    else:
        raise ConfigurationError("passphrase", "must be a string or bytes")
    if len(raw) < MIN_PASSPHRASE_BYTES:
        raise ConfigurationError(
            "passphrase",
            f"is {len(raw)} bytes long; at least {MIN_PASSPHRASE_BYTES} are required "
            "(secrets.token_urlsafe(32) gives a good one)",
        )
    return raw


def new_kdf_params() -> dict[str, Any]:
    """Parameters for a new store: scrypt with a fresh 16-byte salt."""
    return {
        "name": "scrypt",
        "n": _SCRYPT_N,
        "r": _SCRYPT_R,
        "p": _SCRYPT_P,
        "salt": b64url_encode(secrets.token_bytes(16)),
    }


class Sealer:
    """AES-256-GCM under a passphrase-derived key. The key never leaves this object."""

    __slots__ = ("_aead",)

    def __init__(self, passphrase: bytes, kdf: Mapping[str, Any]) -> None:
        try:
            if kdf.get("name") != "scrypt":
                raise ValueError("unknown kdf")
            n, r, p = int(kdf["n"]), int(kdf["r"]), int(kdf["p"])
            if not (2**14 <= n <= 2**22 and 1 <= r <= 32 and 1 <= p <= 16):
                raise ValueError("kdf parameters out of range")
            salt = b64url_decode(kdf["salt"])
        except (KeyError, TypeError, ValueError, DecodeError):
            raise KeyStoreError("the key store's encryption parameters are corrupt") from None
        key = Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase)
        self._aead = AESGCM(key)

    def seal(self, plaintext: bytes, aad: bytes) -> bytes:
        # A random 96-bit nonce per message: a store seals a handful of keys
        # per rotation, far below the 2**32 messages where collisions matter.
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, plaintext, aad)

    def open(self, blob: bytes, aad: bytes) -> bytes:
        """Decrypt, or raise :class:`KeyStoreError` if the blob was changed or the key is wrong."""
        if len(blob) < 12 + 16:
            raise KeyStoreError("a sealed key is truncated")
        try:
            return self._aead.decrypt(blob[:12], blob[12:], aad)
        except InvalidTag:
            raise KeyStoreError(
                "a sealed key does not decrypt: it was modified, moved to another kid, "
                "or sealed under another passphrase"
            ) from None

    def check_value(self) -> str:
        """A sealed constant stored next to the keys, so a wrong passphrase fails at start-up."""
        return b64url_encode(self.seal(_CHECK_PLAINTEXT, _CHECK_AAD))

    def matches(self, check: object) -> bool:
        if not isinstance(check, str):
            return False
        try:
            return self.open(b64url_decode(check), _CHECK_AAD) == _CHECK_PLAINTEXT
        except (KeyStoreError, DecodeError):
            return False

    def __repr__(self) -> str:
        return "<Sealer AES-256-GCM>"


def key_aad(kid: str, algorithm: str) -> bytes:
    """Associated data binding a sealed key to its kid and algorithm."""
    return f"jwt-guard/signing-key/v1/{kid}/{algorithm}".encode()
