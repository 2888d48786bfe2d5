"""The ``jwt-guard`` command line: keygen, inspect, verify and a demo.

Every command is a thin shell over the library: ``verify`` builds a
:class:`~jwt_guard_core.GuardConfig`, a key source and a
:class:`~jwt_guard_core.Verifier` and reports what the verifier decided; it
has no verification logic of its own. ``inspect`` decodes with the same
strict decoder the verifier uses and says plainly that nothing was verified.

Exit codes: 0 success; 1 the token was rejected or could not be decoded, or
keygen refused to overwrite a file; 2 a usage or configuration error.

This module is the program's user interface, so unlike the rest of the
library it writes to standard output and standard error.
"""

from __future__ import annotations

import argparse
import errno
import hashlib
import json
import os
import re
import secrets
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TextIO

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from .algorithms import ALGORITHMS, HMAC_ALGORITHMS
from .config import GuardConfig
from .encoding import DecodeError, b64url_decode, b64url_encode, parse_json_object
from .errors import ConfigurationError, TokenError
from .keys import KeySource, StaticKeySet, key_from_jwk, key_from_public_key
from .signing import FileKeyStore, KeyInfo, KeyManager, KeyStoreError
from .verifier import Verifier

__all__ = [
    "GeneratedKey",
    "generate_key",
    "jwk_thumbprint",
    "key_rows",
    "key_table",
    "main",
    "token_warnings",
    "write_key",
]

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_CONFIG = 2

DEFAULT_RSA_BITS = 3072
MIN_RSA_BITS = 2048
MAX_RSA_BITS = 16384
# Access tokens are meant to live minutes (RFC 9068 section 5 and RFC 8725
# section 3.10 favour short lifetimes); a day is well past "long".
LONG_LIFETIME = 24 * 3600
# inspect decodes tokens that no verifier has bounded yet; stay reasonable.
MAX_INSPECT_BYTES = 1024 * 1024
_TIME_CLAIMS = ("iat", "nbf", "exp", "auth_time")
_EMBEDDED_KEY_HEADERS = ("jwk", "jku", "x5u", "x5c")
# The kid becomes part of a file name: no separators, no leading dot.
_SAFE_KID = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}")
# RFC 7638 section 3.2: the required members per key type, in the thumbprint.
_THUMBPRINT_MEMBERS = {
    "RSA": ("e", "kty", "n"),
    "EC": ("crv", "kty", "x", "y"),
    "OKP": ("crv", "kty", "x"),
    "oct": ("k", "kty"),
}
_EC_CURVE_FOR: dict[str, ec.EllipticCurve] = {
    "ES256": ec.SECP256R1(),
    "ES384": ec.SECP384R1(),
    "ES512": ec.SECP521R1(),
}

Clock = Callable[[], float]


class _Refused(Exception):
    """The command refused to act (exit 1), e.g. a file already exists."""


# --- keys -----------------------------------------------------------------------


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
    Ed25519 use Ed25519; HMAC secrets carry as many random bytes as the hash
    output (RFC 7518 section 3.2), from :mod:`secrets`. ``kid`` defaults to
    the RFC 7638 thumbprint. Raises :class:`ConfigurationError` on bad input.
    """
    if alg not in ALGORITHMS:
        raise ConfigurationError("--alg", f"unknown algorithm {alg!r}; accepted: {_alg_list()}")
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


# --- inspect --------------------------------------------------------------------


def _decode_token(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims of a compact JWS, decoded strictly; never verified."""
    if len(token) > MAX_INSPECT_BYTES:
        raise DecodeError(f"the token is over {MAX_INSPECT_BYTES} bytes")
    parts = token.split(".")
    if len(parts) == 5:
        raise DecodeError("this is a JWE (five segments): its claims are encrypted")
    if len(parts) != 3:
        raise DecodeError(f"a compact JWS has 3 dot-separated segments, this has {len(parts)}")
    try:
        header = parse_json_object(b64url_decode(parts[0]))
    except DecodeError as exc:
        raise DecodeError(f"header: {exc}") from None
    try:
        claims = parse_json_object(b64url_decode(parts[1]))
    except DecodeError as exc:
        raise DecodeError(f"claims: {exc}") from None
    return header, claims


def _number(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return None


def token_warnings(header: Mapping[str, Any], claims: Mapping[str, Any]) -> list[str]:
    """What a reviewer should worry about in a decoded (unverified) token."""
    warnings: list[str] = []
    alg = header.get("alg")
    if not isinstance(alg, str):
        warnings.append("the header has no alg: no verifier can accept this token")
    elif alg.lower() == "none":
        warnings.append(
            f"alg is {alg!r}: the token is unsigned, anyone can forge it (RFC 8725 section 3.1)"
        )
    elif alg in HMAC_ALGORITHMS:
        warnings.append(
            f"alg is {alg} (HMAC): whoever can verify this token can also mint one; "
            "prefer an asymmetric algorithm when the verifier is not the issuer"
        )
    for name in _EMBEDDED_KEY_HEADERS:
        if name in header:
            warnings.append(
                f"the header carries {name!r}: a token naming or embedding its own key is a "
                "classic forgery; jwt-guard never uses it (RFC 8725 section 3.10)"
            )
    exp = _number(claims.get("exp"))
    iat = _number(claims.get("iat"))
    if "exp" not in claims:
        warnings.append("no exp claim: the token never expires")
    elif exp is None:
        warnings.append("exp is not a number: verifiers refuse it")
    elif iat is not None and exp - iat > LONG_LIFETIME:
        hours = (exp - iat) / 3600
        warnings.append(
            f"long lifetime: exp - iat is {hours:.1f} hours; access tokens should live minutes"
        )
    if "aud" not in claims:
        warnings.append("no aud claim: any API trusting this issuer would accept it")
    if "iss" not in claims:
        warnings.append("no iss claim: the issuer cannot be checked")
    return warnings


def _iso(value: float) -> str:
    return datetime.fromtimestamp(value, tz=timezone.utc).isoformat().replace("+00:00", "Z")


def _relative(value: float, now: float) -> str:
    delta = value - now
    amount = abs(delta)
    if amount < 120:
        text = f"{amount:.0f} s"
    elif amount < 7200:
        text = f"{amount / 60:.0f} min"
    elif amount < 172800:
        text = f"{amount / 3600:.1f} h"
    else:
        text = f"{amount / 86400:.1f} days"
    return f"in {text}" if delta >= 0 else f"{text} ago"


def _time_lines(claims: Mapping[str, Any], now: float) -> list[str]:
    lines = []
    for name in _TIME_CLAIMS:
        value = _number(claims.get(name))
        if value is None:
            continue
        try:
            when = _iso(value)
        except (OverflowError, OSError, ValueError):
            when = "out of range"
        lines.append(f"  {name:<9} {value!r:<12} {when}  ({_relative(value, now)})")
    return lines


# --- verify ---------------------------------------------------------------------


def _add_key_source_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--jwks", metavar="FILE", help="a JWKS JSON file with the public key(s)")
    group.add_argument("--pem", metavar="FILE", help="a PEM public key or X.509 certificate")
    group.add_argument(
        "--secret-env",
        metavar="VAR",
        help="name of the environment variable holding the HMAC secret (UTF-8 text)",
    )
    group.add_argument(
        "--jwks-url",
        metavar="URL",
        help="fetch the JWKS from URL (https; http only for localhost/127.0.0.1/::1)",
    )
    group.add_argument(
        "--discover",
        metavar="ISSUER",
        help="find the JWKS by OpenID Connect discovery from ISSUER, which becomes the "
        "required iss unless --issuer is given",
    )
    parser.add_argument(
        "--kid",
        help="the kid of the --pem or --secret-env key (tokens naming a kid need it)",
    )


def _key_source(args: argparse.Namespace) -> KeySource:
    """The key source the command line describes. Raises ConfigurationError.

    Every key-source option is added in :func:`_add_key_source_arguments`
    and turned into a :class:`KeySource` here, so ``verify`` has exactly one
    place that knows where keys come from.
    """
    remote = args.jwks_url is not None or args.discover is not None
    if args.kid is not None and (args.jwks is not None or remote):
        raise ConfigurationError(
            "--kid", "applies to --pem and --secret-env; a JWKS names its kids"
        )
    if args.jwks is not None:
        return StaticKeySet.from_jwks(Path(args.jwks))
    if remote:
        # The same RemoteJWKS an application uses: https only, size and time
        # limits, key hygiene, discovery with the exact issuer check.
        from .remote import RemoteJWKS

        if args.jwks_url is not None:
            return RemoteJWKS(args.jwks_url)
        return RemoteJWKS.from_issuer(args.discover)
    if args.pem is not None:
        try:
            data = Path(args.pem).read_bytes()
        except OSError as exc:
            raise ConfigurationError("--pem", f"cannot read {args.pem}: {exc.strerror}") from None
        return StaticKeySet.from_pem(data, kid=args.kid)
    if args.secret_env is not None:
        return _secret_key_source(args.secret_env, args.alg, args.kid)
    raise ConfigurationError(
        "keys", "give one of --jwks, --pem, --secret-env, --jwks-url or --discover"
    )


def _secret_key_source(var: str, algorithms: Sequence[str], kid: str | None) -> KeySource:
    secret = os.environ.get(var)
    if not secret:
        raise ConfigurationError("--secret-env", f"the environment variable {var} is not set")
    hmac_algs = [a for a in dict.fromkeys(algorithms) if a in HMAC_ALGORITHMS]
    if not hmac_algs:
        raise ConfigurationError("--secret-env", "needs an HMAC --alg (HS256, HS384, HS512)")
    # Each allowed HMAC algorithm must fit the secret (RFC 7518 section 3.2);
    # from_secret refuses a secret shorter than the hash, naming the lengths.
    sets = [StaticKeySet.from_secret(secret, algorithm=a, kid=kid) for a in hmac_algs]
    if len(sets) == 1:
        return sets[0]
    raw = secret.encode("utf-8")
    jwk: dict[str, Any] = {"kty": "oct", "k": b64url_encode(raw)}
    if kid is not None:
        jwk["kid"] = kid
    return StaticKeySet.from_jwks({"keys": [jwk]})


def _read_token(value: str, stdin: TextIO) -> str:
    # "-" keeps the token out of shell history and the process list.
    if value == "-":
        return stdin.read().strip()
    return value


# --- the commands ---------------------------------------------------------------


@dataclass
class _IO:
    out: TextIO
    err: TextIO
    stdin: TextIO
    clock: Clock

    def say(self, text: str = "") -> None:
        _print(text, self.out)

    def warn(self, text: str) -> None:
        _print(text, self.err)

    def say_json(self, value: Any) -> None:
        """Indented JSON, readable non-ASCII when the terminal can show it."""
        text = json.dumps(value, indent=2, ensure_ascii=False)
        try:
            text.encode(getattr(self.out, "encoding", None) or "utf-8")
        except (UnicodeEncodeError, LookupError):
            # A lone surrogate ("\ud800" in the token's JSON) or a narrow
            # terminal encoding: fall back to escapes, still valid JSON.
            text = json.dumps(value, indent=2)
        self.say(text)


def _print(text: str, stream: TextIO) -> None:
    try:
        print(text, file=stream)
    except UnicodeEncodeError:
        encoding = getattr(stream, "encoding", None) or "utf-8"
        print(text.encode(encoding, "backslashreplace").decode(encoding), file=stream)


def _cmd_keygen(args: argparse.Namespace, io: _IO) -> int:
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
        raise _Refused(f"{where} already exists; refusing to overwrite it") from None

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


def _cmd_inspect(args: argparse.Namespace, io: _IO) -> int:
    token = _read_token(args.token, io.stdin)
    try:
        header, claims = _decode_token(token)
    except DecodeError as exc:
        io.warn(f"malformed token: {exc}")
        return EXIT_REJECTED
    io.say("NOTHING WAS VERIFIED: this is what the token claims, not what is true.")
    io.say("The signature, expiry, issuer and audience were not checked; use `jwt-guard verify`.")
    io.say()
    io.say("header:")
    io.say_json(header)
    io.say()
    io.say("claims:")
    io.say_json(claims)
    times = _time_lines(claims, io.clock())
    if times:
        io.say()
        io.say("times (UTC):")
        for line in times:
            io.say(line)
    warnings = token_warnings(header, claims)
    io.say()
    if warnings:
        io.say("warnings:")
        for warning in warnings:
            io.say(f"  - {warning}")
    else:
        io.say("warnings: none")
    return EXIT_OK


def _cmd_verify(args: argparse.Namespace, io: _IO) -> int:
    token = _read_token(args.token, io.stdin)
    if args.discover is not None and args.issuer is None:
        # Discovery checked that the keys are this issuer's; its tokens carry it in iss.
        args.issuer = args.discover
    config = GuardConfig(
        algorithms=args.alg,
        keys=_key_source(args),
        issuer=args.issuer,
        audience=args.audience,
        verify_issuer=args.issuer is not None,
        verify_audience=args.audience is not None,
        leeway=args.leeway,
        expected_type=args.type,
        clock=io.clock,
    )
    verifier = Verifier(config)
    # Honest about what was checked: a token accepted without these checks
    # may have been minted for another API or by another issuer.
    for claim, flag, given in (("issuer (iss)", "--issuer", args.issuer),
                               ("audience (aud)", "--audience", args.audience)):  # fmt: skip
        if given is None:
            io.warn(f"note: the {claim} was not checked; pass {flag} to check it")
    try:
        result = verifier.verify(token)
    except TokenError as exc:
        io.warn(f"{exc.reason}: {exc.detail}")
        single_key = args.pem is not None or args.secret_env is not None
        if exc.reason == "unknown_kid" and single_key and args.kid is None:
            io.warn("hint: the token names a kid; give the key's kid with --kid")
        return EXIT_REJECTED
    finally:
        close = getattr(config.keys, "close", None)  # a remote key set's HTTP client
        if callable(close):
            close()
    io.say_json(dict(result.claims))
    return EXIT_OK


# --- the key store commands -------------------------------------------------------


def key_rows(infos: Sequence[KeyInfo]) -> list[dict[str, Any]]:
    """Each key's public facts (kid, algorithm, state, Unix times) for JSON output.

    Shared by ``jwt-guard keys --json`` and the adapters' key-listing commands.
    A :class:`KeyInfo` holds no key material, so none can be printed.
    """
    return [
        {
            "kid": i.kid,
            "algorithm": i.algorithm,
            "state": i.state,
            "created_at": i.created_at,
            "activated_at": i.activated_at,
            "retired_at": i.retired_at,
        }
        for i in infos
    ]


def key_table(infos: Sequence[KeyInfo], emergency_epoch: int | None = None) -> list[str]:
    """Lines of an aligned table of keys (UTC times), then the last emergency, if any."""
    rows = [("KID", "ALG", "STATE", "CREATED", "ACTIVATED", "RETIRED")]
    rows += [
        (i.kid, i.algorithm, i.state, _utc(i.created_at), _utc(i.activated_at), _utc(i.retired_at))
        for i in infos
    ]
    widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    if emergency_epoch is not None:
        lines.append(f"last emergency rotation: {_utc(emergency_epoch)}")
    return lines


def _utc(value: float | None) -> str:
    if value is None:
        return "-"
    return datetime.fromtimestamp(value, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _store_manager(args: argparse.Namespace, io: _IO) -> KeyManager:
    """The manager of the file store in ``--store``, imposing none of its own defaults.

    ``algorithm=None`` keeps the stored keys' algorithm, and the retention
    the application recorded in the ring protects its retired keys from
    this tool's shorter default.
    """
    if not Path(args.store).is_dir():
        # FileKeyStore would create it: a typo must not start an empty store.
        raise ConfigurationError(
            "--store",
            f"{args.store} is not a directory (the application creates it, or mkdir -m 700)",
        )
    store = FileKeyStore(args.store, passphrase_env=args.passphrase_env)
    return KeyManager(store, algorithm=None, allow_hmac=args.allow_hmac, clock=io.clock)


def _cmd_rotate(args: argparse.Namespace, io: _IO) -> int:
    if args.reason is not None and not args.emergency:
        raise ConfigurationError("--reason", "only used with --emergency")
    keys = _store_manager(args, io)
    if args.emergency:
        info = keys.emergency_rotate(reason=args.reason)
        io.say(
            f"emergency rotation: {info.kid} ({info.algorithm}) is the only key; every token "
            f"issued before {_utc(keys.emergency_epoch)} is invalid"
        )
        return EXIT_OK
    previous = keys.active_key() if keys.list_keys() else None
    info = keys.rotate()
    line = f"rotated: {info.kid} ({info.algorithm}) signs from now on"
    if previous is not None:
        line += f"; {previous.kid} is retired and stays published for its tokens"
    io.say(line)
    return EXIT_OK


def _cmd_jwks(args: argparse.Namespace, io: _IO) -> int:
    keys = _store_manager(args, io)
    if not keys.list_keys():
        # jwks() would create the first key: a read command must not.
        raise _Refused(f"{args.store} holds no keys yet; create one with jwt-guard rotate")
    io.say_json(keys.jwks())
    return EXIT_OK


def _cmd_keys(args: argparse.Namespace, io: _IO) -> int:
    keys = _store_manager(args, io)
    infos = keys.list_keys()
    if args.json:
        io.say_json({"keys": key_rows(infos), "emergency_epoch": keys.emergency_epoch})
        return EXIT_OK
    if not infos:
        io.say("no keys yet; create one with jwt-guard rotate")
        return EXIT_OK
    for line in key_table(infos, keys.emergency_epoch):
        io.say(line)
    return EXIT_OK


def _cmd_demo(args: argparse.Namespace, io: _IO) -> int:
    import jwt  # PyJWT plays the issuer, as an identity provider would.

    issuer = "https://issuer.example"
    audience = "https://api.example"
    io.say("jwt-guard demo: mint an access token, verify it, then watch three bad ones fail.")
    io.say()
    with tempfile.TemporaryDirectory(prefix="jwt-guard-demo-") as tmp:
        key = generate_key("ES256")
        written = write_key(key, Path(tmp))
        jwks_path = written.jwks
        assert jwks_path is not None
        io.say(f"1. generated an ES256 key pair (kid {key.kid})")
        io.say(f"   private key {written.private} (mode 0600)")
        io.say(f"   public JWKS {written.jwks}")

        now = int(io.clock())
        claims = {
            "iss": issuer,
            "aud": audience,
            "sub": "alice",
            "iat": now,
            "nbf": now,
            "exp": now + 900,
            "jti": secrets.token_urlsafe(12),
            "scope": "orders:read profile",
        }
        headers = {"kid": key.kid, "typ": "at+jwt"}
        private_pem = written.private.read_bytes()
        token = jwt.encode(claims, private_pem, algorithm="ES256", headers=headers)
        io.say()
        io.say("2. minted a 15-minute access token with PyJWT, signed with the private key:")
        io.say(f"   {token}")

        def verifier(clock: Clock) -> Verifier:
            # The same path as `jwt-guard verify --jwks FILE`.
            return Verifier(
                GuardConfig(
                    algorithms=["ES256"],
                    keys=StaticKeySet.from_jwks(jwks_path),
                    issuer=issuer,
                    audience=audience,
                    expected_type="at+jwt",
                    clock=clock,
                )
            )

        try:
            good = verifier(io.clock).verify(token)
        except TokenError as exc:  # pragma: no cover - would be a verifier bug
            io.warn(f"the demo token was rejected: {exc.reason}: {exc.detail}")
            return EXIT_REJECTED
        io.say()
        io.say(
            "3. verified with jwt_guard_core.Verifier (signature, alg, typ, iss, aud, exp, ...):"
        )
        io.say(
            f"   subject {good.subject}, scopes {' '.join(sorted(good.scopes))}, "
            f"expires {good.expires_at.isoformat() if good.expires_at else 'never'}"
        )

        head, payload, sig = token.split(".")
        # Flip one signature byte in the middle, keeping the base64url canonical.
        middle = len(sig) // 2
        flipped = "A" if sig[middle] != "A" else "B"
        tampered = f"{head}.{payload}.{sig[:middle]}{flipped}{sig[middle + 1 :]}"
        other_aud = jwt.encode(
            {**claims, "aud": "https://other-api.example"}, private_pem, "ES256", headers
        )
        later = now + 3600
        cases = [
            ("tampered signature", verifier(io.clock), tampered, "bad_signature"),
            ("an hour later (clock injected)", verifier(lambda: later), token, "token_expired"),
            ("minted for another API", verifier(io.clock), other_aud, "bad_audience"),
        ]
        io.say()
        io.say("4. rejections, each with its stable reason code:")
        ok = True
        for label, checker, candidate, expected in cases:
            try:
                checker.verify(candidate)
            except TokenError as exc:
                io.say(f"   {label:<31} -> {exc.reason}: {exc.detail}")
                ok = ok and exc.reason == expected
            else:
                io.say(f"   {label:<31} -> ACCEPTED (this is a bug)")
                ok = False
    io.say()
    io.say("The temporary key was deleted. Next: `jwt-guard keygen --alg ES256 --out keys`,")
    io.say("`jwt-guard inspect TOKEN` and `jwt-guard verify TOKEN --jwks FILE --alg ES256`.")
    return EXIT_OK if ok else EXIT_REJECTED


# --- parser and entry point ----------------------------------------------------


def _alg_list() -> str:
    return ", ".join(ALGORITHMS)


def _add_store_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", required=True, metavar="DIR", help="the FileKeyStore directory")
    parser.add_argument(
        "--passphrase-env",
        default="JWT_GUARD_KEY_PASSPHRASE",
        metavar="VAR",
        help="the variable holding the store passphrase (default JWT_GUARD_KEY_PASSPHRASE)",
    )
    parser.add_argument(
        "--allow-hmac", action="store_true", help="the store holds HMAC secrets (HS256/384/512)"
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jwt-guard",
        description="Generate keys, inspect and verify JSON Web Tokens.",
        epilog="Exit codes: 0 success, 1 token rejected or malformed (or a file exists), "
        "2 usage or configuration error.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

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
        help=f"one of {_alg_list()}",
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

    inspect = commands.add_parser(
        "inspect",
        help="decode a token and list warnings; verifies NOTHING",
        description="Decode a token's header and claims and list what looks risky. "
        "Nothing is verified. TOKEN '-' reads standard input.",
    )
    inspect.add_argument("token", metavar="TOKEN")
    inspect.set_defaults(handler=_cmd_inspect)

    verify = commands.add_parser(
        "verify",
        help="verify a token and print its claims",
        description="Verify TOKEN ('-' reads standard input) and print its claims as JSON. "
        "A rejection prints the reason code on standard error and exits 1.",
    )
    verify.add_argument("token", metavar="TOKEN")
    _add_key_source_arguments(verify)
    verify.add_argument(
        "--alg",
        action="append",
        required=True,
        metavar="ALG",
        help="an allowed algorithm (repeatable)",
    )
    verify.add_argument("--issuer", help="the required iss (skipped when absent)")
    verify.add_argument("--audience", help="the required aud (skipped when absent)")
    verify.add_argument(
        "--leeway", type=float, default=10.0, metavar="S", help="clock skew in seconds (default 10)"
    )
    verify.add_argument("--type", metavar="T", help="the required typ header, e.g. at+jwt")
    verify.set_defaults(handler=_cmd_verify)

    demo = commands.add_parser(
        "demo", help="generate a key, mint, verify and reject tokens in a temporary directory"
    )
    demo.set_defaults(handler=_cmd_demo)

    rotate = commands.add_parser(
        "rotate",
        help="rotate the signing key of a key store directory",
        description="Make a new key active in the FileKeyStore in DIR (the first key of an "
        "empty store); the old one stays published until its tokens expire. --emergency, for "
        "a leaked key, removes every other key at once: every token issued before now stops "
        "verifying. The passphrase is read from $JWT_GUARD_KEY_PASSPHRASE (--passphrase-env).",
    )
    _add_store_arguments(rotate)
    rotate.add_argument(
        "--emergency", action="store_true", help="drop every previous key now (a leaked key)"
    )
    rotate.add_argument("--reason", help="why, for the emergency rotation's security event")
    rotate.set_defaults(handler=_cmd_rotate)

    jwks = commands.add_parser(
        "jwks",
        help="print the public JWKS of a key store directory",
        description="Print the JWKS (public keys only) the application serves from the "
        "FileKeyStore in DIR.",
    )
    _add_store_arguments(jwks)
    jwks.set_defaults(handler=_cmd_jwks)

    keys = commands.add_parser(
        "keys",
        help="list the keys of a key store directory (kids and states, no key material)",
    )
    _add_store_arguments(keys)
    keys.add_argument("--json", action="store_true", help="print JSON (times as Unix time)")
    keys.set_defaults(handler=_cmd_keys)
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    clock: Clock | None = None,
    stdin: TextIO | None = None,
) -> int:
    """Run the ``jwt-guard`` command line and return its exit code.

    ``clock`` and ``stdin`` are injectable for tests; by default the real
    time and standard input are used.
    """
    io = _IO(
        out=sys.stdout,
        err=sys.stderr,
        stdin=stdin if stdin is not None else sys.stdin,
        clock=clock if clock is not None else time.time,
    )
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        # argparse exits 2 on usage errors and 0 for --help.
        return exc.code if isinstance(exc.code, int) else EXIT_CONFIG
    handler: Callable[[argparse.Namespace, _IO], int] = args.handler
    try:
        return handler(args, io)
    except ConfigurationError as exc:
        io.warn(f"configuration error: {exc}")
        return EXIT_CONFIG
    except _Refused as exc:
        io.warn(f"refused: {exc}")
        return EXIT_REJECTED
    except KeyStoreError as exc:
        io.warn(f"key store error: {exc}")
        return EXIT_REJECTED
    except OSError as exc:
        io.warn(f"error: {exc.filename or ''}: {exc.strerror}")
        return EXIT_REJECTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
