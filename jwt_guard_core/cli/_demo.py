"""``jwt-guard demo``: the five-second tour in a temporary directory.

A key from :func:`generate_key`, a token minted by PyJWT as an identity
provider would, verified by :class:`~jwt_guard_core.Verifier` exactly as
``jwt-guard verify --jwks`` does, then three rejections with their reasons.
"""

from __future__ import annotations

import argparse
import secrets
import tempfile
from pathlib import Path

from ..config import GuardConfig
from ..errors import TokenError
from ..keys import StaticKeySet
from ..verifier import Verifier
from ._keys import generate_key, write_key
from ._output import EXIT_CONFIG, EXIT_OK, EXIT_REJECTED, Clock, Terminal

__all__ = ["add_parser"]


def _cmd_demo(args: argparse.Namespace, io: Terminal) -> int:
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


def _cmd_serve(args: argparse.Namespace, io: Terminal) -> int:
    """``demo --serve``: the local issuer, API and page of :mod:`jwt_guard_demo`."""
    # The demo app is built on the Flask adapter; the core never imports Flask,
    # so the package is looked up only when a person asks for the demo server.
    try:
        from jwt_guard_demo import serve
    except ImportError as exc:
        io.warn(str(exc))
        return EXIT_CONFIG
    return serve(args.host, args.port, args.data_dir)


def _cmd(args: argparse.Namespace, io: Terminal) -> int:
    return _cmd_serve(args, io) if args.serve else _cmd_demo(args, io)


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = commands.add_parser(
        "demo",
        help="generate a key, mint, verify and reject tokens in a temporary directory; "
        "with --serve, run the local issuer, API and demo page",
    )
    demo.add_argument(
        "--serve",
        action="store_true",
        help="run the local demo server (issuer, protected API and a page at /) until Ctrl-C",
    )
    demo.add_argument("--host", default="127.0.0.1", help="loopback address to bind (--serve)")
    demo.add_argument("--port", type=int, default=8000, help="port to listen on (--serve)")
    demo.add_argument(
        "--data-dir",
        default=None,
        help="folder for the demo's key store and SQLite database "
        "(--serve; default ./jwt-guard-demo-data)",
    )
    demo.set_defaults(handler=_cmd)
