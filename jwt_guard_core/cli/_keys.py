"""``jwt-guard keygen``: a signing key as files, private part mode 0600.

:func:`generate_key` and :func:`write_key` are the library side of the
command, also used by ``jwt-guard demo``; :func:`jwk_thumbprint` gives every
generated key its RFC 7638 ``kid``.
"""

from __future__ import annotations

import argparse
import errno
import hashlib
import json
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from ..algorithms import ALGORITHMS, generate_mldsa_key
from ..encoding import b64url_encode
from ..errors import ConfigurationError
from ..keys import key_from_jwk, key_from_public_key
from ._output import EXIT_OK, Refused, Terminal

__all__ = [
    "GeneratedKey",
    "WrittenKey",
    "add_parser",
    "alg_list",
    "generate_key",
    "jwk_thumbprint",
    "write_key",
]

DEFAULT_RSA_BITS = 3072
MIN_RSA_BITS = 2048
MAX_RSA_BITS = 16384
# The kid becomes part of a file name: no separators, no leading dot.
_SAFE_KID = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}")
# RFC 7638 section 3.2: the required members per key type, in the thumbprint.
_THUMBPRINT_MEMBERS = {
    "RSA": ("e", "kty", "n"),
    "EC": ("crv", "kty", "x", "y"),
    "OKP": ("crv", "kty", "x"),
    "oct": ("k", "kty"),
    # RFC 9964 section 6: alg is part of an AKP (ML-DSA) key's thumbprint.
    "AKP": ("alg", "kty", "pub"),
}
_EC_CURVE_FOR: dict[str, ec.EllipticCurve] = {
    "ES256": ec.SECP256R1(),
    "ES384": ec.SECP384R1(),
    "ES512": ec.SECP521R1(),
}


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """The RFC 7638 SHA-256 thumbprint of a JWK, base64url-encoded.

    Only the key type's required members take part, in lexicographic order
    and without whitespace, so the same key always gets the same ``kid``.
    """
    members = _THUMBPRINT_MEMBERS[jwk["kty"]]
    canonical = json.dumps({m: jwk[m] for m in members}, separators=(",", ":"), sort_keys=True)
    return b64url_encode(hashlib.sha256(canonical.encode("utf-8")).digest())


@dataclass(frozen=True)
class GeneratedKey:
    """A fresh signing key: private PEM and public JWK, or an HMAC secret.

    ``private_key`` is the ``cryptography`` object (``None`` for HMAC);
    ``secret`` is the HMAC secret text (``None`` for asymmetric keys). Neither
    appears in ``repr``.
    """

    alg: str
    kid: str
    public_jwk: Mapping[str, Any] | None
    private_key: Any = None
    secret: str | None = None

    def __repr__(self) -> str:
        return f"GeneratedKey(alg={self.alg!r}, kid={self.kid!r})"

    @property
    def symmetric(self) -> bool:
        return self.secret is not None

    def file_stem(self) -> str:
        return f"{self.alg}-{self.kid}"


def generate_key(alg: str, *, kid: str | None = None, bits: int | None = None) -> GeneratedKey:
    """Generate a signing key for ``alg``.

    RSA keys (RS*/PS*) have ``bits`` bits (default 3072, at least 2048); EC
    keys are on the algorithm's curve (RFC 7518 section 3.4); EdDSA and
    Ed25519 use Ed25519; ML-DSA-44/65/87 keys are AKP keys (RFC 9964);
    HMAC secrets carry as many random bytes as the hash output (RFC 7518
    section 3.2), from :mod:`secrets`. ``kid`` defaults to
    the RFC 7638 thumbprint. Raises :class:`ConfigurationError` on bad input.
    """
    if alg not in ALGORITHMS:
        raise ConfigurationError("--alg", f"unknown algorithm {alg!r}; accepted: {alg_list()}")
    family = ALGORITHMS[alg].kty
    if bits is not None and family != "RSA":
        raise ConfigurationError("--bits", f"applies to RSA algorithms only, not {alg}")
    if kid is not None and _SAFE_KID.fullmatch(kid) is None:
        raise ConfigurationError(
            "--kid",
            f"{kid!r} cannot be part of a file name; use 1 to 128 letters, digits, '.', '_' "
            "or '-', not starting with '.'",
        )

    if family == "oct":
        # token_urlsafe(n) draws n random bytes; the text is the secret, so it
        # is also at least as long as the hash output in bytes.
        secret = secrets.token_urlsafe(ALGORITHMS[alg].hash_bytes)
        jwk_oct = {"kty": "oct", "k": b64url_encode(secret.encode("ascii"))}
        return GeneratedKey(
            alg=alg, kid=kid or jwk_thumbprint(jwk_oct), public_jwk=None, secret=secret
        )

    private: Any
    if family == "RSA":
        size = DEFAULT_RSA_BITS if bits is None else bits
        if not MIN_RSA_BITS <= size <= MAX_RSA_BITS:
            raise ConfigurationError(
                "--bits", f"{size} is not accepted; give {MIN_RSA_BITS} to {MAX_RSA_BITS}"
            )
        private = rsa.generate_private_key(public_exponent=65537, key_size=size)
    elif family == "EC":
        private = ec.generate_private_key(_EC_CURVE_FOR[alg])
    elif family == "AKP":
        try:
            private = generate_mldsa_key(alg)
        except ValueError as exc:
            raise ConfigurationError("--alg", str(exc)) from None
    else:
        private = ed25519.Ed25519PrivateKey.generate()

    # The library's own hygiene checks vet the new public key.
    base = key_from_public_key(private.public_key(), algorithms=[alg]).public_jwk
    assert base is not None
    required = {m: base[m] for m in _THUMBPRINT_MEMBERS[base["kty"]]}
    kid = kid or jwk_thumbprint(required)
    public = {**required, "kid": kid, "alg": alg, "use": "sig"}
    key_from_jwk(public)
    return GeneratedKey(alg=alg, kid=kid, public_jwk=public, private_key=private)


def _create_file(path: Path, data: bytes, mode: int) -> None:
    # O_EXCL: never overwrite, and never follow a symlink planted at the
    # path. The mode is set at creation, so the key is never readable by
    # others, not even between open and chmod.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


@dataclass(frozen=True)
class WrittenKey:
    """Where :func:`write_key` put a key's files."""

    private: Path
    jwks: Path | None
    encrypted: bool


def write_key(key: GeneratedKey, out_dir: Path, *, passphrase: bytes | None = None) -> WrittenKey:
    """Write ``key`` to ``out_dir``: the private part mode 0600, the public JWKS 0644.

    Asymmetric keys: ``<alg>-<kid>.private.pem`` (PKCS#8, encrypted with
    ``passphrase`` when given) and ``<alg>-<kid>.jwks.json``. HMAC:
    ``<alg>-<kid>.secret`` only. Existing files are never overwritten:
    raises ``FileExistsError`` naming the file.
    """
    out_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    stem = key.file_stem()
    if key.symmetric:
        if passphrase is not None:
            raise ConfigurationError(
                "--passphrase-env", "applies to private keys, not HMAC secrets"
            )
        assert key.secret is not None
        secret_path = out_dir / f"{stem}.secret"
        _create_file(secret_path, key.secret.encode("ascii"), 0o600)
        return WrittenKey(private=secret_path, jwks=None, encrypted=False)

    private_path = out_dir / f"{stem}.private.pem"
    jwks_path = out_dir / f"{stem}.jwks.json"
    for path in (private_path, jwks_path):
        if path.exists() or path.is_symlink():
            raise FileExistsError(errno.EEXIST, "File exists", str(path))
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase)
        if passphrase
        else serialization.NoEncryption()
    )
    pem = key.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )
    jwks = json.dumps({"keys": [dict(key.public_jwk or {})]}, indent=2) + "\n"
    _create_file(private_path, pem, 0o600)
    try:
        _create_file(jwks_path, jwks.encode("utf-8"), 0o644)
    except FileExistsError:
        private_path.unlink()
        raise
    return WrittenKey(private=private_path, jwks=jwks_path, encrypted=bool(passphrase))


def alg_list() -> str:
    return ", ".join(ALGORITHMS)


def _cmd_keygen(args: argparse.Namespace, io: Terminal) -> int:
    passphrase = None
    if args.passphrase_env is not None:
        value = os.environ.get(args.passphrase_env)
        if not value:
            raise ConfigurationError(
                "--passphrase-env", f"the environment variable {args.passphrase_env} is not set"
            )
        passphrase = value.encode("utf-8")
    key = generate_key(args.alg, kid=args.kid, bits=args.bits)
    out_dir = Path(args.out)
    try:
        written = write_key(key, out_dir, passphrase=passphrase)
    except FileExistsError as exc:
        where = exc.filename if exc.filename is not None else exc
        raise Refused(f"{where} already exists; refusing to overwrite it") from None

    if key.symmetric:
        io.say(f"wrote HMAC secret  {written.private}  (mode 0600; the secret is not printed)")
        io.say(f"kid: {key.kid}")
        io.say("verify tokens with:")
        io.say(
            f'  JWT_SECRET="$(cat {written.private})" jwt-guard verify TOKEN '
            f"--secret-env JWT_SECRET --alg {key.alg} --kid {key.kid}"
        )
        return EXIT_OK
    state = "encrypted" if written.encrypted else "unencrypted; --passphrase-env VAR encrypts it"
    io.say(f"wrote private key  {written.private}  (mode 0600, PKCS#8 PEM, {state})")
    io.say(f"wrote public JWKS  {written.jwks}")
    io.say(f"kid: {key.kid}")
    io.say("verify tokens with:")
    io.say(f"  jwt-guard verify TOKEN --jwks {written.jwks} --alg {key.alg}")
    return EXIT_OK


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    keygen = commands.add_parser(
        "keygen",
        help="generate a signing key (private PEM mode 0600 + public JWKS)",
        description="Generate a signing key for ALG: the private key as PKCS#8 PEM (mode "
        "0600) and the public JWKS, or for HS* an HMAC secret file (mode 0600). "
        "Existing files are never overwritten.",
    )
    keygen.add_argument(
        "--alg",
        required=True,
        choices=list(ALGORITHMS),
        metavar="ALG",
        help=f"one of {alg_list()}",
    )
    keygen.add_argument("--kid", help="key id (default: the RFC 7638 thumbprint)")
    keygen.add_argument("--out", default=".", metavar="DIR", help="directory (default: .)")
    keygen.add_argument(
        "--bits",
        type=int,
        help=f"RSA modulus size (default {DEFAULT_RSA_BITS}, at least {MIN_RSA_BITS})",
    )
    keygen.add_argument(
        "--passphrase-env",
        metavar="VAR",
        help="encrypt the private key with the passphrase in this variable",
    )
    keygen.set_defaults(handler=_cmd_keygen)
