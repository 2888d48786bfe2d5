"""The attack buttons: forged tokens sent through the real API, and a replayed refresh token.

Each token attack is built on the server from a genuine token the demo's
issuer signs for the demo user, then bent the way attackers bend tokens.
It is sent to the real protected route (``GET /api/me``) inside the same
process, through Flask's test client, from a separate client address
(:data:`ATTACKER_ADDR`, so the attacker meets the failed-verification rate
limit, not the person at the page). The answer shown is the API's own:
status and ``WWW-Authenticate``. The reason is the one jwt-guard gave in its
security events while handling that request (:class:`EventLog.capture`),
never a table in this module.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from flask import Flask

from jwt_guard_core.encoding import DecodeError, b64url_decode, b64url_encode
from jwt_guard_core.signing import KeyManager, TokenIssuer
from jwt_guard_flask import get_key_manager, get_sessions, get_token_issuer

from .data import DemoUser
from .recorder import EventLog, refusal_reason

__all__ = ["ATTACKER_ADDR", "ATTACKS", "Attack", "AttackContext", "replay_refresh_token", "run"]

#: The client address the in-process attacker uses (TEST-NET-1, RFC 5737).
ATTACKER_ADDR = "192.0.2.66"
#: The protected route every token attack is sent to.
TARGET = "/api/me"
OTHER_AUDIENCE = "https://other-api.example"


@dataclass(frozen=True)
class AttackContext:
    """What the attacks build from: the demo's signing side and its user."""

    keys: KeyManager
    issuer: TokenIssuer
    audience: str
    user: DemoUser
    clock: Callable[[], float]

    @classmethod
    def of(cls, app: Flask, user: DemoUser) -> AttackContext:
        clock = app.config.get("JWT_GUARD_CLOCK")
        return cls(
            keys=get_key_manager(app),
            issuer=get_token_issuer(app),
            audience=app.config["JWT_GUARD_ISSUING_AUDIENCE"],
            user=user,
            clock=clock if callable(clock) else time.time,
        )

    def genuine(self, **options: Any) -> str:
        """A real access token for the demo user, as the login would issue."""
        return self.issuer.issue_access_token(self.user.subject, scopes=self.user.scopes, **options)


def _segment(value: Mapping[str, Any]) -> str:
    return b64url_encode(json.dumps(value, separators=(",", ":")).encode())


def _alg_none(ctx: AttackContext) -> str:
    # RFC 8725 section 2.1: an "unsecured" JWT with the signature dropped.
    _, payload, _ = ctx.genuine().split(".")
    return f"{_segment({'alg': 'none', 'typ': 'at+jwt'})}.{payload}."


def _tampered_signature(ctx: AttackContext) -> str:
    head, payload, signature = ctx.genuine().split(".")
    # One character in the middle: still canonical base64url, wrong signature.
    middle = len(signature) // 2
    flipped = "A" if signature[middle] != "A" else "B"
    return f"{head}.{payload}.{signature[:middle]}{flipped}{signature[middle + 1 :]}"


def _expired(ctx: AttackContext) -> str:
    # Really signed by the active key, an hour ago, for 15 minutes.
    hour_ago = ctx.clock() - 3600
    past = TokenIssuer(
        ctx.keys,
        issuer=ctx.issuer.issuer,
        audience=ctx.audience,
        clock=lambda: hour_ago,
    )
    return past.issue_access_token(ctx.user.subject, scopes=ctx.user.scopes)


def _wrong_audience(ctx: AttackContext) -> str:
    # Genuine and valid, but minted for another API (RFC 8725 section 3.9).
    return ctx.genuine(audience=OTHER_AUDIENCE)


def active_public_pem(keys: KeyManager) -> bytes:
    """The PEM (SubjectPublicKeyInfo) of the active signing key, from the published JWKS."""
    kid = keys.active_key().kid
    jwk = next(k for k in keys.jwks()["keys"] if k.get("kid") == kid)
    public = jwt.PyJWK(jwk).key
    pem: bytes = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem


def _hs256_public_key(ctx: AttackContext) -> str:
    # The key-confusion attack: the public key is public, so an attacker
    # HMACs with its PEM, hoping the verifier feeds that same PEM to HS256.
    _, payload, _ = ctx.genuine().split(".")
    header = {"alg": "HS256", "typ": "at+jwt", "kid": ctx.keys.active_key().kid}
    signing_input = f"{_segment(header)}.{payload}".encode()
    mac = hmac.new(active_public_pem(ctx.keys), signing_input, hashlib.sha256).digest()
    return f"{signing_input.decode()}.{b64url_encode(mac)}"


@dataclass(frozen=True)
class Attack:
    """One attack button: its name in the URL, its title and what it tries."""

    kind: str
    title: str
    tries: str
    build: Callable[[AttackContext], str]


ATTACKS: dict[str, Attack] = {
    attack.kind: attack
    for attack in (
        Attack(
            "alg-none",
            "alg: none",
            "a genuine token's claims with the header set to alg none and no signature",
            _alg_none,
        ),
        Attack(
            "tampered-signature",
            "Tampered signature",
            "a genuine token with one character of its signature changed",
            _tampered_signature,
        ),
        Attack(
            "expired",
            "Expired token",
            "a token signed by the active key an hour ago, valid for 15 minutes",
            _expired,
        ),
        Attack(
            "wrong-audience",
            "Wrong audience",
            f"a genuine token minted for another API ({OTHER_AUDIENCE})",
            _wrong_audience,
        ),
        Attack(
            "hs256-public-key",
            "HS256 signed with the public key",
            "the active public key's PEM used as an HMAC secret (algorithm confusion)",
            _hs256_public_key,
        ),
    )
}


def decode_unverified(token: str) -> dict[str, Any]:
    """Header and claims of ``token`` for display only: nothing is verified here."""
    parts = token.split(".")
    shown: dict[str, Any] = {}
    for name, segment in zip(("header", "claims"), parts[:2], strict=False):
        try:
            shown[name] = json.loads(b64url_decode(segment))
        except (DecodeError, ValueError):
            shown[name] = None
    return shown


def _client(app: Flask) -> Any:
    return app.test_client(use_cookies=False)


def _answer(response: Any, events: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "status": response.status_code,
        "www_authenticate": response.headers.get("WWW-Authenticate"),
        "body": response.get_json(silent=True),
        "reason": refusal_reason(events),
        "events": events,
    }


def send_token(app: Flask, log: EventLog, token: str, *, client_addr: str) -> dict[str, Any]:
    """``GET /api/me`` with ``token`` as a Bearer token, in process; the answer and the reason."""
    with log.capture() as events:
        response = _client(app).get(
            TARGET,
            headers={"Authorization": f"Bearer {token}"},
            environ_base={"REMOTE_ADDR": client_addr},
        )
    return _answer(response, events)


def run(app: Flask, log: EventLog, user: DemoUser, kind: str) -> dict[str, Any]:
    """Build attack ``kind``, send it to the API and report what happened on both sides."""
    attack = ATTACKS[kind]
    token = attack.build(AttackContext.of(app, user))
    result = send_token(app, log, token, client_addr=ATTACKER_ADDR)
    return {
        "attack": kind,
        "title": attack.title,
        "tries": attack.tries,
        "request": f"GET {TARGET} with Authorization: Bearer <the forged token>",
        "token": token,
        "decoded": decode_unverified(token),
        **result,
    }


def _set_cookie_value(headers: list[str], name: str) -> str | None:
    for header in headers:
        jar: SimpleCookie = SimpleCookie()
        jar.load(header)
        if name in jar and jar[name].value:
            return jar[name].value
    return None


@dataclass(frozen=True)
class Replay:
    """The replay story's report for the page, and the cookies of the victim's refresh."""

    report: dict[str, Any]
    set_cookies: list[str]


def replay_refresh_token(
    app: Flask, log: EventLog, *, refresh_token: str, victim_addr: str
) -> Replay:
    """A thief replays a refresh token after its owner has spent it.

    1. The owner (the browser) refreshes with ``refresh_token``: it is spent
       and a new pair is issued; its cookies go back to the browser.
    2. The thief, who copied the token earlier, presents it again at
       ``POST /auth/refresh``: jwt-guard detects the reuse and revokes the
       whole session (family).
    3. The owner's brand-new access token is sent to the API: the session
       is revoked, so it is refused too. The person must log in again.
    """
    policy = get_sessions(app).cookie_policy()
    csrf = "demo-replay-csrf"
    client = _client(app)

    def refresh(addr: str) -> tuple[Any, list[dict[str, Any]]]:
        with log.capture() as events:
            response = client.post(
                policy.refresh_path,
                headers={
                    "Cookie": f"{policy.refresh_cookie}={refresh_token}; "
                    f"{policy.csrf_cookie}={csrf}",
                    policy.csrf_header: csrf,
                },
                environ_base={"REMOTE_ADDR": addr},
            )
        return response, events

    owner, owner_events = refresh(victim_addr)
    set_cookies = owner.headers.getlist("Set-Cookie") if owner.status_code == 200 else []
    thief, thief_events = refresh(ATTACKER_ADDR)
    steps = [
        {
            "step": "the owner refreshes: the token is spent, a new pair issued",
            "request": f"POST {policy.refresh_path} (owner's refresh cookie)",
            **_answer(owner, owner_events),
        },
        {
            "step": "the thief presents the same, spent refresh token",
            "request": f"POST {policy.refresh_path} (the copied refresh token)",
            **_answer(thief, thief_events),
        },
    ]
    fresh_access = _set_cookie_value(set_cookies, policy.access_cookie)
    if fresh_access is not None:
        steps.append(
            {
                "step": "the owner's brand-new access token, after the reuse",
                "request": f"GET {TARGET} (the access token from step 1)",
                **send_token(app, log, fresh_access, client_addr=victim_addr),
            }
        )
    report = {
        "attack": "replayed-refresh-token",
        "title": "Replayed refresh token",
        "tries": "a refresh token that was already spent, presented again",
        **{k: steps[1][k] for k in ("status", "www_authenticate", "body", "reason", "events")},
        "steps": steps,
    }
    return Replay(report=report, set_cookies=set_cookies)
