"""JWE keys: the private keys that decrypt, and the recipients' public keys that encrypt.

A decryption key is an RSA (2048 bits or more, no ROCA fingerprint), EC
(P-256, P-384, P-521) or X25519 (OKP, RFC 8037) private key, bound to the
key-management algorithms it may serve. Keys come from a private JWKS (a dict, JSON text or a file),
PEM, or ``cryptography`` objects, and are checked once, at start-up.

A recipient key is the public half a token issuer encrypts to; it is checked
with the same hygiene rules as a verification key (``keys.py``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa, x25519

from ..encoding import DecodeError, b64url_decode, b64url_encode
from ..errors import ConfigurationError, UnknownKid
from ..keys import KeyRejected, key_from_jwk, key_from_public_key
from ._primitives import CONTENT_ENCRYPTION, KEY_MANAGEMENT, key_types

__all__ = [
    "EC_CURVES",
    "NEVER_ALLOWED",
    "DecryptionKey",
    "DecryptionKeySet",
    "RecipientKey",
    "check_algorithm_names",
]

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | x25519.X25519PrivateKey
PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey | x25519.X25519PublicKey

# Never, whatever the configuration says.
NEVER_ALLOWED: dict[str, str] = {
    "RSA1_5": (
        "RSA1_5 (PKCS #1 v1.5 key transport) is open to Bleichenbacher's padding oracle; "
        "use RSA-OAEP-256"
    ),
    "PBES2-HS256+A128KW": "PBES2 lets the sender choose the iteration count (CVE-2023-50967)",
    "PBES2-HS384+A192KW": "PBES2 lets the sender choose the iteration count (CVE-2023-50967)",
    "PBES2-HS512+A256KW": "PBES2 lets the sender choose the iteration count (CVE-2023-50967)",
}
# JWK curve name -> (curve class, coordinate size in bytes).
EC_CURVES: dict[str, tuple[type[ec.SECP256R1 | ec.SECP384R1 | ec.SECP521R1], int]] = {
    "P-256": (ec.SECP256R1, 32),
    "P-384": (ec.SECP384R1, 48),
    "P-521": (ec.SECP521R1, 66),
}
_CURVE_NAME = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}
_RSA_PRIVATE = ("d", "p", "q", "dp", "dq", "qi")
_ENCRYPTION_OPS = frozenset(
    {"encrypt", "decrypt", "wrapKey", "unwrapKey", "deriveKey", "deriveBits"}
)


def check_algorithm_names(
    setting: str, value: object, known: Mapping[str, object]
) -> frozenset[str]:
    """Validate an ``alg`` or ``enc`` allowlist: a non-empty list of supported names."""
    if value is None or isinstance(value, (str, bytes, Mapping)):
        raise ConfigurationError(
            setting, f"{value!r} is not accepted; give a list, e.g. [{next(iter(known))!r}]"
        )
    try:
        names: tuple[object, ...] = tuple(value)  # type: ignore[arg-type]
    except TypeError:
        raise ConfigurationError(setting, f"{value!r} is not a list of algorithm names") from None
    if not names:
        raise ConfigurationError(setting, "the allowlist is empty; give at least one algorithm")
    for name in names:
        if isinstance(name, str) and name in NEVER_ALLOWED:
            raise ConfigurationError(setting, f"{name} can never be allowed: {NEVER_ALLOWED[name]}")
        if not isinstance(name, str) or name not in known:
            raise ConfigurationError(
                setting, f"{name!r} is not supported; accepted: {', '.join(known)}"
            )
    return frozenset(str(name) for name in names)


def _member(jwk: Mapping[str, Any], name: str) -> bytes:
    value = jwk.get(name)
    if not isinstance(value, str) or not value:
        raise KeyRejected(f"member {name!r} is missing or not a string")
    try:
        return b64url_decode(value)
    except DecodeError as exc:
        raise KeyRejected(f"member {name!r} is not base64url") from exc


def _int(jwk: Mapping[str, Any], name: str) -> int:
    return int.from_bytes(_member(jwk, name), "big")


def _algorithms_for_key(kty: str, declared: object) -> frozenset[str]:
    possible = {name for name in KEY_MANAGEMENT if kty in key_types(name)}
    if declared is None:
        return frozenset(possible)
    if not isinstance(declared, str):
        raise KeyRejected("alg must be a string")
    if declared in NEVER_ALLOWED:
        raise KeyRejected(f"alg {declared} is never accepted: {NEVER_ALLOWED[declared]}")
    if declared not in possible:
        raise KeyRejected(
            f"alg {declared[:32]!r} is not a key-management algorithm jwt-guard supports for "
            f"{kty} keys ({', '.join(sorted(possible))})"
        )
    return frozenset({declared})


def _check_use(jwk: Mapping[str, Any]) -> None:
    use = jwk.get("use")
    if use is not None and use != "enc":
        raise KeyRejected(f"use is {use!r}; only 'enc' keys may encrypt or decrypt")
    ops = jwk.get("key_ops")
    if ops is not None and (
        not isinstance(ops, list)
        or not ops
        or not all(isinstance(op, str) and op in _ENCRYPTION_OPS for op in ops)
    ):
        raise KeyRejected("key_ops must list encryption operations only")


def _x25519_public(raw: bytes) -> x25519.X25519PublicKey:
    """An X25519 public key that is not of small order (RFC 7748 section 6.1).

    A small-order point makes every shared secret all zeros; ``cryptography``
    refuses such an exchange, so one trial exchange finds it.
    """
    if len(raw) != 32:
        raise KeyRejected("an X25519 key is 32 bytes")
    public = x25519.X25519PublicKey.from_public_bytes(raw)
    try:
        x25519.X25519PrivateKey.generate().exchange(public)
    except ValueError:
        raise KeyRejected("the X25519 public key is of small order") from None
    return public


def _okp_jwk(public: x25519.X25519PublicKey) -> dict[str, Any]:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"kty": "OKP", "crv": "X25519", "x": b64url_encode(raw)}


def _public_jwk(public: PublicKey, kid: str | None, algorithms: frozenset[str]) -> dict[str, Any]:
    if isinstance(public, x25519.X25519PublicKey):
        jwk = _okp_jwk(public)
    else:
        try:
            checked = key_from_public_key(public)
        except KeyRejected as exc:
            raise KeyRejected(f"the public key fails the hygiene checks: {exc}") from None
        assert checked.public_jwk is not None
        jwk = {k: v for k, v in checked.public_jwk.items() if k not in ("use", "alg", "kid")}
    if kid is not None:
        jwk["kid"] = kid
    if len(algorithms) == 1:
        jwk["alg"] = next(iter(algorithms))
    jwk["use"] = "enc"
    return jwk


@dataclass(frozen=True, eq=False)
class DecryptionKey:
    """A private key bound to the key-management algorithms it may decrypt with."""

    kid: str | None
    kty: str
    algorithms: frozenset[str]
    key: PrivateKey = field(repr=False)
    crv: str | None = None
    public_jwk: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_key(
        cls, key: object, *, kid: str | None = None, algorithms: Iterable[str] | None = None
    ) -> DecryptionKey:
        """Wrap a ``cryptography`` RSA, EC or X25519 private key. Raises :class:`KeyRejected`."""
        if isinstance(key, rsa.RSAPrivateKey):
            kty, crv = "RSA", None
        elif isinstance(key, ec.EllipticCurvePrivateKey):
            kty, crv = "EC", _CURVE_NAME.get(key.curve.name)
            if crv is None:
                raise KeyRejected(f"EC curve {key.curve.name} is not one of P-256, P-384, P-521")
        elif isinstance(key, x25519.X25519PrivateKey):
            kty, crv = "OKP", "X25519"
        else:
            raise KeyRejected(
                f"{type(key).__name__} is not an RSA, EC or X25519 private key; JWE decryption "
                "needs one"
            )
        possible = _algorithms_for_key(kty, None)
        if algorithms is None:
            algs = possible
        else:
            algs = frozenset(algorithms)
            for alg in algs:
                _algorithms_for_key(kty, alg)
            if not algs:
                raise KeyRejected("algorithms is empty")
        public = _public_jwk(key.public_key(), kid, algs)
        return cls(kid=kid, kty=kty, algorithms=algs, key=key, crv=crv, public_jwk=public)

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any]) -> DecryptionKey:
        """Parse a private JWK (RFC 7517/7518). Raises :class:`KeyRejected`."""
        if not isinstance(jwk, Mapping):
            raise KeyRejected("a JWK must be a JSON object")
        kty = jwk.get("kty")
        kid = jwk.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise KeyRejected("kid must be a string")
        _check_use(jwk)
        if kty not in ("RSA", "EC", "OKP"):
            raise KeyRejected(
                f"kty {str(kty)[:16]!r} cannot decrypt; JWE decryption keys are RSA, EC or "
                "X25519 private keys"
            )
        if kty == "OKP" and jwk.get("crv") != "X25519":
            # Ed25519 (and Ed448) keys sign; X448 is not supported.
            raise KeyRejected("an OKP decryption key must have crv X25519")
        algs = _algorithms_for_key(kty, jwk.get("alg"))
        key: PrivateKey
        try:
            if kty == "RSA":
                if "d" not in jwk:
                    raise KeyRejected("the JWK has no private exponent d; decryption needs it")
                public_numbers = rsa.RSAPublicNumbers(_int(jwk, "e"), _int(jwk, "n"))
                d = _int(jwk, "d")
                if all(m in jwk for m in _RSA_PRIVATE[1:]):
                    p, q = _int(jwk, "p"), _int(jwk, "q")
                    dp, dq, qi = _int(jwk, "dp"), _int(jwk, "dq"), _int(jwk, "qi")
                else:
                    p, q = rsa.rsa_recover_prime_factors(public_numbers.n, public_numbers.e, d)
                    dp, dq, qi = (
                        rsa.rsa_crt_dmp1(d, p),
                        rsa.rsa_crt_dmq1(d, q),
                        rsa.rsa_crt_iqmp(p, q),
                    )
                key = rsa.RSAPrivateNumbers(p, q, d, dp, dq, qi, public_numbers).private_key()
            elif kty == "OKP":
                if "d" not in jwk:
                    raise KeyRejected("the JWK has no private key d; decryption needs it")
                scalar = _member(jwk, "d")
                if len(scalar) != 32:
                    raise KeyRejected("an X25519 private key is 32 bytes")
                key = x25519.X25519PrivateKey.from_private_bytes(scalar)
                if "x" in jwk and _okp_jwk(key.public_key())["x"] != jwk["x"]:
                    raise KeyRejected("x is not the public key of d")
            else:
                crv = jwk.get("crv")
                if not isinstance(crv, str) or crv not in EC_CURVES:
                    raise KeyRejected("EC curve must be one of P-256, P-384, P-521")
                if "d" not in jwk:
                    raise KeyRejected("the JWK has no private scalar d; decryption needs it")
                curve = EC_CURVES[crv][0]()
                public_ec = ec.EllipticCurvePublicNumbers(_int(jwk, "x"), _int(jwk, "y"), curve)
                key = ec.EllipticCurvePrivateNumbers(_int(jwk, "d"), public_ec).private_key()
        except KeyRejected:
            raise
        except (ValueError, TypeError, UnsupportedAlgorithm):
            raise KeyRejected(f"the {kty} private key is invalid") from None
        return cls.from_key(key, kid=kid, algorithms=algs)


class DecryptionKeySet:
    """The private keys a verifier decrypts nested JWE with, checked when built.

    Publish :meth:`jwks` (public halves, ``use: enc``) to whoever issues
    tokens for this API, so they can encrypt to it.
    """

    #: Whether a lookup does I/O (a key store): async verification then runs it in a thread.
    blocking = False

    def __init__(self, keys: Iterable[DecryptionKey], *, setting: str = "jwe.keys") -> None:
        self._keys = tuple(keys)
        if not self._keys:
            raise ConfigurationError(setting, "the decryption key set is empty")
        kids = [k.kid for k in self._keys if k.kid is not None]
        if len(kids) != len(set(kids)):
            raise ConfigurationError(setting, "duplicate kid in the decryption key set")
        if not all(isinstance(k, DecryptionKey) for k in self._keys):
            raise ConfigurationError(setting, "every key must be a DecryptionKey")
        self._by_kid = {k.kid: k for k in self._keys if k.kid is not None}

    @classmethod
    def from_jwks(cls, jwks: Mapping[str, Any] | str | bytes | PathLike[str]) -> DecryptionKeySet:
        """Build from a private JWKS: a dict, JSON text, or a path to a JSON file."""
        doc: Any = jwks
        if isinstance(jwks, PathLike):
            try:
                doc = Path(jwks).read_bytes()
            except OSError as exc:
                raise ConfigurationError(
                    "jwe.keys", f"cannot read {jwks}: {exc.strerror}"
                ) from None
        if isinstance(doc, (str, bytes)):
            try:
                doc = json.loads(doc)
            except (ValueError, RecursionError):
                raise ConfigurationError("jwe.keys", "the JWKS is not valid JSON") from None
        if not isinstance(doc, Mapping) or not isinstance(doc.get("keys"), list):
            raise ConfigurationError("jwe.keys", 'a JWKS must be a JSON object with a "keys" list')
        parsed = []
        for index, jwk in enumerate(doc["keys"]):
            try:
                parsed.append(DecryptionKey.from_jwk(jwk))
            except KeyRejected as exc:
                raise ConfigurationError("jwe.keys", f"key #{index}: {exc}") from None
        return cls(parsed)

    @classmethod
    def from_pem(
        cls,
        pem: str | bytes,
        *,
        kid: str | None = None,
        algorithms: Iterable[str] | None = None,
        password: bytes | None = None,
    ) -> DecryptionKeySet:
        """Build from one PEM private key (PKCS#8 or PKCS#1/SEC1)."""
        data = pem.encode("ascii", "replace") if isinstance(pem, str) else bytes(pem)
        try:
            key = serialization.load_pem_private_key(data, password=password)
            return cls([DecryptionKey.from_key(key, kid=kid, algorithms=algorithms)])
        except KeyRejected as exc:
            raise ConfigurationError("jwe.keys", str(exc)) from None
        except (ValueError, TypeError, UnsupportedAlgorithm):
            raise ConfigurationError("jwe.keys", "the PEM data is not a private key") from None

    @property
    def keys(self) -> tuple[DecryptionKey, ...]:
        return self._keys

    def key_algorithms(self) -> frozenset[str]:
        """The key-management algorithms some key of the set serves (checked at start-up)."""
        return frozenset().union(*(k.algorithms for k in self._keys))

    def get(self, kid: str | None, alg: str) -> DecryptionKey:
        """The key for ``kid`` bound to ``alg``; without kid, the only key bound to ``alg``."""
        if kid is not None:
            key = self._by_kid.get(kid)
            if key is None or alg not in key.algorithms:
                raise UnknownKid("no decryption key matches the JWE's kid and alg")
            return key
        candidates = [k for k in self._keys if alg in k.algorithms]
        if len(candidates) != 1:
            raise UnknownKid("the JWE has no kid and not exactly one key can decrypt it")
        return candidates[0]

    def jwks(self) -> dict[str, Any]:
        """The public JWKS (``use: enc``) a token issuer needs to encrypt to this API."""
        return {"keys": [dict(k.public_jwk) for k in self._keys]}

    def __repr__(self) -> str:
        return f"DecryptionKeySet([{', '.join(repr(k.kid) for k in self._keys)}])"


@dataclass(frozen=True)
class RecipientKey:
    """A recipient's public key and the ``alg``/``enc`` to encrypt to it with (no defaults).

    Build with :meth:`from_jwk`; the key is checked like a verification key
    (RSA 2048 bits or more, an EC point on its curve) and private members are
    refused: an issuer needs only the public key.
    """

    key: PublicKey = field(repr=False)
    alg: str
    enc: str
    kid: str | None = None

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any], *, alg: str, enc: str) -> RecipientKey:
        if not isinstance(jwk, Mapping):
            raise ConfigurationError("recipient", "the recipient key must be a JWK object")
        alg_ok = check_algorithm_names("alg", [alg], KEY_MANAGEMENT)
        check_algorithm_names("enc", [enc], CONTENT_ENCRYPTION)
        try:
            _check_use(jwk)
            declared = jwk.get("alg")
            if declared is not None and declared not in alg_ok:
                raise KeyRejected(f"the JWK is for {str(declared)[:32]!r}, not {alg}")
            if jwk.get("kty") not in key_types(alg):
                raise KeyRejected(f"{alg} needs a {' or '.join(key_types(alg))} key")
            key: PublicKey
            if jwk.get("kty") == "OKP":
                if jwk.get("crv") != "X25519" or "d" in jwk:
                    raise KeyRejected("an OKP recipient key is a public X25519 key (crv, x)")
                key = _x25519_public(_member(jwk, "x"))
            else:
                # The verification-key parser checks the public part and refuses
                # private members; use/alg/key_ops are ours to check, not its.
                public = {k: v for k, v in jwk.items() if k not in ("use", "alg", "key_ops")}
                parsed = key_from_jwk(public, allow_hmac=False)
                assert isinstance(parsed.key, (rsa.RSAPublicKey, ec.EllipticCurvePublicKey))
                key = parsed.key
        except KeyRejected as exc:
            raise ConfigurationError("recipient", str(exc)) from None
        kid = jwk.get("kid")
        return cls(key=key, alg=alg, enc=enc, kid=kid if isinstance(kid, str) else None)
