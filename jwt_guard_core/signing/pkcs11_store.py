"""Signing keys that never leave a hardware security module: a PKCS#11 key store.

Keys are generated on the token (``CKA_SENSITIVE``, not
``CKA_EXTRACTABLE``), signing happens on the token, and the public JWK is
read from the token's public key object. Nothing in this process ever holds
a private key: the store hands the key manager :class:`Pkcs11Signer`
objects, which carry an object handle and a kid.

Where the ring lives (all on the token, so the token is the one source of
truth and every process that can log in sees the same ring):

* each key pair: ``CKA_LABEL`` = the kid (its RFC 7638 thumbprint),
  ``CKA_ID`` = ``<prefix>/key/<kid>``;
* the ring metadata (kids, states, times, emergency epoch, revision; no
  secret): one private ``CKO_DATA`` object labelled
  ``<prefix>/ring/<revision>``, application ``jwt-guard``, holding the
  same JSON document the file store writes to ``keyring.json``.

Several processes on one host rotate one at a time under an ``flock``
(``lock_file``), and every save is a compare-and-set on the ring's
revision, re-read from the token under that lock. Keys the saved ring no
longer references (retired past their retention, replaced in an emergency,
or created by a rotation that failed before its save) are destroyed on the
token by the next save.

Requires the ``hsm`` extra (python-pkcs11).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets
import tempfile
import threading
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar, cast

import pkcs11
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from pkcs11 import MGF, Attribute, KeyType, Mechanism, ObjectClass
from pkcs11.exceptions import (
    ObjectHandleInvalid,
    PinExpired,
    PinIncorrect,
    PinInvalid,
    PinLenRange,
    PinLocked,
    PKCS11Error,
    UserAlreadyLoggedIn,
)
from pkcs11.types import SignMixin

from ..errors import ConfigurationError
from ._crypto import ASYMMETRIC_SIGNING_ALGORITHMS, jwk_for_public_key, thumbprint_kid
from .errors import KeyStoreError
from .pkcs11_settings import (
    _check_options,
    _module_path,
    _read_pin,
    check_pkcs11_settings,
    refuse_literal_pin,
)

if TYPE_CHECKING:
    from pkcs11._pkcs11 import lib as Pkcs11Lib

from .keystore import (
    FileLock,
    KeyRing,
    StoredKey,
    build_ring,
    check_ring,
    parse_key_metadata,
    parse_ring_document,
    ring_document,
)

__all__ = [
    "PKCS11_ALGORITHMS",
    "Pkcs11KeyStore",
    "Pkcs11Signer",
    "check_pkcs11_settings",
    "refuse_literal_pin",
]


_T = TypeVar("_T")

RSA_BITS = 3072
_APPLICATION = "jwt-guard"
# CKA_EC_PARAMS: the DER-encoded OIDs of the named curves (RFC 5480) and of
# Ed25519 (RFC 8410).
_P256 = bytes.fromhex("06082a8648ce3d030107")
_P384 = bytes.fromhex("06052b81040022")
_P521 = bytes.fromhex("06052b81040023")
_ED25519 = bytes.fromhex("06032b6570")


@dataclass(frozen=True)
class _Algorithm:
    key_type: KeyType
    generate: Mechanism
    sign: Mechanism
    params: bytes | None = None  # CKA_EC_PARAMS
    curve: ec.EllipticCurve | None = None
    digest: str | None = None  # hashlib name, for tokens with bare CKM_ECDSA only
    prehashed: Mechanism | None = None  # CKM_ECDSA: sign a digest made here
    mechanism_param: tuple[Mechanism, MGF, int] | None = None


_ALGORITHMS: Mapping[str, _Algorithm] = {
    "ES256": _Algorithm(
        KeyType.EC, Mechanism.EC_KEY_PAIR_GEN, Mechanism.ECDSA_SHA256, _P256,
        ec.SECP256R1(), "sha256", Mechanism.ECDSA,
    ),
    "ES384": _Algorithm(
        KeyType.EC, Mechanism.EC_KEY_PAIR_GEN, Mechanism.ECDSA_SHA384, _P384,
        ec.SECP384R1(), "sha384", Mechanism.ECDSA,
    ),
    "ES512": _Algorithm(
        KeyType.EC, Mechanism.EC_KEY_PAIR_GEN, Mechanism.ECDSA_SHA512, _P521,
        ec.SECP521R1(), "sha512", Mechanism.ECDSA,
    ),
    "RS256": _Algorithm(KeyType.RSA, Mechanism.RSA_PKCS_KEY_PAIR_GEN, Mechanism.SHA256_RSA_PKCS),
    # RFC 7518 section 3.5: MGF1 with the same hash, salt as long as the hash.
    "PS256": _Algorithm(
        KeyType.RSA, Mechanism.RSA_PKCS_KEY_PAIR_GEN, Mechanism.SHA256_RSA_PKCS_PSS,
        mechanism_param=(Mechanism.SHA256, MGF.SHA256, 32),
    ),
    "EdDSA": _Algorithm(
        KeyType.EC_EDWARDS, Mechanism.EC_EDWARDS_KEY_PAIR_GEN, Mechanism.EDDSA, _ED25519
    ),
}  # fmt: skip
#: The algorithms a PKCS#11 token can hold keys for (EdDSA only where the token has CKM_EDDSA).
PKCS11_ALGORITHMS = frozenset(_ALGORITHMS)
assert PKCS11_ALGORITHMS <= ASYMMETRIC_SIGNING_ALGORITHMS


# --- one logged-in session per token and process ---------------------------------------

_libraries: dict[str, tuple[int, Pkcs11Lib]] = {}
_connections: dict[tuple[str, int], _Connection] = {}
_registry_lock = threading.Lock()


def _library(module: str | os.PathLike[str]) -> tuple[str, Pkcs11Lib, bool]:
    """The module's real path, the loaded module, and whether this call initialised it."""
    path = _module_path(module)
    real = os.path.realpath(path)
    cached = _libraries.get(real)
    if cached is not None and cached[0] == os.getpid():
        return real, cached[1], False
    try:
        lib = pkcs11.lib(real)
        if cached is not None:
            # A forked child inherits the parent's initialised module and
            # sessions, which PKCS#11 says it must not use: start it anew.
            _connections.clear()
            lib.reinitialize()
    except PKCS11Error as exc:
        raise ConfigurationError(
            "pkcs11_module", f"{path} cannot be loaded as a PKCS#11 module ({exc})"
        ) from None
    _libraries[real] = (os.getpid(), lib)
    return real, lib, True


class _Connection:
    """The process's logged-in session on one token, shared by the stores using it.

    PKCS#11 login state belongs to the application, not to a session: a
    second ``C_Login`` fails with ``CKR_USER_ALREADY_LOGGED_IN``. Stores on
    the same token therefore share this session; a store that brings a
    different PIN is refused instead of silently riding on the first login.
    """

    def __init__(self, token: pkcs11.Token, session: pkcs11.Session, pin: str) -> None:
        self.token = token
        self.session = session
        self.mechanisms = frozenset(token.slot.get_mechanisms())
        self.lock = threading.RLock()
        self.users = 0
        # Keyed with a random per-connection secret: the PIN itself is not
        # kept, and a memory dump does not give a digest to brute-force offline.
        self._salt = secrets.token_bytes(32)
        self._pin_digest = self._digest(pin)

    def _digest(self, pin: str) -> bytes:
        return hmac.new(self._salt, pin.encode("utf-8"), "sha256").digest()

    def same_pin(self, pin: str) -> bool:
        return hmac.compare_digest(self._pin_digest, self._digest(pin))


def _list_tokens(lib: Pkcs11Lib) -> list[tuple[pkcs11.Slot, pkcs11.Token]]:
    try:
        return [(s, s.get_token()) for s in lib.get_slots(token_present=True)]
    except PKCS11Error as exc:
        raise KeyStoreError(f"the PKCS#11 module cannot list its tokens ({exc})") from None


def _pick_token(
    tokens: list[tuple[pkcs11.Slot, pkcs11.Token]], token_label: str | None, slot: int | None
) -> pkcs11.Token | None:
    if token_label is not None:
        found = [t for _, t in tokens if t.label == token_label]
        if len(found) > 1:
            raise ConfigurationError(
                "pkcs11_token_label", f"more than one token is labelled {token_label!r}"
            )
        return found[0] if found else None
    return next((t for s, t in tokens if s.slot_id == slot), None)


def _find_token(
    lib: Pkcs11Lib, module: str, token_label: str | None, slot: int | None, *, fresh: bool
) -> pkcs11.Token:
    for _ in range(3):
        tokens = _list_tokens(lib)
        token = _pick_token(tokens, token_label, slot)
        if token is not None or not fresh:
            return token if token is not None else _no_token(tokens, module, token_label, slot)
        with _registry_lock:
            if any(key[0] == module for key in _connections):
                break
            # SoftHSM2's file backend rewrites a token's file on every login:
            # a process that initialises the module at that instant does not
            # see the token. Only the store that just initialised the module
            # (nothing else in the process uses it yet) starts it again.
            try:
                lib.reinitialize()
            except PKCS11Error:
                break
    return _no_token(tokens, module, token_label, slot)


def _no_token(
    tokens: list[tuple[pkcs11.Slot, pkcs11.Token]],
    module: str,
    token_label: str | None,
    slot: int | None,
) -> NoReturn:
    present = ", ".join(repr(t.label) for _, t in tokens if t.label) or "none"
    if token_label is not None:
        raise ConfigurationError(
            "pkcs11_token_label",
            f"no token labelled {token_label!r} in {module} (initialised tokens: {present})",
        )
    raise ConfigurationError(
        "pkcs11_slot", f"no token in slot {slot} of {module} (initialised tokens: {present})"
    )


def _connect(
    lib: Pkcs11Lib, module: str, token: pkcs11.Token, pin: str, pin_setting: str
) -> _Connection:
    key = (module, token.slot.slot_id)
    with _registry_lock:
        conn = _connections.get(key)
        if conn is not None:
            if not conn.same_pin(pin):
                raise ConfigurationError(
                    pin_setting,
                    f"this process is logged in to token {token.label!r} with another PIN; "
                    "the PIN given here is not the token's",
                )
            conn.users += 1
            return conn
        try:
            session = token.open(rw=True, user_pin=pin)
        except (PinIncorrect, PinInvalid, PinLenRange, PinExpired):
            raise ConfigurationError(
                pin_setting, f"the token {token.label!r} refused the PIN (wrong PIN)"
            ) from None
        except PinLocked:
            raise ConfigurationError(
                pin_setting,
                f"the token {token.label!r} has locked its user PIN after failed logins; "
                "the security officer must unlock it",
            ) from None
        except UserAlreadyLoggedIn:
            raise ConfigurationError(
                pin_setting,
                f"something else in this process is already logged in to token "
                f"{token.label!r}; let jwt-guard own the login",
            ) from None
        except PKCS11Error as exc:
            raise KeyStoreError(
                f"cannot open a session on token {token.label!r} ({type(exc).__name__})"
            ) from None
        conn = _Connection(token, session, pin)
        conn.users = 1
        _connections[key] = conn
        return conn


def _release(module: str, conn: _Connection) -> None:
    with _registry_lock:
        conn.users -= 1
        if conn.users > 0:
            return
        _connections.pop((module, conn.token.slot.slot_id), None)
        with contextlib.suppress(PKCS11Error):
            conn.session.close()


# --- public keys read from the token ----------------------------------------------------


def _octet_string(der: bytes) -> bytes:
    """The content of a DER OCTET STRING (how PKCS#11 wraps ``CKA_EC_POINT``)."""
    if len(der) < 2 or der[0] != 0x04:
        raise KeyStoreError("the token returned a public point that is not an OCTET STRING")
    length, start = der[1], 2
    if length & 0x80:
        count = length & 0x7F
        length, start = int.from_bytes(der[2 : 2 + count], "big"), 2 + count
    if start + length != len(der):
        raise KeyStoreError("the token returned a malformed public point")
    return der[start:]


def _public_jwk(public: pkcs11.Object, algorithm: str) -> dict[str, Any]:
    spec = _ALGORITHMS[algorithm]
    key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey
    try:
        if spec.key_type is KeyType.RSA:
            n = int.from_bytes(public[Attribute.MODULUS], "big")
            e = int.from_bytes(public[Attribute.PUBLIC_EXPONENT], "big")
            key = rsa.RSAPublicNumbers(e, n).public_key()
        elif spec.curve is not None:
            point = _octet_string(public[Attribute.EC_POINT])
            key = ec.EllipticCurvePublicKey.from_encoded_point(spec.curve, point)
        else:
            key = ed25519.Ed25519PublicKey.from_public_bytes(
                _octet_string(public[Attribute.EC_POINT])
            )
    except (PKCS11Error, ValueError) as exc:
        raise KeyStoreError(f"cannot read a public key from the token ({exc})") from None
    return jwk_for_public_key(key, algorithm)


# --- the signer --------------------------------------------------------------------------


class Pkcs11Signer:
    """A :class:`~jwt_guard_core.signing.Signer` whose private key is an object on the token.

    Holds the object handle, never the key: signing is ``C_Sign`` on the
    token. ECDSA returns the raw ``r || s`` that JWS wants (RFC 7518
    section 3.4); where the token offers only bare ``CKM_ECDSA`` the
    message is hashed here and the digest signed on the token.
    """

    __slots__ = ("_algorithm", "_conn", "_jwk", "_key", "_kid", "_spec")

    def __init__(
        self,
        conn: _Connection,
        kid: str,
        algorithm: str,
        private: pkcs11.PrivateKey,
        jwk: Mapping[str, Any],
    ) -> None:
        self._conn = conn
        self._kid = kid
        self._algorithm = algorithm
        # Every private key object of a signing mechanism signs (SignMixin).
        self._key = cast(SignMixin, private)
        self._spec = _ALGORITHMS[algorithm]
        self._jwk = {**jwk, "kid": kid}

    @property
    def kid(self) -> str:
        return self._kid

    @property
    def algorithm(self) -> str:
        return self._algorithm

    def public_jwk(self) -> dict[str, Any]:
        return dict(self._jwk)

    def sign(self, signing_input: bytes) -> bytes:
        spec = self._spec
        data, mechanism = signing_input, spec.sign
        if spec.sign not in self._conn.mechanisms and spec.prehashed is not None:
            assert spec.digest is not None
            data, mechanism = hashlib.new(spec.digest, signing_input).digest(), spec.prehashed
        try:
            with self._conn.lock:
                signature = self._key.sign(
                    data, mechanism=mechanism, mechanism_param=spec.mechanism_param
                )
        except PKCS11Error as exc:
            raise KeyStoreError(
                f"the token could not sign with key {self._kid} ({type(exc).__name__})"
            ) from None
        if spec.curve is not None and len(signature) != 2 * ((spec.curve.key_size + 7) // 8):
            raise KeyStoreError(f"the token returned a malformed {self._algorithm} signature")
        return bytes(signature)

    def __repr__(self) -> str:
        return f"<Pkcs11Signer {self._algorithm} kid={self._kid}>"

    def __reduce__(self) -> Any:
        raise TypeError("a PKCS#11 signer is bound to this process's session")


# --- the store ---------------------------------------------------------------------------


class Pkcs11KeyStore:
    """A :class:`~jwt_guard_core.signing.KeyStore` whose keys live on a PKCS#11 token.

    Args:
        module: absolute path of the vendor's PKCS#11 module
            (``/usr/lib/softhsm/libsofthsm2.so`` for SoftHSM2).
        token_label / slot: which token (exactly one of the two).
        pin_env / pin_file: where the user PIN is read from: the name of an
            environment variable, or a file only its owner can read
            (exactly one). There is no way to pass the PIN itself.
        prefix: namespaces this ring on the token (``<prefix>/ring/<revision>``,
            ``<prefix>/key/<kid>``), so several rings can share a token.
        lock_file: the ``flock`` file that makes processes on this host
            rotate one at a time; by default a per-user file in the system
            temporary directory named after the token and prefix.

    Opening logs in: a missing module or token, a wrong or locked PIN is a
    :class:`~jwt_guard_core.ConfigurationError` naming the setting
    (``pkcs11_module``, ``pkcs11_token_label``, ``pkcs11_slot``,
    ``pkcs11_pin_env``, ``pkcs11_pin_file``) at start-up. Later token
    failures are :class:`~jwt_guard_core.signing.KeyStoreError`. Call
    :meth:`close` to log out (stores on one token share the session).
    """

    def __init__(
        self,
        module: str | os.PathLike[str],
        *,
        token_label: str | None = None,
        slot: int | None = None,
        pin_env: str | None = None,
        pin_file: str | os.PathLike[str] | None = None,
        prefix: str = "jwt-guard",
        lock_file: str | os.PathLike[str] | None = None,
    ) -> None:
        _check_options(token_label, slot, prefix, lock_file)
        pin_setting = "pkcs11_pin_env" if pin_env is not None else "pkcs11_pin_file"
        pin = _read_pin(pin_env, pin_file)
        with _registry_lock:
            self._module, lib, fresh = _library(module)
        token = _find_token(lib, self._module, token_label, slot, fresh=fresh)
        self._conn = _connect(lib, self._module, token, pin, pin_setting)
        self._closed = False
        self._prefix = prefix
        self._label = token.label
        if lock_file is None:
            digest = hashlib.sha256(
                f"{self._module}\0{token.serial.hex()}\0{prefix}".encode()
            ).hexdigest()[:16]
            lock_file = (
                Path(tempfile.gettempdir()) / f"jwt-guard-pkcs11-{os.getuid()}-{digest}.lock"
            )
        self._lock = FileLock(Path(lock_file))
        self._signers: dict[str, Pkcs11Signer] = {}
        try:
            # Fail at start-up, not at the first token: the ring must be readable.
            self.revision()
        except BaseException:
            self.close()
            raise

    def __repr__(self) -> str:
        return f"Pkcs11KeyStore(token={self._label!r}, prefix={self._prefix!r})"

    @property
    def token_label(self) -> str:
        return self._label

    def close(self) -> None:
        """Release this store's share of the token session (the last one logs out)."""
        if not self._closed:
            self._closed = True
            _release(self._module, self._conn)

    def supports(self, algorithm: str) -> bool:
        """Whether this token can generate and sign with keys for ``algorithm``."""
        spec = _ALGORITHMS.get(algorithm)
        if spec is None:
            return False
        have = self._conn.mechanisms
        signs = spec.sign in have or (spec.prehashed is not None and spec.prehashed in have)
        return spec.generate in have and signs

    def check_algorithm(self, algorithm: str) -> None:
        """Raise :class:`~jwt_guard_core.ConfigurationError` unless the token supports it."""
        if not self.supports(algorithm):
            offered = ", ".join(sorted(a for a in _ALGORITHMS if self.supports(a)))
            raise ConfigurationError(
                "algorithm",
                f"token {self._label!r} cannot hold {algorithm} signing keys; it offers {offered}",
            )

    # -- token helpers

    def _call(self, what: str, action: Callable[[], _T]) -> _T:
        if self._closed:
            raise KeyStoreError("the PKCS#11 key store was closed")
        try:
            with self._conn.lock:
                return action()
        except PKCS11Error as exc:
            raise KeyStoreError(
                f"token {self._label!r} failed to {what} ({type(exc).__name__})"
            ) from None

    def _key_id(self, kid: str) -> bytes:
        return f"{self._prefix}/key/{kid}".encode()

    def _find(self, template: dict[Attribute, Any]) -> list[pkcs11.Object]:
        """The objects matching ``template``, searched again if one vanishes mid-search.

        The binding reads each found object's class while iterating; an
        object another process destroys in between fails that read.
        """
        for _ in range(2):
            try:
                return list(self._conn.session.get_objects(template))
            except ObjectHandleInvalid:
                continue
        return list(self._conn.session.get_objects(template))

    def _ring_objects(self) -> list[tuple[int, pkcs11.Object]]:
        """This prefix's ring objects with the revision each holds, newest first.

        A data object's value cannot be changed on every token (SoftHSM
        refuses), so a save creates the next revision and then destroys the
        older ones: a reader in between sees two and takes the newest. An
        object destroyed by that save after our search found it is skipped.
        """
        found = self._find({Attribute.CLASS: ObjectClass.DATA, Attribute.APPLICATION: _APPLICATION})
        stem = f"{self._prefix}/ring/"
        rings = []
        for obj in found:
            try:
                label = obj[Attribute.LABEL]
            except ObjectHandleInvalid:
                continue
            if not isinstance(label, str) or not label.startswith(stem):
                continue
            number = label[len(stem) :]
            if not number.isdigit() or len(number) > 18:
                raise KeyStoreError(f"the key ring on token {self._label!r} has a corrupt revision")
            rings.append((int(number), obj))
        return sorted(rings, key=lambda item: -item[0])

    # -- KeyStore

    def revision(self) -> int:
        rings = self._call("read the key ring", self._ring_objects)
        return rings[0][0] if rings else 0

    def load(self) -> KeyRing:
        # Another process saving at the same moment destroys the ring object
        # (and the keys it drops) between our find and our read: a read that
        # fails while the revision moved is read again.
        for _ in range(2):
            seen = self.revision()
            try:
                return self._load_once()
            except KeyStoreError:
                if self.revision() == seen:
                    raise
        return self._load_once()

    def _load_once(self) -> KeyRing:
        def read() -> tuple[int, bytes] | None:
            for _ in range(3):
                rings = self._ring_objects()
                if not rings:
                    return None
                try:
                    return rings[0][0], bytes(rings[0][1][Attribute.VALUE])
                except ObjectHandleInvalid:
                    continue  # replaced by a newer revision since the search
            return None if not rings else (rings[0][0], bytes(rings[0][1][Attribute.VALUE]))

        found = self._call("read the key ring", read)
        if found is None:
            return KeyRing()
        try:
            doc = json.loads(found[1])
        except ValueError:
            raise KeyStoreError(f"the key ring on token {self._label!r} is not JSON") from None
        header = parse_ring_document(doc)
        if header.revision != found[0]:
            raise KeyStoreError(f"the key ring on token {self._label!r} has a corrupt revision")
        keys = []
        for entry in header.entries:
            info = parse_key_metadata(entry)
            keys.append(StoredKey(info=info, external=self._signer(info.kid, info.algorithm)))
        return build_ring(header, keys)

    def lock(self, *, blocking: bool = True) -> AbstractContextManager[bool]:
        """The rotation lock: an ``flock`` shared by every process on this host."""
        return self._lock.hold(blocking=blocking)

    def _signer(self, kid: str, algorithm: str) -> Pkcs11Signer:
        cached = self._signers.get(kid)
        if cached is not None and cached.algorithm == algorithm:
            return cached
        if algorithm not in _ALGORITHMS:
            raise KeyStoreError(f"key {kid} has an algorithm a PKCS#11 token cannot hold")
        signer = self._call("find a signing key", lambda: self._open_key(kid, algorithm))
        self._signers[kid] = signer
        return signer

    def _open_key(self, kid: str, algorithm: str) -> Pkcs11Signer:
        key_id = self._key_id(kid)
        privates = self._find({Attribute.CLASS: ObjectClass.PRIVATE_KEY, Attribute.ID: key_id})
        publics = self._find({Attribute.CLASS: ObjectClass.PUBLIC_KEY, Attribute.ID: key_id})
        if len(privates) != 1 or len(publics) != 1:
            raise KeyStoreError(f"the key pair for kid {kid} is missing from token {self._label!r}")
        private = privates[0]
        # Generated on the token and never readable: a key imported from
        # outside (ALWAYS_SENSITIVE false) or exportable is refused.
        guards = (Attribute.SENSITIVE, Attribute.ALWAYS_SENSITIVE, Attribute.NEVER_EXTRACTABLE)
        if not all(private[a] for a in guards) or private[Attribute.EXTRACTABLE]:
            raise KeyStoreError(
                f"the private key for kid {kid} on token {self._label!r} is extractable or was "
                "not generated on the token; jwt-guard signs only with keys that never left it"
            )
        jwk = _public_jwk(publics[0], algorithm)
        if thumbprint_kid(jwk) != kid:
            raise KeyStoreError(f"the public key labelled {kid} on the token is another key")
        assert isinstance(private, pkcs11.PrivateKey)
        return Pkcs11Signer(self._conn, kid, algorithm, private, jwk)

    def generate_key(self, algorithm: str) -> Pkcs11Signer:
        """A new key pair on the token for ``algorithm``, labelled by its kid (thumbprint)."""
        self.check_algorithm(algorithm)
        spec = _ALGORITHMS[algorithm]

        def generate() -> Pkcs11Signer:
            session = self._conn.session
            pending = f"{self._prefix}/pending/{secrets.token_hex(8)}"
            common: dict[Attribute, Any] = {Attribute.TOKEN: True}
            private_template = {
                **common,
                Attribute.PRIVATE: True,
                Attribute.SENSITIVE: True,
                Attribute.EXTRACTABLE: False,
                Attribute.SIGN: True,
                Attribute.DECRYPT: False,
                Attribute.UNWRAP: False,
                Attribute.DERIVE: False,
            }
            public_template: dict[Attribute, Any] = {**common, Attribute.VERIFY: True}
            options: dict[str, Any] = {
                "id": pending.encode(),
                "label": pending,
                "store": True,
                "mechanism": spec.generate,
                "public_template": public_template,
                "private_template": private_template,
            }
            if spec.key_type is KeyType.RSA:
                public_template[Attribute.PUBLIC_EXPONENT] = (65537).to_bytes(3, "big")
                public, private = session.generate_keypair(KeyType.RSA, RSA_BITS, **options)
            else:
                assert spec.params is not None
                params = session.create_domain_parameters(
                    spec.key_type, {Attribute.EC_PARAMS: spec.params}, local=True
                )
                public, private = params.generate_keypair(**options)
            jwk = _public_jwk(public, algorithm)
            kid = thumbprint_kid(jwk)
            for obj in (public, private):
                obj[Attribute.LABEL] = kid
                obj[Attribute.ID] = self._key_id(kid)
            return Pkcs11Signer(self._conn, kid, algorithm, private, jwk)

        signer = self._call(f"generate an {algorithm} key", generate)
        self._signers[signer.kid] = signer
        return signer

    def save(self, ring: KeyRing, *, expected_revision: int) -> KeyRing:
        """Write the ring to the token if its revision is still ``expected_revision``.

        Then destroys every key pair under this prefix that the ring no
        longer references. Takes the lock unless this thread holds it.
        """
        check_ring(ring)
        for key in ring.keys:
            if not isinstance(key.signer, Pkcs11Signer) or key.signer._conn is not self._conn:
                raise KeyStoreError(
                    f"key {key.kid} is not on token {self._label!r}; a PKCS#11 store only "
                    "holds keys generated on its token"
                )
        if self._lock.held:
            return self._save_locked(ring, expected_revision)
        with self._lock.hold():
            return self._save_locked(ring, expected_revision)

    def _save_locked(self, ring: KeyRing, expected_revision: int) -> KeyRing:
        current = self.revision()
        if current != expected_revision:
            raise KeyStoreError(
                f"the key ring changed while it was being updated (revision {current}, "
                f"expected {expected_revision})"
            )
        revision = expected_revision + 1
        payload = json.dumps(ring_document(ring, revision)).encode("utf-8")
        wanted = {self._key_id(k.kid) for k in ring.keys}

        def write() -> list[str]:
            older = self._ring_objects()
            self._conn.session.create_object(
                {
                    Attribute.CLASS: ObjectClass.DATA,
                    Attribute.TOKEN: True,
                    Attribute.PRIVATE: True,
                    Attribute.APPLICATION: _APPLICATION,
                    Attribute.LABEL: f"{self._prefix}/ring/{revision}",
                    Attribute.VALUE: payload,
                }
            )
            for _, obj in older:
                obj.destroy()
            return self._destroy_unreferenced(wanted)

        removed = self._call("save the key ring", write)
        for label in removed:
            self._signers.pop(label, None)
        return replace(ring, revision=revision)

    def _destroy_unreferenced(self, wanted: set[bytes]) -> list[str]:
        """Destroy this prefix's key objects the ring does not reference; their kids."""
        ours = (f"{self._prefix}/key/".encode(), f"{self._prefix}/pending/".encode())
        removed = []
        for cls in (ObjectClass.PRIVATE_KEY, ObjectClass.PUBLIC_KEY):
            for obj in self._find({Attribute.CLASS: cls}):
                key_id = bytes(obj[Attribute.ID])
                if key_id.startswith(ours) and key_id not in wanted:
                    obj.destroy()
                    removed.append(key_id.decode("utf-8", "replace").rsplit("/", 1)[-1])
        return removed
