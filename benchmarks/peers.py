"""The peer libraries, each set up to do what jwt-guard does for one token.

Every peer gets the key parsed once (as each library's own key object, when
it has one), and the same policy: signature with an allowlist of one
algorithm, ``exp``/``nbf``/``iat`` with a 10 s leeway, ``iss`` and ``aud``
compared, and ``exp``, ``iat``, ``nbf``, ``iss``, ``aud``, ``sub`` required.
``check(peer, key)`` makes sure a peer accepts a good token and refuses a
tampered one before it is timed, so the columns measure the same work.

A peer that does not support an algorithm (python-jose has no EdDSA nor
PS256) is left out of that table. None of them caches verified tokens.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from typing import Any

from benchmarks._common import AUDIENCE, ISSUER, LEEWAY, Key

REQUIRED = ["exp", "iat", "nbf", "iss", "aud", "sub"]

Verify = Callable[[str], Any]


class Unsupported(Exception):
    """The peer cannot verify this algorithm."""


def pyjwt(key: Key) -> Verify:
    import jwt

    public = key.public
    options = {"require": REQUIRED}

    def verify(token: str) -> Any:
        return jwt.decode(
            token,
            public,
            algorithms=[key.alg],
            audience=AUDIENCE,
            issuer=ISSUER,
            leeway=LEEWAY,
            options=options,  # type: ignore[arg-type]
        )

    return verify


def authlib(key: Key) -> Verify:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from authlib.jose import JsonWebKey, JsonWebToken

    decoder = JsonWebToken([key.alg])
    jwk = JsonWebKey.import_key(key.public_jwk)
    options = {name: {"essential": True} for name in REQUIRED}
    options["iss"]["value"] = ISSUER
    options["aud"]["value"] = AUDIENCE

    def verify(token: str) -> Any:
        claims = decoder.decode(token, jwk, claims_options=options)
        claims.validate(leeway=LEEWAY)
        return claims

    return verify


def joserfc(key: Key) -> Verify:
    from joserfc import jwt
    from joserfc.jwk import import_key

    jwk = import_key(key.public_jwk)
    registry = jwt.JWTClaimsRegistry(
        leeway=LEEWAY,
        iss={"essential": True, "value": ISSUER},
        aud={"essential": True, "value": AUDIENCE},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
        nbf={"essential": True},
    )

    def verify(token: str) -> Any:
        decoded = jwt.decode(token, jwk, algorithms=[key.alg])
        registry.validate(decoded.claims)
        return decoded.claims

    return verify


def python_jose(key: Key) -> Verify:
    if key.alg not in ("RS256", "ES256", "HS256"):
        raise Unsupported(key.alg)
    from jose import jwk, jwt

    parsed = jwk.construct(key.public_jwk, key.alg)
    options = {"leeway": LEEWAY, **{f"require_{name}": True for name in REQUIRED}}

    def verify(token: str) -> Any:
        return jwt.decode(
            token, parsed, algorithms=[key.alg], audience=AUDIENCE, issuer=ISSUER, options=options
        )

    return verify


def jwcrypto(key: Key) -> Verify:
    from jwcrypto import jwk, jwt

    parsed = jwk.JWK(**key.public_jwk)
    checks = {"iss": ISSUER, "aud": AUDIENCE, "exp": None, "nbf": None, "iat": None, "sub": None}

    def verify(token: str) -> Any:
        decoded = jwt.JWT(algs=[key.alg], check_claims=checks, expected_type="JWS")
        decoded.leeway = LEEWAY
        decoded.deserialize(token, parsed)
        return json.loads(decoded.claims)

    return verify


PEERS: dict[str, Callable[[Key], Verify]] = {
    "PyJWT": pyjwt,
    "authlib": authlib,
    "joserfc": joserfc,
    "python-jose": python_jose,
    "jwcrypto": jwcrypto,
}


def tampered(token: str) -> str:
    head, payload, signature = token.split(".")
    flipped = "A" if signature[1] != "A" else "B"
    return f"{head}.{payload}.{signature[0]}{flipped}{signature[2:]}"


def check(name: str, verify: Verify, token: str) -> None:
    """The peer accepts ``token`` with its claims and refuses a tampered copy."""
    claims = verify(token)
    subject = claims["sub"] if isinstance(claims, dict) else claims.get("sub")
    if subject != "user-1234":
        raise AssertionError(f"{name} returned unexpected claims: {claims!r}")
    try:
        verify(tampered(token))
    except Exception:
        return
    raise AssertionError(f"{name} accepted a tampered token")
