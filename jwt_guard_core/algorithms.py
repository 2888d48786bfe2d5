"""The JWS algorithms jwt-guard knows, and signature verification for each.

Signatures are checked with ``cryptography`` directly against key objects
parsed once when a key set is built, so the per-request cost is the
cryptographic operation and nothing else.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

try:  # ML-DSA (FIPS 204) arrived in cryptography 48.
    from cryptography.hazmat.primitives.asymmetric import mldsa
except ImportError:  # pragma: no cover - older cryptography: ML-DSA keys are refused
    mldsa = None  # type: ignore[assignment]

__all__ = [
    "ALGORITHMS",
    "ASYMMETRIC_ALGORITHMS",
    "HMAC_ALGORITHMS",
    "ML_DSA",
    "AlgorithmSpec",
    "MLDSASizes",
    "generate_mldsa_key",
    "min_token_bytes",
    "mldsa_algorithm_of",
    "verify_signature",
]


@dataclass(frozen=True)
class AlgorithmSpec:
    """What an algorithm needs from a key.

    ``kty`` is the JWK key type, ``crv`` the curve for EC/OKP keys (``None``
    when any curve the family supports will do), ``hash_bytes`` the digest
    size (the minimum HMAC secret length, RFC 7518 section 3.2).
    """

    name: str
    kty: str
    crv: str | None = None
    hash_bytes: int = 0


ALGORITHMS: dict[str, AlgorithmSpec] = {
    "HS256": AlgorithmSpec("HS256", "oct", hash_bytes=32),
    "HS384": AlgorithmSpec("HS384", "oct", hash_bytes=48),
    "HS512": AlgorithmSpec("HS512", "oct", hash_bytes=64),
    "RS256": AlgorithmSpec("RS256", "RSA", hash_bytes=32),
    "RS384": AlgorithmSpec("RS384", "RSA", hash_bytes=48),
    "RS512": AlgorithmSpec("RS512", "RSA", hash_bytes=64),
    "PS256": AlgorithmSpec("PS256", "RSA", hash_bytes=32),
    "PS384": AlgorithmSpec("PS384", "RSA", hash_bytes=48),
    "PS512": AlgorithmSpec("PS512", "RSA", hash_bytes=64),
    "ES256": AlgorithmSpec("ES256", "EC", "P-256", 32),
    "ES384": AlgorithmSpec("ES384", "EC", "P-384", 48),
    "ES512": AlgorithmSpec("ES512", "EC", "P-521", 64),
    # RFC 8037: EdDSA with the curve named by the key (Ed25519 or Ed448).
    "EdDSA": AlgorithmSpec("EdDSA", "OKP", None),
    # RFC 9864: the fully specified name, which pins the curve.
    "Ed25519": AlgorithmSpec("Ed25519", "OKP", "Ed25519"),
    # RFC 9964: ML-DSA (FIPS 204), post-quantum; an "AKP" key names its alg.
    "ML-DSA-44": AlgorithmSpec("ML-DSA-44", "AKP"),
    "ML-DSA-65": AlgorithmSpec("ML-DSA-65", "AKP"),
    "ML-DSA-87": AlgorithmSpec("ML-DSA-87", "AKP"),
}


@dataclass(frozen=True)
class MLDSASizes:
    """FIPS 204 table 2: public key and signature sizes in bytes."""

    public_key: int
    signature: int


ML_DSA: dict[str, MLDSASizes] = {
    "ML-DSA-44": MLDSASizes(1312, 2420),
    "ML-DSA-65": MLDSASizes(1952, 3309),
    "ML-DSA-87": MLDSASizes(2592, 4627),
}
# Room a token needs beside its signature: header, claims and two dots. A
# typical access token's header and claims take 300 to 1,500 characters.
TOKEN_ROOM = 2048
# What a nested JWE adds around its JWS: base64url of the JWS (4/3) plus
# the JWE header (with an ephemeral key), encrypted key, IV and tag.
_JWE_OVERHEAD = 1024


def min_token_bytes(alg: str, *, nested: bool = False) -> int:
    """The smallest ``max_token_bytes`` that fits an ``alg`` token (0 when any limit does).

    Only ML-DSA signatures are large enough to matter: 3,227 to 6,170
    base64url characters, against 86 for ES256.
    """
    sizes = ML_DSA.get(alg)
    if sizes is None:
        return 0
    jws = -(-sizes.signature * 4 // 3) + TOKEN_ROOM
    return -(-jws * 4 // 3) + _JWE_OVERHEAD if nested else jws


HMAC_ALGORITHMS = frozenset(a for a, s in ALGORITHMS.items() if s.kty == "oct")
ASYMMETRIC_ALGORITHMS = frozenset(ALGORITHMS) - HMAC_ALGORITHMS

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "256": hashes.SHA256,
    "384": hashes.SHA384,
    "512": hashes.SHA512,
}
_HMAC_DIGESTS = {"HS256": "sha256", "HS384": "sha384", "HS512": "sha512"}
_EC_COORD_BYTES = {"ES256": 32, "ES384": 48, "ES512": 66}

# Prepared once: cryptography's padding and hash objects are immutable.
_PKCS1 = padding.PKCS1v15()
_RSA_HASH = {alg: _HASHES[alg[2:]]() for alg in ALGORITHMS if alg[:2] in ("RS", "PS", "ES")}
# RFC 7518 section 3.5: MGF1 with the same hash, salt as long as the hash output.
_PSS = {
    alg: padding.PSS(mgf=padding.MGF1(_RSA_HASH[alg]), salt_length=_RSA_HASH[alg].digest_size)
    for alg in ("PS256", "PS384", "PS512")
}
_ECDSA = {alg: ec.ECDSA(_RSA_HASH[alg]) for alg in _EC_COORD_BYTES}

# Parameter set -> (public key class, private key class), when cryptography has them.
_MLDSA_CLASSES: dict[str, tuple[Any, Any]] = (
    {
        f"ML-DSA-{n}": (getattr(mldsa, f"MLDSA{n}PublicKey"), getattr(mldsa, f"MLDSA{n}PrivateKey"))
        for n in (44, 65, 87)
    }
    if mldsa is not None
    else {}
)
_MLDSA_PUBLIC = {alg: classes[0] for alg, classes in _MLDSA_CLASSES.items()}
_MLDSA_PRIVATE = {alg: classes[1] for alg, classes in _MLDSA_CLASSES.items()}


def generate_mldsa_key(alg: str) -> Any:
    """A new ML-DSA private key for ``alg`` (``ML-DSA-44``, ``-65`` or ``-87``)."""
    if alg not in _MLDSA_PRIVATE:
        raise ValueError(f"{alg} needs cryptography 48 or later" if alg in ML_DSA else alg)
    return _MLDSA_PRIVATE[alg].generate()


def mldsa_algorithm_of(key: object) -> str | None:
    """The ML-DSA algorithm of a public or private key object, or ``None``."""
    for table in (_MLDSA_PUBLIC, _MLDSA_PRIVATE):
        for name, cls in table.items():
            if isinstance(key, cls):
                return name
    return None


if TYPE_CHECKING:
    PublicKey = (
        rsa.RSAPublicKey
        | ec.EllipticCurvePublicKey
        | ed25519.Ed25519PublicKey
        | ed448.Ed448PublicKey
        | mldsa.MLDSA44PublicKey
        | mldsa.MLDSA65PublicKey
        | mldsa.MLDSA87PublicKey
    )
else:
    PublicKey = object


def verify_signature(alg: str, key: PublicKey | bytes, signing_input: bytes, sig: bytes) -> bool:
    """Return whether ``sig`` is a valid ``alg`` signature over ``signing_input``.

    The caller guarantees that ``key`` was bound to ``alg`` when the key set
    was built; this function never chooses an algorithm from the key.
    """
    family = alg[:2]
    try:
        if family == "HS":
            if not isinstance(key, bytes):
                return False
            expected = hmac.digest(key, signing_input, _HMAC_DIGESTS[alg])
            return hmac.compare_digest(expected, sig)
        if family == "RS":
            if not isinstance(key, rsa.RSAPublicKey):
                return False
            key.verify(sig, signing_input, _PKCS1, _RSA_HASH[alg])
            return True
        if family == "PS":
            if not isinstance(key, rsa.RSAPublicKey):
                return False
            key.verify(sig, signing_input, _PSS[alg], _RSA_HASH[alg])
            return True
        if family == "ES":
            if not isinstance(key, ec.EllipticCurvePublicKey):
                return False
            size = _EC_COORD_BYTES[alg]
            # RFC 7518 section 3.4: exactly R || S, each the curve's size.
            if len(sig) != 2 * size:
                return False
            r = int.from_bytes(sig[:size], "big")
            s = int.from_bytes(sig[size:], "big")
            # Psychic signatures (CVE-2022-21449): r and s must be in [1, n-1];
            # OpenSSL checks this too, the explicit test costs nothing.
            if r == 0 or s == 0:
                return False
            key.verify(encode_dss_signature(r, s), signing_input, _ECDSA[alg])
            return True
        if alg in ("EdDSA", "Ed25519"):
            if not isinstance(key, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
                return False
            key.verify(sig, signing_input)
            return True
        if alg in ML_DSA:
            if not isinstance(key, _MLDSA_PUBLIC.get(alg, ())) or len(sig) != ML_DSA[alg].signature:
                return False
            # RFC 9964: JOSE signs with the empty context string.
            key.verify(sig, signing_input)
            return True
    except InvalidSignature:
        return False
    return False
