"""``jwt-guard inspect``: what a token claims, decoded strictly, verified NOT at all.

It uses the same strict decoder as the verifier and says plainly that
nothing was checked; :func:`token_warnings` lists what a reviewer should
worry about.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from ..algorithms import HMAC_ALGORITHMS
from ..encoding import DecodeError, b64url_decode, parse_json_object
from ._output import EXIT_OK, EXIT_REJECTED, Terminal, read_token

__all__ = ["add_parser", "token_warnings"]

# Access tokens are meant to live minutes (RFC 9068 section 5 and RFC 8725
# section 3.10 favour short lifetimes); a day is well past "long".
LONG_LIFETIME = 24 * 3600
# inspect decodes tokens that no verifier has bounded yet; stay reasonable.
MAX_INSPECT_BYTES = 1024 * 1024
_TIME_CLAIMS = ("iat", "nbf", "exp", "auth_time")
_EMBEDDED_KEY_HEADERS = ("jwk", "jku", "x5u", "x5c")


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


def _cmd_inspect(args: argparse.Namespace, io: Terminal) -> int:
    token = read_token(args.token, io.stdin)
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


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    inspect = commands.add_parser(
        "inspect",
        help="decode a token and list warnings; verifies NOTHING",
        description="Decode a token's header and claims and list what looks risky. "
        "Nothing is verified. TOKEN '-' reads standard input.",
    )
    inspect.add_argument("token", metavar="TOKEN")
    inspect.set_defaults(handler=_cmd_inspect)
