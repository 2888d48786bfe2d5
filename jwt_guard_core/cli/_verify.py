"""``jwt-guard verify``: the library's Verifier, driven from the command line.

The command builds a :class:`~jwt_guard_core.GuardConfig`, a key source
(a JWKS or PEM file, an HMAC secret, a remote JWKS or OIDC discovery) and a
:class:`~jwt_guard_core.Verifier`, and reports what the verifier decided; it
has no verification logic of its own.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..algorithms import HMAC_ALGORITHMS, min_token_bytes
from ..config import DEFAULT_MAX_TOKEN_BYTES, GuardConfig
from ..encoding import b64url_encode
from ..errors import ConfigurationError, TokenError
from ..keys import KeySource, StaticKeySet
from ..verifier import Verifier
from ._output import EXIT_OK, EXIT_REJECTED, Terminal, read_token

__all__ = ["add_parser"]


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
        from ..remote import RemoteJWKS

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


def _cmd_verify(args: argparse.Namespace, io: Terminal) -> int:
    token = read_token(args.token, io.stdin)
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
        # Room for the largest token an allowed algorithm makes (ML-DSA-87).
        max_token_bytes=max(
            DEFAULT_MAX_TOKEN_BYTES, *(min_token_bytes(a) for a in args.alg if isinstance(a, str))
        ),
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


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
