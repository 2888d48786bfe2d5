"""Verification keys, their hygiene checks, and the static key set.

Every key is parsed into a ``cryptography`` object once, checked, and bound
to the algorithms it may verify. A token can only ever be verified with a key
under an algorithm that key was bound to, which is what makes algorithm
confusion (RFC 8725 section 2.1, "HS256 signed with the RSA public key")
impossible rather than merely unlikely.

Hygiene rules, applied to every key whatever its source:

* RSA: an odd modulus of at least 2048 bits, public exponent odd and at
  least 3, no ROCA fingerprint (CVE-2017-15361);
* EC: P-256, P-384 or P-521 with full-length coordinates of a point on the
  curve; the curve must match the JWK's ``alg``;
* OKP: Ed25519 or Ed448 only (X25519/X448 are not signature keys), in
  canonical encoding and not a point of small order (the identity, the
  order-2 point and the other torsion points, against which a signature
  R = identity, S = 0 verifies);
* AKP (RFC 9964, ML-DSA): ``alg`` is required and names the parameter
  set; ``pub`` must have that set's exact length;
* HMAC: a secret at least as long as the hash output (RFC 7518 section 3.2),
  not blank, never a public key (PEM anywhere in the text, OpenSSH, JWK,
  DER, certificates, and each of these once more in hex or base64), and
  (for secrets given as configuration text, not JWK material) not one byte
  repeated;
* ``use`` must be ``sig``; ``key_ops``, when present, must include ``verify``;
  a JWK ``alg`` must be a signature algorithm that fits the key;
* a set may not hold two keys with the same ``kid``, nor mix HMAC secrets
  with asymmetric keys.

Private members (``d``, ``p``, ``q``, ...) in a set meant for verification
are **refused** by default: a private key in a verifier's configuration is
a leaked key. ``private_members="strip"`` drops them instead, with a WARNING,
for the case where a deliberately shared private JWKS is loaded.
"""

from __future__ import annotations

import base64
import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa, x448, x25519

from . import events
from ._roca import is_roca_weak
from .algorithms import (
    _MLDSA_PUBLIC,
    ALGORITHMS,
    HMAC_ALGORITHMS,
    ML_DSA,
    PublicKey,
    mldsa_algorithm_of,
)
from .encoding import DecodeError, b64url_decode, b64url_encode
from .errors import AlgorithmNotAllowed, ConfigurationError, UnknownKid

__all__ = [
    "KeyRejected",
    "KeySource",
    "StaticKeySet",
    "VerificationKey",
    "build_key_index",
    "key_from_jwk",
    "key_from_pem",
    "key_from_secret",
]

MIN_RSA_BITS = 2048
PrivateMembers = Literal["refuse", "strip"]

_EC_CURVES: dict[str, tuple[type[ec.EllipticCurve], int, str]] = {
    "P-256": (ec.SECP256R1, 32, "ES256"),
    "P-384": (ec.SECP384R1, 48, "ES384"),
    "P-521": (ec.SECP521R1, 66, "ES512"),
}
_CURVE_BY_NAME = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}
_OKP_CURVES = {"Ed25519": 32, "Ed448": 57}
_PRIVATE_MEMBERS = {
    "RSA": ("d", "p", "q", "dp", "dq", "qi", "oth"),
    "EC": ("d",),
    "OKP": ("d",),
    "AKP": ("priv",),
}
_RSA_ALGS = frozenset(a for a, s in ALGORITHMS.items() if s.kty == "RSA")
# RFC 7518 sections 4 and 5: key-management and content-encryption algorithms,
# named in the error when an encryption key is given for verification.
_ENCRYPTION_ALGS = frozenset(
    {
        "RSA1_5", "RSA-OAEP", "RSA-OAEP-256", "RSA-OAEP-384", "RSA-OAEP-512",
        "A128KW", "A192KW", "A256KW", "dir",
        "ECDH-ES", "ECDH-ES+A128KW", "ECDH-ES+A192KW", "ECDH-ES+A256KW",
        "A128GCMKW", "A192GCMKW", "A256GCMKW",
        "PBES2-HS256+A128KW", "PBES2-HS384+A192KW", "PBES2-HS512+A256KW",
        "A128CBC-HS256", "A192CBC-HS384", "A256CBC-HS512", "A128GCM", "A192GCM", "A256GCM",
    }
)  # fmt: skip
# A frequent misspelling: P-521 pairs with SHA-512, hence ES512.
_MISNAMED_ALGS = {"ES521": "ES512"}


class KeyRejected(ValueError):
    """A key failed a hygiene check. The message names the problem, never the material."""


@dataclass(frozen=True, eq=False)
class VerificationKey:
    """A parsed public key (or HMAC secret) bound to the algorithms it may verify.

    ``key`` is the ``cryptography`` object (bytes for HMAC) and is kept out of
    ``repr``; ``public_jwk`` is the public JWK (``None`` for HMAC secrets).
    """

    kid: str | None
    kty: str
    algorithms: frozenset[str]
    key: PublicKey | bytes = field(repr=False)
    crv: str | None = None
    public_jwk: Mapping[str, Any] | None = field(default=None, repr=False)

    @property
    def symmetric(self) -> bool:
        return self.kty == "oct"


@runtime_checkable
class KeySource(Protocol):
    """Where the verifier finds the key for a token.

    ``get_key``/``aget_key`` return the key for ``kid`` that is bound to
    ``alg``, or raise :class:`~jwt_guard_core.errors.UnknownKid`,
    :class:`~jwt_guard_core.errors.AlgorithmNotAllowed` or
    :class:`~jwt_guard_core.errors.KeySourceUnavailable`.
    ``allows_hmac`` says whether the source can hold HMAC secrets; remote
    key sets never do.
    """

    @property
    def allows_hmac(self) -> bool: ...

    def get_key(self, kid: str | None, alg: str) -> VerificationKey: ...

    async def aget_key(self, kid: str | None, alg: str) -> VerificationKey: ...


# --- parsing -------------------------------------------------------------------


def _b64_int(jwk: Mapping[str, Any], name: str) -> int:
    raw = _b64_member(jwk, name)
    if not raw:
        raise KeyRejected(f"member {name!r} is empty")
    return int.from_bytes(raw, "big")


def _b64_member(jwk: Mapping[str, Any], name: str) -> bytes:
    value = jwk.get(name)
    if not isinstance(value, str):
        raise KeyRejected(f"member {name!r} is missing or not a string")
    try:
        return b64url_decode(value)
    except DecodeError as exc:
        raise KeyRejected(f"member {name!r} is not base64url") from exc


def _check_rsa(key: rsa.RSAPublicKey) -> None:
    numbers = key.public_numbers()
    if key.key_size < MIN_RSA_BITS:
        raise KeyRejected(f"RSA key has {key.key_size} bits; at least {MIN_RSA_BITS} are required")
    if numbers.e < 3 or numbers.e % 2 == 0:
        raise KeyRejected("RSA public exponent must be odd and at least 3")
    if numbers.n % 2 == 0:
        # A product of two large primes is odd: an even modulus is corrupt
        # or hand-made, and no signature made by a real key verifies with it.
        raise KeyRejected("RSA modulus is even, so it is not a product of two primes")
    if is_roca_weak(numbers.n):
        raise KeyRejected("RSA key has the ROCA fingerprint (CVE-2017-15361) and is factorable")


# RFC 8032 field primes of the two signature curves.
_P25519 = 2**255 - 19
_P448 = 2**448 - 2**224 - 1
# The y-coordinates of every point of small order (the cofactor's torsion:
# 8 points on edwards25519, 4 on edwards448). For each y both sign bits are
# refused: one encodes a small-order point, the other (when x = 0) is a
# non-canonical encoding of one. Ed25519: identity y=1, order 2 y=-1, order
# 4 y=0 (x = +-sqrt(-1)), order 8 y = +-Y8 where d*y^4 + 2*y^2 - 1 = 0.
# Ed448: identity y=1, order 2 y=-1, order 4 y=0 (x = +-1).
_Y8_25519 = 0x7A03AC9277FDC74EC6CC392CFA53202A0F67100D760B3CBA4FD84D3D706A17C7
_SMALL_ORDER_Y = {
    "Ed25519": frozenset({0, 1, _P25519 - 1, _Y8_25519, _P25519 - _Y8_25519}),
    "Ed448": frozenset({0, 1, _P448 - 1}),
}


def _check_eddsa_point(crv: str, raw: bytes) -> None:
    """Refuse a non-canonical or small-order Ed25519/Ed448 public key encoding.

    With a small-order public key A, the signature R = identity, S = 0
    passes the (cofactorless) check [S]B = R + [k]A for every message whose
    k is a multiple of A's order: one in 4 tokens, forged by anyone without
    a private key. A non-canonical encoding (y >= p, or stray bits in
    Ed448's last byte) is how the same points hide from a byte comparison
    (RFC 8032 sections 5.1.3 and 5.2.3 reject them when decoding).
    """
    if crv == "Ed25519":
        p, y = _P25519, int.from_bytes(raw, "little") & ((1 << 255) - 1)
    else:
        if raw[56] & 0x7F:
            raise KeyRejected("Ed448 public key is not canonically encoded")
        p, y = _P448, int.from_bytes(raw[:56], "little")
    if y >= p:
        raise KeyRejected(f"{crv} public key is not canonically encoded (y >= p)")
    if y in _SMALL_ORDER_Y[crv]:
        raise KeyRejected(
            f"{crv} public key is a point of small order; any token signed with the "
            "identity and S = 0 would verify against it"
        )


def _algorithms_for(
    kty: str, crv: str | None, declared: str | None, secret_len: int = 0
) -> frozenset[str]:
    """The algorithms a key of this type may verify, narrowed to ``declared``."""
    if kty == "RSA":
        possible = set(_RSA_ALGS)
    elif kty == "EC":
        possible = {_EC_CURVES[crv][2]} if crv in _EC_CURVES else set()
    elif kty == "OKP":
        possible = {"EdDSA", "Ed25519"} if crv == "Ed25519" else {"EdDSA"}
    elif kty == "oct":
        possible = {a for a in HMAC_ALGORITHMS if ALGORITHMS[a].hash_bytes <= secret_len}
    else:  # pragma: no cover - callers only pass known types
        possible = set()
    if declared is not None:
        if declared not in ALGORITHMS:
            hint = ""
            if declared in _ENCRYPTION_ALGS:
                kind = "AES " if declared.startswith("A") else ""
                hint = f" (it is a JWE {kind}encryption algorithm, RFC 7518 sections 4-5)"
            elif declared in _MISNAMED_ALGS:
                hint = f" (did you mean {_MISNAMED_ALGS[declared]}?)"
            raise KeyRejected(
                f"alg {_safe_repr(declared)} is not a JWS signature algorithm jwt-guard "
                f"accepts{hint}"
            )
        if declared not in possible:
            if kty == "oct" and ALGORITHMS[declared].kty == "oct":
                raise KeyRejected(
                    f"HMAC secret of {secret_len} bytes is shorter than {declared} requires "
                    f"({ALGORITHMS[declared].hash_bytes} bytes)"
                )
            raise KeyRejected(
                f"alg {declared!r} does not fit this {kty} key" + (f" on {crv}" if crv else "")
            )
        return frozenset({declared})
    if not possible:
        if kty == "oct":
            raise KeyRejected(f"HMAC secret of {secret_len} bytes is shorter than 32 bytes (HS256)")
        raise KeyRejected(f"no algorithm fits this {kty} key")
    return frozenset(possible)


def key_from_jwk(
    jwk: Mapping[str, Any],
    *,
    private_members: PrivateMembers = "refuse",
    allow_hmac: bool = True,
) -> VerificationKey:
    """Parse and check one JWK (RFC 7517/7518/8037). Raises :class:`KeyRejected`."""
    if not isinstance(jwk, Mapping):
        raise KeyRejected("a JWK must be a JSON object")
    kty = jwk.get("kty")
    if not isinstance(kty, str):
        raise KeyRejected("kty is missing or not a string")
    kid = jwk.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise KeyRejected("kid must be a string")
    declared = jwk.get("alg")
    if declared is not None and not isinstance(declared, str):
        raise KeyRejected("alg must be a string")
    use = jwk.get("use")
    if use is not None and use != "sig":
        raise KeyRejected(f"use is {use!r}; only 'sig' keys may verify signatures")
    key_ops = jwk.get("key_ops")
    if key_ops is not None:
        if not isinstance(key_ops, list) or not all(isinstance(op, str) for op in key_ops):
            raise KeyRejected("key_ops must be a list of strings")
        if "verify" not in key_ops:
            raise KeyRejected("key_ops does not include 'verify'")
        if not set(key_ops) <= {"sign", "verify"}:
            raise KeyRejected("key_ops mixes signature and encryption operations")

    if kty in _PRIVATE_MEMBERS:
        present = [m for m in _PRIVATE_MEMBERS[kty] if m in jwk]
        if present:
            if private_members == "refuse":
                raise KeyRejected(
                    f"the JWK holds private members {', '.join(present)}; a verifier needs only "
                    "the public key (pass private_members='strip' to drop them)"
                )
            events.emit(
                "private_key_members_stripped",
                level=logging.WARNING,
                message="private members were stripped from a JWK given for verification",
                kid=kid,
                members=",".join(present),
            )

    crv: str | None = None
    key: PublicKey | bytes
    public: dict[str, Any]
    if kty == "RSA":
        algs = _algorithms_for("RSA", None, declared)
        n = _b64_int(jwk, "n")
        e = _b64_int(jwk, "e")
        if e < 3 or e % 2 == 0:
            raise KeyRejected("RSA public exponent must be odd and at least 3")
        try:
            key = rsa.RSAPublicNumbers(e, n).public_key()
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise KeyRejected("RSA public key is invalid") from exc
        _check_rsa(key)
        public = {"kty": "RSA", "n": jwk["n"], "e": jwk["e"]}
    elif kty == "EC":
        crv = jwk.get("crv")
        if not isinstance(crv, str) or crv not in _EC_CURVES:
            raise KeyRejected(f"EC curve {_safe_repr(crv)} is not one of P-256, P-384, P-521")
        # The curve must fit the declared alg (RFC 7518 section 3.4) before
        # the coordinates are even looked at.
        algs = _algorithms_for("EC", crv, declared)
        curve_cls, size, _ = _EC_CURVES[crv]
        x_raw = _b64_member(jwk, "x")
        y_raw = _b64_member(jwk, "y")
        if len(x_raw) != size or len(y_raw) != size:
            # RFC 7518 section 6.2.1.2: coordinates are the full curve size.
            raise KeyRejected(f"EC coordinates for {crv} must be {size} bytes")
        try:
            key = ec.EllipticCurvePublicNumbers(
                int.from_bytes(x_raw, "big"), int.from_bytes(y_raw, "big"), curve_cls()
            ).public_key()
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise KeyRejected(f"EC point is not on {crv}") from exc
        public = {"kty": "EC", "crv": crv, "x": jwk["x"], "y": jwk["y"]}
    elif kty == "OKP":
        crv = jwk.get("crv")
        if not isinstance(crv, str) or crv not in _OKP_CURVES:
            raise KeyRejected(
                f"OKP curve {_safe_repr(crv)} is not a signature curve (Ed25519, Ed448)"
            )
        algs = _algorithms_for("OKP", crv, declared)
        x_raw = _b64_member(jwk, "x")
        if len(x_raw) != _OKP_CURVES[crv]:
            raise KeyRejected(f"{crv} public key must be {_OKP_CURVES[crv]} bytes")
        _check_eddsa_point(crv, x_raw)
        try:
            if crv == "Ed25519":
                key = ed25519.Ed25519PublicKey.from_public_bytes(x_raw)
            else:
                key = ed448.Ed448PublicKey.from_public_bytes(x_raw)
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise KeyRejected(f"{crv} public key is invalid") from exc
        public = {"kty": "OKP", "crv": crv, "x": jwk["x"]}
    elif kty == "AKP":
        algs, key = _mldsa_key(jwk, declared)
        public = {"kty": "AKP", "pub": jwk["pub"]}
    elif kty == "oct":
        if not allow_hmac:
            raise KeyRejected("symmetric (oct) keys are not accepted from this source")
        secret = _b64_member(jwk, "k") if jwk.get("k") != "" else b""
        _check_secret(secret, refuse_trivial=False)
        algs = _algorithms_for("oct", None, declared, len(secret))
        return VerificationKey(kid=kid, kty="oct", algorithms=algs, key=secret)
    else:
        raise KeyRejected(
            f"kty {_safe_repr(kty)} is not a signature key type (RSA, EC, OKP, AKP, oct)"
        )

    if kid is not None:
        public["kid"] = kid
    if declared is not None:
        public["alg"] = declared
    public["use"] = "sig"
    return VerificationKey(kid=kid, kty=kty, algorithms=algs, key=key, crv=crv, public_jwk=public)


def _mldsa_key(jwk: Mapping[str, Any], declared: str | None) -> tuple[frozenset[str], PublicKey]:
    """An AKP JWK (RFC 9964): ``alg`` names the ML-DSA parameter set, ``pub`` the key."""
    if declared not in ML_DSA:
        raise KeyRejected(
            f"an AKP key must name its alg (ML-DSA-44, ML-DSA-65 or ML-DSA-87; RFC 9964), "
            f"not {_safe_repr(declared)}"
        )
    assert declared is not None
    if declared not in _MLDSA_PUBLIC:  # pragma: no cover - cryptography < 48
        raise KeyRejected(f"{declared} needs cryptography 48 or later")
    raw = _b64_member(jwk, "pub")
    size = ML_DSA[declared].public_key
    if len(raw) != size:
        raise KeyRejected(f"{declared} public key must be {size} bytes, not {len(raw)}")
    try:
        key = _MLDSA_PUBLIC[declared].from_public_bytes(raw)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise KeyRejected(f"{declared} public key is invalid") from exc
    return frozenset({declared}), key


def key_from_public_key(
    key: object, *, kid: str | None = None, algorithms: Iterable[str] | None = None
) -> VerificationKey:
    """Wrap a ``cryptography`` public key object, checking it like a JWK."""
    if isinstance(key, rsa.RSAPublicKey):
        _check_rsa(key)
        nums = key.public_numbers()
        jwk: dict[str, Any] = {
            "kty": "RSA",
            "n": b64url_encode(nums.n.to_bytes((nums.n.bit_length() + 7) // 8, "big")),
            "e": b64url_encode(nums.e.to_bytes((nums.e.bit_length() + 7) // 8, "big")),
        }
    elif isinstance(key, ec.EllipticCurvePublicKey):
        crv = _CURVE_BY_NAME.get(key.curve.name)
        if crv is None:
            raise KeyRejected(f"EC curve {key.curve.name} is not one of P-256, P-384, P-521")
        size = _EC_CURVES[crv][1]
        nums_ec = key.public_numbers()
        jwk = {
            "kty": "EC",
            "crv": crv,
            "x": b64url_encode(nums_ec.x.to_bytes(size, "big")),
            "y": b64url_encode(nums_ec.y.to_bytes(size, "big")),
        }
    elif isinstance(key, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
        raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        crv = "Ed25519" if isinstance(key, ed25519.Ed25519PublicKey) else "Ed448"
        jwk = {"kty": "OKP", "crv": crv, "x": b64url_encode(raw)}
    elif mldsa_algorithm_of(key) is not None and not hasattr(key, "sign"):
        alg = mldsa_algorithm_of(key)
        ml_key: Any = key
        jwk = {"kty": "AKP", "alg": alg, "pub": b64url_encode(ml_key.public_bytes_raw())}
    elif isinstance(key, (x25519.X25519PublicKey, x448.X448PublicKey)):
        raise KeyRejected(
            f"{type(key).__name__[:-9]} is a key-agreement key, not a signature key "
            "(use Ed25519 or Ed448)"
        )
    elif isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)) or hasattr(
        key, "private_bytes"
    ):
        raise KeyRejected("a private key was given where a public key is expected")
    else:
        raise KeyRejected(f"unsupported public key type {type(key).__name__}")
    if kid is not None:
        jwk["kid"] = kid
    base = key_from_jwk(jwk)
    if algorithms is None:
        return base
    wanted = frozenset(algorithms)
    if not wanted:
        raise KeyRejected("algorithms is empty")
    unfit = sorted(wanted - base.algorithms)
    if unfit:
        raise KeyRejected(f"algorithm(s) {', '.join(unfit)} do not fit this {base.kty} key")
    return VerificationKey(kid, base.kty, wanted, base.key, base.crv, base.public_jwk)


def key_from_pem(
    pem: str | bytes, *, kid: str | None = None, algorithms: Iterable[str] | None = None
) -> VerificationKey:
    """Load a PEM public key (SPKI or PKCS#1) or X.509 certificate.

    A PEM private key is refused: a verifier must not hold signing material.
    """
    if isinstance(pem, str):
        data = pem.encode("ascii", "replace")
    elif isinstance(pem, (bytes, bytearray)):
        data = bytes(pem)
    else:
        raise KeyRejected(f"PEM data must be str or bytes, not {type(pem).__name__}")
    if b"PRIVATE KEY-----" in data:
        raise KeyRejected("a PEM private key was given where a public key is expected")
    public: object
    try:
        if b"-----BEGIN CERTIFICATE-----" in data:
            public = x509.load_pem_x509_certificate(data).public_key()
        else:
            public = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise KeyRejected("the PEM data is not a public key or certificate") from exc
    return key_from_public_key(public, kid=kid, algorithms=algorithms)


def key_from_secret(
    secret: str | bytes, *, algorithm: str = "HS256", kid: str | None = None
) -> VerificationKey:
    """Wrap an HMAC secret, bound to exactly ``algorithm``.

    The secret must be at least as long as the hash output (32 bytes for
    HS256): RFC 7518 section 3.2. Use ``secrets.token_bytes(32)`` or longer.
    """
    if isinstance(secret, str):
        raw = secret.encode("utf-8")
    elif isinstance(secret, (bytes, bytearray, memoryview)):
        raw = bytes(secret)
    else:
        # bytes(32) would quietly be 32 zero bytes: refuse anything else.
        raise KeyRejected(f"an HMAC secret must be str or bytes, not {type(secret).__name__}")
    if algorithm not in HMAC_ALGORITHMS:
        raise KeyRejected(f"algorithm {algorithm!r} is not an HMAC algorithm (HS256, HS384, HS512)")
    _check_secret(raw)
    algs = _algorithms_for("oct", None, algorithm, len(raw))
    return VerificationKey(kid=kid, kty="oct", algorithms=algs, key=raw)


# PEM (SPKI, PKCS#1, certificates, private keys) and RFC 4716 SSH2 blocks,
# searched anywhere: a comment line or a BOM before them changes nothing.
_PEM_MARKERS = (b"-----BEGIN", b"---- BEGIN SSH2")
# OpenSSH key type names (RFC 4253 section 6.6, RFC 5656, RFC 8709, FIDO keys).
_SSH_KEY_TYPES = (
    b"ssh-rsa",
    b"ssh-dss",
    b"ssh-ed25519",
    b"ssh-ed448",
    b"ecdsa-sha2-",
    b"sk-ssh-ed25519@openssh.com",
    b"sk-ecdsa-sha2-",
)
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
_HEX_TEXT = re.compile(rb"(?:[0-9A-Fa-f]{2})+")
_BASE64_TEXT = re.compile(rb"[A-Za-z0-9+/_-]+={0,2}")
_TO_STANDARD_BASE64 = bytes.maketrans(b"-_", b"+/")


def _looks_like_jwk(raw: bytes) -> bool:
    if not raw.lstrip().startswith(b"{"):
        return False
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError):
        return False
    return isinstance(doc, dict) and ("kty" in doc or "keys" in doc)


def _is_der_key(raw: bytes) -> bool:
    # DER is a SEQUENCE (0x30); only then is trying the parsers worth it.
    if not raw.startswith(b"\x30"):
        return False
    for load in (serialization.load_der_public_key, x509.load_der_x509_certificate):
        try:
            load(raw)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            continue
        return True
    return False


def _is_ssh_blob(raw: bytes) -> bool:
    # The base64 body of an OpenSSH public key line is a length-prefixed key
    # type name (RFC 4253 section 6.6) followed by the key.
    length = int.from_bytes(raw[:4], "big")
    return 0 < length <= 64 and raw[4 : 4 + length].startswith(_SSH_KEY_TYPES)


def _key_shape(data: bytes) -> str | None:
    """The public-key container ``data`` is, without any decoding, or ``None``."""
    if any(marker in data for marker in _PEM_MARKERS):
        return "PEM"
    if any(name in data for name in _SSH_KEY_TYPES) or _is_ssh_blob(data):
        return "OpenSSH"
    if _looks_like_jwk(data):
        return "JWK"
    if _is_der_key(data):
        return "DER"
    return None


def _decodings(text: bytes) -> list[tuple[str, bytes]]:
    """``text`` read as hex and as base64/base64url, where it is either."""
    compact = b"".join(text.split())
    found: list[tuple[str, bytes]] = []
    hex_digits = compact.removeprefix(b"0x").replace(b":", b"")
    if _HEX_TEXT.fullmatch(hex_digits):
        found.append(("hex", bytes.fromhex(hex_digits.decode("ascii"))))
    if _BASE64_TEXT.fullmatch(compact):
        unpadded = compact.rstrip(b"=").translate(_TO_STANDARD_BASE64)
        # A length of 4n+1 is no base64; any other length pads to valid text.
        if len(unpadded) % 4 != 1:
            padded = unpadded + b"=" * (-len(unpadded) % 4)
            found.append(("base64", base64.b64decode(padded, validate=True)))
    return found


def _public_key_shape(raw: bytes) -> str | None:
    """Where ``raw`` holds a public key, certificate or JWK (e.g. ``"base64 DER"``), else ``None``.

    The usual wrappings are removed first: surrounding whitespace, a byte
    order mark, text before a PEM block, and one layer of hex or base64 /
    base64url (Keycloak's ``public_key`` field is the bare base64 body of
    the DER, ``openssl`` prints hex).
    """
    text = raw.strip()
    for bom in _BOMS:
        text = text.removeprefix(bom).strip()
    # Raw DER may begin or end with a byte that strip() takes for whitespace.
    shape = _key_shape(raw) or _key_shape(text)
    if shape is not None:
        return shape
    for encoding, decoded in _decodings(text):
        shape = _key_shape(decoded)
        if shape is not None:
            return f"{encoding} {shape}"
    return None


def _check_secret(raw: bytes, *, refuse_trivial: bool = True) -> None:
    """Refuse HMAC secrets that are empty, blank, trivial or a public key.

    ``refuse_trivial`` (one byte repeated) applies to secrets given as
    configuration text, where placeholders such as ``"xxxx..."`` are typed by
    people. A JWK's ``k`` is generated material, and interoperability suites
    (Wycheproof's JWS base64 group uses 32 zero bytes) treat such keys as
    valid, so JWK parsing checks everything but this.

    A public key used as the HMAC secret is the algorithm-confusion attack of
    RFC 8725 section 2.1 turned into configuration: anyone holding the public
    key (everyone) can then mint valid HS256 tokens. PyJWT refuses the same
    inputs. Messages never echo the material.
    """
    if not raw:
        raise KeyRejected("HMAC secret is empty")
    if not raw.strip():
        raise KeyRejected("HMAC secret is blank (only whitespace)")
    if refuse_trivial and len(set(raw)) == 1:
        raise KeyRejected("HMAC secret is one byte repeated; use secrets.token_bytes(32)")
    shape = _public_key_shape(raw)
    if shape is not None:
        raise KeyRejected(
            f"HMAC secret is an asymmetric key, certificate or JWK (found: {shape}); a public "
            "key used as an HMAC secret lets anyone forge tokens (RFC 8725 section 2.1)"
        )


def _public_material(key: VerificationKey) -> set[bytes]:
    """The raw numbers of a public key: an RSA modulus, EC coordinates and points, an OKP x."""
    found: set[bytes] = set()
    public = key.key
    if isinstance(public, rsa.RSAPublicKey):
        n = public.public_numbers().n
        raw_n = n.to_bytes((n.bit_length() + 7) // 8, "big")
        found.update((raw_n, b"\x00" + raw_n, str(n).encode("ascii")))
    elif isinstance(public, ec.EllipticCurvePublicKey):
        size = (public.curve.key_size + 7) // 8
        nums = public.public_numbers()
        x, y = nums.x.to_bytes(size, "big"), nums.y.to_bytes(size, "big")
        found.update((x, y, x + y, b"\x04" + x + y, bytes([2 + nums.y % 2]) + x))
    elif isinstance(public, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
        found.add(public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))
    return found


def secret_shares_public_material(
    secret: bytes, public_keys: Iterable[VerificationKey]
) -> VerificationKey | None:
    """The key among ``public_keys`` whose raw material ``secret`` is, in any usual encoding.

    A secret that is another key's RSA modulus, EC point or Ed25519 ``x``
    (raw, hex, base64/base64url such as a JWK's ``n``, or decimal) is as
    public as the key itself. Only knowable where both sit in the same
    configuration (several issuers), so :class:`~jwt_guard_core.GuardConfig`
    asks; returns ``None`` when the secret matches none.
    """
    text = secret.strip()
    candidates = {secret, text, *(decoded for _, decoded in _decodings(text))}
    for key in public_keys:
        if not _public_material(key).isdisjoint(candidates):
            return key
    return None


def build_key_index(keys: Iterable[VerificationKey]) -> tuple[VerificationKey, ...]:
    """Apply the set-level rules: no duplicate kid, no HMAC mixed with asymmetric keys."""
    result = tuple(keys)
    seen: set[str] = set()
    for k in result:
        if k.kid is not None:
            if k.kid in seen:
                raise KeyRejected(f"duplicate kid {_short(k.kid)!r} in the key set")
            seen.add(k.kid)
    kinds = {k.symmetric for k in result}
    if len(kinds) > 1:
        raise KeyRejected(
            "the key set mixes HMAC secrets with asymmetric keys, which invites algorithm "
            "confusion; use separate sets"
        )
    return result


def _short(text: str, limit: int = 64) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _safe_repr(value: object) -> str:
    """A short repr of a metadata value for an error message (never key material)."""
    if isinstance(value, str):
        return repr(_short(value, 32))
    return repr(value) if value is None else type(value).__name__


def select_key(
    keys: Iterable[VerificationKey],
    by_kid: Mapping[str, VerificationKey],
    kid: str | None,
    alg: str,
) -> VerificationKey | None:
    """Pick the key for ``kid`` bound to ``alg`` from an index.

    Returns ``None`` when no key has that kid (the caller decides whether to
    refetch); raises :class:`AlgorithmNotAllowed` when the key exists but is
    not bound to ``alg``, and :class:`UnknownKid` when a token without kid
    could match several keys.
    """
    if kid is not None:
        key = by_kid.get(kid)
        if key is None:
            return None
        if alg not in key.algorithms:
            raise AlgorithmNotAllowed(f"key {_short(kid)!r} may not verify {alg}")
        return key
    candidates = [k for k in keys if alg in k.algorithms]
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        return None
    raise UnknownKid("the token has no kid and several keys could verify it")


# --- the static set ------------------------------------------------------------


class StaticKeySet:
    """A fixed set of verification keys, checked when it is built.

    Build it with :meth:`from_jwks`, :meth:`from_pem` or :meth:`from_secret`,
    or combine sets with ``StaticKeySet([*a.keys, *b.keys])``. Any bad key is
    a :class:`~jwt_guard_core.errors.ConfigurationError` raised here, at
    start-up, never during a request.
    """

    def __init__(self, keys: Iterable[VerificationKey], *, setting: str = "keys") -> None:
        try:
            self._keys = build_key_index(keys)
        except KeyRejected as exc:
            raise ConfigurationError(setting, str(exc)) from None
        if not self._keys:
            raise ConfigurationError(setting, "the key set is empty; give at least one key")
        self._by_kid = {k.kid: k for k in self._keys if k.kid is not None}
        self._allows_hmac = any(k.symmetric for k in self._keys)

    # -- constructors

    @classmethod
    def from_jwks(
        cls,
        jwks: Mapping[str, Any] | str | bytes | PathLike[str],
        *,
        private_members: PrivateMembers = "refuse",
    ) -> StaticKeySet:
        """Build from a JWKS document: a dict, JSON text, or a path to a JSON file.

        A file is read only from a :class:`pathlib.Path` (any ``PathLike``):
        a ``str`` is always JSON text, so ``from_jwks(Path("jwks.json"))``
        reads the file and ``from_jwks("jwks.json")`` is refused with an
        error that says so.
        """
        doc: Any
        if isinstance(jwks, Mapping):
            doc = jwks
        else:
            if isinstance(jwks, PathLike):
                try:
                    text: str | bytes = Path(jwks).read_bytes()
                except OSError as exc:
                    raise ConfigurationError(
                        "keys", f"cannot read JWKS file {jwks}: {exc.strerror}"
                    ) from None
            else:
                text = jwks
            try:
                doc = json.loads(text)
            except (ValueError, RecursionError):
                # A str is JSON text, never a file name: guessing which one was
                # meant would let a file on disk decide how a value is read.
                # Broken JSON text is not echoed (it may hold key material).
                hint = ""
                if isinstance(jwks, str):
                    name = jwks.strip()
                    hint = " (to read a file, pass a pathlib.Path"
                    if not name.startswith(("{", "[")):
                        hint += f": from_jwks(Path({_short(name)!r}))"
                    hint += ")"
                raise ConfigurationError("keys", f"the JWKS is not valid JSON{hint}") from None
        if not isinstance(doc, Mapping) or not isinstance(doc.get("keys"), list):
            raise ConfigurationError("keys", 'a JWKS must be a JSON object with a "keys" list')
        # A duplicate kid makes the whole set ambiguous (RFC 7517 section 4.5),
        # whatever its keys hold: report it before any key is parsed.
        kids = [k.get("kid") for k in doc["keys"] if isinstance(k, Mapping)]
        for kid in {k for k in kids if isinstance(k, str) and kids.count(k) > 1}:
            raise ConfigurationError("keys", f"duplicate kid {_short(kid)!r} in the key set")
        parsed = []
        for index, jwk in enumerate(doc["keys"]):
            try:
                parsed.append(key_from_jwk(jwk, private_members=private_members))
            except KeyRejected as exc:
                label = jwk.get("kid") if isinstance(jwk, Mapping) else None
                where = f"key {_short(label)!r}" if isinstance(label, str) else f"key #{index}"
                raise ConfigurationError("keys", f"{where}: {exc}") from None
        return cls(parsed)

    @classmethod
    def from_pem(
        cls,
        pem: str | bytes | Mapping[str, str | bytes],
        *,
        kid: str | None = None,
        algorithms: Iterable[str] | None = None,
    ) -> StaticKeySet:
        """Build from one PEM public key or certificate, or a mapping of kid to PEM."""
        items: list[tuple[str | None, str | bytes]] = (
            list(pem.items()) if isinstance(pem, Mapping) else [(kid, pem)]
        )
        if isinstance(algorithms, str):
            raise ConfigurationError(
                "keys", f"algorithms must be a list such as [{algorithms!r}], not a string"
            )
        algs = tuple(algorithms) if algorithms is not None else None
        parsed = []
        for k, data in items:
            try:
                parsed.append(key_from_pem(data, kid=k, algorithms=algs))
            except KeyRejected as exc:
                where = f"key {_short(k)!r}: " if k else ""
                raise ConfigurationError("keys", f"{where}{exc}") from None
        return cls(parsed)

    @classmethod
    def from_secret(
        cls, secret: str | bytes, *, algorithm: str = "HS256", kid: str | None = None
    ) -> StaticKeySet:
        """Build from one HMAC secret bound to ``algorithm``."""
        try:
            return cls([key_from_secret(secret, algorithm=algorithm, kid=kid)])
        except KeyRejected as exc:
            raise ConfigurationError("keys", str(exc)) from None

    # -- KeySource

    @property
    def keys(self) -> tuple[VerificationKey, ...]:
        return self._keys

    @property
    def allows_hmac(self) -> bool:
        return self._allows_hmac

    @property
    def algorithms(self) -> frozenset[str]:
        """Every algorithm some key in the set may verify."""
        return frozenset().union(*(k.algorithms for k in self._keys))

    def get_key(self, kid: str | None, alg: str) -> VerificationKey:
        key = select_key(self._keys, self._by_kid, kid, alg)
        if key is None:
            raise UnknownKid()
        return key

    async def aget_key(self, kid: str | None, alg: str) -> VerificationKey:
        return self.get_key(kid, alg)

    def jwks(self) -> dict[str, Any]:
        """The public JWKS document for the asymmetric keys of this set."""
        return {"keys": [dict(k.public_jwk) for k in self._keys if k.public_jwk is not None]}

    def __repr__(self) -> str:
        kids = ", ".join(repr(k.kid) for k in self._keys)
        return f"StaticKeySet([{kids}])"
