"""``jwt-guard token``: a development access token, minted by the library's own issuer.

The token is signed by :class:`~jwt_guard_core.signing.TokenIssuer` over a
:class:`~jwt_guard_core.signing.KeyManager`, exactly as an application
issues one: ``typ: at+jwt``, ``iss``, ``sub``, ``aud``, ``iat``, ``nbf``,
``exp`` and a random ``jti``, registered claims refused in ``--claims``,
secret-looking claim names refused. The key is the active key of a
``--store`` directory (never rotated by this command) or a private key file
(``--key``: PEM or private JWK, or the HMAC secret file ``keygen`` writes),
held by a one-key, read-only store.

Only the token goes to standard output, so ``TOKEN=$(jwt-guard token ...)``
works; the notice that it is a development token goes to standard error.
"""

from __future__ import annotations

import argparse
import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from ..algorithms import ALGORITHMS, HMAC_ALGORITHMS
from ..encoding import DecodeError, b64url_encode, parse_json_object
from ..errors import ConfigurationError
from ..keys import KeyRejected, key_from_public_key, key_from_secret
from ..signing import (
    REGISTERED_CLAIMS,
    IssuanceError,
    KeyInfo,
    KeyManager,
    KeyRing,
    KeyStoreError,
    StoredKey,
    TokenIssuer,
)

# KeyMaterial is the signing side's wrapper that keeps a key out of repr
# and pickles; the one-key store below hands the key file's key to the
# KeyManager in it, so signing goes through TokenIssuer like any token.
from ..signing._crypto import KeyMaterial
from ._keys import jwk_thumbprint
from ._output import EXIT_OK, Terminal
from ._store import store_manager, utc

__all__ = ["add_parser"]

DEFAULT_LIFETIME = 900
# Access tokens live minutes (RFC 9068 section 5, RFC 8725 section 3.10);
# an hour is also KeyManager's default max_token_lifetime, the time retired
# keys stay published, so a development token never outlives its key.
MAX_LIFETIME = 3600
# A private key file is a few kilobytes; refuse to read anything much larger.
MAX_KEY_FILE_BYTES = 64 * 1024
# The algorithms PyJWT, and so TokenIssuer, can sign with ("Ed25519", the
# RFC 9864 name, verifies but is minted as "EdDSA").
TOKEN_ALGORITHMS = tuple(a for a in ALGORITHMS if a in jwt.algorithms.get_default_algorithms())
# What sets each registered claim, for the message refusing it in --claims.
_CLAIM_SOURCE = {
    "iss": "--iss",
    "sub": "--sub",
    "aud": "--aud",
    "scope": "--scope",
    "exp": "--lifetime",
    "nbf": "the time of minting",
    "iat": "the time of minting",
    "jti": "a random value",
}
# The issuer's argument names, as this command spells them.
_OPTION_FOR = {
    "issuer": "--iss",
    "subject": "--sub",
    "audience": "--aud",
    "scopes": "--scope",
    "claims": "--claims",
    "lifetime": "--lifetime",
}

_PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
_PRIVATE_KEY_TYPES = (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey)


@dataclass(frozen=True)
class _KeyFile:
    """A signing key read from ``--key``: the key, and what the file said about it."""

    key: _PrivateKey | bytes
    alg: str | None = None
    kid: str | None = None


class _OneKeyStore:
    """A read-only :class:`~jwt_guard_core.signing.KeyStore` holding one active key.

    It lets a key file sign through :class:`KeyManager` and
    :class:`TokenIssuer` without a key directory; nothing is ever saved.
    """

    in_process = True

    def __init__(self, key: StoredKey) -> None:
        self._ring = KeyRing(keys=(key,), revision=1)

    def revision(self) -> int:
        return self._ring.revision

    def load(self) -> KeyRing:
        return self._ring

    def save(self, ring: KeyRing, *, expected_revision: int) -> KeyRing:
        raise KeyStoreError("a --key file is never rewritten")

    @contextlib.contextmanager
    def lock(self, *, blocking: bool = True) -> Iterator[bool]:
        yield True


# --- reading --key ------------------------------------------------------------------


def _read_key_file(path: Path, passphrase_env: str) -> _KeyFile:
    """The private key in ``path``: PEM, private JWK, or ``keygen``'s HMAC secret file."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_KEY_FILE_BYTES + 1)
    except OSError as exc:
        raise ConfigurationError("--key", f"cannot read {path}: {exc.strerror}") from None
    if len(data) > MAX_KEY_FILE_BYTES:
        raise ConfigurationError("--key", f"{path} is over {MAX_KEY_FILE_BYTES} bytes")
    if data.lstrip().startswith(b"{"):
        return _jwk_key(path, data)
    if b"-----BEGIN" in data:
        return _pem_key(path, data, passphrase_env)
    # keygen --alg HS* writes the secret as text; the --alg decides (below).
    return _KeyFile(key=data.rstrip(b"\r\n"))


def _pem_key(path: Path, data: bytes, passphrase_env: str) -> _KeyFile:
    if b"PRIVATE KEY-----" not in data:
        raise ConfigurationError(
            "--key",
            f"{path} holds a public key or certificate; a token is signed with the private key",
        )
    # Encrypted (keygen --passphrase-env): the passphrase comes from the
    # environment, never from the command line.
    passphrase = os.environ.get(passphrase_env) if b"ENCRYPTED" in data else None
    if b"ENCRYPTED" in data and not passphrase:
        raise ConfigurationError(
            "--passphrase-env",
            f"{path} is encrypted; put its passphrase in the environment variable {passphrase_env}",
        )
    try:
        key = serialization.load_pem_private_key(
            data, password=passphrase.encode("utf-8") if passphrase else None
        )
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise ConfigurationError(
            "--key", f"{path} cannot be read as a PEM private key (or its passphrase is wrong)"
        ) from None
    if not isinstance(key, _PRIVATE_KEY_TYPES):
        raise ConfigurationError(
            "--key", f"{path} holds a {type(key).__name__}, not an RSA, EC or Ed25519 signing key"
        )
    return _KeyFile(key=key)


def _jwk_key(path: Path, data: bytes) -> _KeyFile:
    try:
        jwk = parse_json_object(data.strip())
    except DecodeError as exc:
        raise ConfigurationError("--key", f"{path} is not a JWK: {exc}") from None
    if "keys" in jwk:
        raise ConfigurationError("--key", f"{path} is a JWK Set; give a single private JWK")
    kty = jwk.get("kty")
    if kty != "oct" and "d" not in jwk:
        raise ConfigurationError(
            "--key", f"{path} is a public JWK; a token is signed with the private key (with 'd')"
        )
    alg, kid = jwk.get("alg"), jwk.get("kid")
    if not isinstance(alg, (str, type(None))) or not isinstance(kid, (str, type(None))):
        raise ConfigurationError("--key", f"{path}: the JWK's alg and kid must be strings")
    try:
        # Without "alg" PyJWT picks a parser from kty and crv; whether alg
        # fits the key is decided below, by the library's own checks.
        key = jwt.PyJWK({k: v for k, v in jwk.items() if k != "alg"}).key
    except (jwt.PyJWTError, ValueError, TypeError, KeyError):
        # PyJWT's messages can quote the JWK, private members included.
        raise ConfigurationError("--key", f"{path} is not a usable private JWK") from None
    if not isinstance(key, (bytes, *_PRIVATE_KEY_TYPES)):
        raise ConfigurationError("--key", f"{path} is not a usable private JWK")
    return _KeyFile(key=key, alg=alg, kid=kid)


def _algorithm(path: Path, key_file: _KeyFile, requested: str | None) -> str:
    """The signing algorithm: ``--alg``, else the JWK's ``alg``, else the only one that fits."""
    if requested is not None and key_file.alg is not None and requested != key_file.alg:
        raise ConfigurationError(
            "--alg", f"{requested} contradicts the key's own alg {key_file.alg}"
        )
    chosen = requested or key_file.alg
    key = key_file.key
    try:
        if isinstance(key, bytes):
            if chosen not in HMAC_ALGORITHMS:
                raise ConfigurationError(
                    "--key",
                    f"{path} is not a PEM private key or a private JWK; if it holds an HMAC "
                    "secret (keygen --alg HS*), give --alg HS256, HS384 or HS512",
                )
            # At least as long as the hash (RFC 7518 section 3.2), like verify's.
            key_from_secret(key, algorithm=chosen)
            return chosen
        fits = key_from_public_key(key.public_key()).algorithms
        if chosen is None:
            signable = [a for a in TOKEN_ALGORITHMS if a in fits]
            if len(signable) != 1:
                raise ConfigurationError(
                    "--alg", f"this key signs with {', '.join(signable)}; say which with --alg"
                )
            return signable[0]
        if chosen not in TOKEN_ALGORITHMS:
            raise ConfigurationError(
                "--alg", f"{chosen} cannot sign here; use one of {', '.join(TOKEN_ALGORITHMS)}"
            )
        key_from_public_key(key.public_key(), algorithms=[chosen])
    except KeyRejected as exc:
        # The library's key hygiene: RSA under 2048 bits, an alg for another
        # key type or curve, a short HMAC secret.
        raise ConfigurationError("--key" if requested is None else "--alg", str(exc)) from None
    return chosen


def _default_kid(key: _PrivateKey | bytes, alg: str) -> str:
    """The RFC 7638 thumbprint, the kid ``jwt-guard keygen`` gives the same key."""
    if isinstance(key, bytes):
        return jwk_thumbprint({"kty": "oct", "k": b64url_encode(key)})
    public = key_from_public_key(key.public_key(), algorithms=[alg]).public_jwk
    assert public is not None
    return jwk_thumbprint(public)


def _key_file_manager(args: argparse.Namespace, io: Terminal) -> KeyManager:
    key_file = _read_key_file(Path(args.key), args.passphrase_env)
    alg = _algorithm(Path(args.key), key_file, args.alg)
    kid = args.kid or key_file.kid or _default_kid(key_file.key, alg)
    now = io.clock()
    info = KeyInfo(kid=kid, algorithm=alg, state="active", created_at=now, activated_at=now)
    material = KeyMaterial(key_file.key, alg)
    store = _OneKeyStore(StoredKey(info=info, material=material))
    return KeyManager(store, algorithm=None, allow_hmac=True, auto_rotate=False, clock=io.clock)


def _store_key_manager(args: argparse.Namespace, io: Terminal) -> KeyManager:
    for option, given in (("--kid", args.kid), ("--alg", args.alg)):
        if given is not None:
            raise ConfigurationError(option, "applies to --key; the store's active key has its own")
    # auto_rotate off: minting a development token never rotates the store.
    keys = store_manager(args.store, args.passphrase_env, io.clock, auto_rotate=False)
    if not any(info.state == "active" for info in keys.list_keys()):
        # Signing would create the first key: this command must not.
        raise ConfigurationError(
            "--store", f"{args.store} holds no active key; create one with jwt-guard rotate"
        )
    return keys


# --- the command ---------------------------------------------------------------------


def _extra_claims(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        # The verifier's own strict decoder: an object, no duplicate names.
        claims = parse_json_object(text.strip().encode("utf-8"))
    except DecodeError as exc:
        raise ConfigurationError(
            "--claims", f'{exc}; give a JSON object, e.g. \'{{"roles": ["admin"]}}\''
        ) from None
    overridden = sorted(REGISTERED_CLAIMS.intersection(claims))
    if overridden:
        sources = "; ".join(f"{c} by {_CLAIM_SOURCE.get(c, 'the issuer')}" for c in overridden)
        raise ConfigurationError(
            "--claims", f"may not set registered claims, they are set by the options ({sources})"
        )
    return claims


def _cmd_token(args: argparse.Namespace, io: Terminal) -> int:
    if not 1 <= args.lifetime <= MAX_LIFETIME:
        raise ConfigurationError(
            "--lifetime",
            f"{args.lifetime} is not accepted; give 1 to {MAX_LIFETIME} seconds "
            "(access tokens live minutes)",
        )
    claims = _extra_claims(args.claims)
    keys = _store_key_manager(args, io) if args.store is not None else _key_file_manager(args, io)
    try:
        issuer = TokenIssuer(keys, issuer=args.iss, max_lifetime=MAX_LIFETIME)
        token = issuer.issue_access_token(
            args.sub,
            scopes=args.scope or (),
            audience=args.aud,
            claims=claims,
            lifetime=args.lifetime,
        )
    except ConfigurationError as exc:
        raise _for_option(exc.setting, exc) from None
    except IssuanceError as exc:
        raise _for_option(exc.argument, exc) from None
    key = next(info for info in keys.list_keys() if info.state == "active")
    io.say(token)
    io.warn(
        f"jwt-guard token: a DEVELOPMENT token for sub {args.sub!r}, signed by kid {key.kid} "
        f"({key.algorithm}), expires {utc(int(io.clock()) + args.lifetime)}. Do not use it in "
        "production: real tokens come from your application's issuer."
    )
    return EXIT_OK


def _for_option(name: str, exc: Exception) -> ConfigurationError:
    """The issuer's refusal, naming this command's option instead of its argument."""
    message = str(exc).removeprefix(f"{name}: ")
    return ConfigurationError(_OPTION_FOR.get(name, name), message)


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    token = commands.add_parser(
        "token",
        help="mint a development access token from a key store or a private key file",
        description="Mint an access token (typ at+jwt) with the library's TokenIssuer and "
        "print only the token, so TOKEN=$(jwt-guard token ...) works. For development and "
        "tests: real tokens come from your application's issuer.",
    )
    source = token.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--store", metavar="DIR", help="sign with the active key of this FileKeyStore directory"
    )
    source.add_argument(
        "--key",
        metavar="FILE",
        help="sign with this private key: PEM, private JWK, or an HS* secret file from keygen",
    )
    token.add_argument(
        "--passphrase-env",
        default="JWT_GUARD_KEY_PASSPHRASE",
        metavar="VAR",
        help="the variable holding the store's passphrase, or an encrypted PEM's "
        "(default JWT_GUARD_KEY_PASSPHRASE)",
    )
    token.add_argument(
        "--alg",
        choices=TOKEN_ALGORITHMS,
        metavar="ALG",
        help="the algorithm for --key (default: from the key or JWK; RSA and HMAC need it)",
    )
    token.add_argument("--kid", help="the kid for --key (default: the JWK's, else RFC 7638)")
    token.add_argument("--iss", required=True, help="the issuer (iss)")
    token.add_argument("--sub", required=True, help="the subject (sub)")
    token.add_argument(
        "--aud", required=True, action="append", help="an audience (aud), repeatable"
    )
    token.add_argument(
        "--scope", action="append", help="a scope, repeatable; joined with spaces into scope"
    )
    token.add_argument(
        "--lifetime",
        type=int,
        default=DEFAULT_LIFETIME,
        metavar="S",
        help=f"seconds until exp (default {DEFAULT_LIFETIME}, at most {MAX_LIFETIME})",
    )
    token.add_argument(
        "--claims", metavar="JSON", help='extra claims as a JSON object, e.g. \'{"roles": ["a"]}\''
    )
    token.set_defaults(handler=_cmd_token)
