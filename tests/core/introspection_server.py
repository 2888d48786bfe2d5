"""An RFC 7662 introspection endpoint for tests: a real handler on a loopback server.

It checks the resource server's client authentication the way a real
authorization server does and answers from a table of tokens
(``answers``); tokens it does not know are inactive. Shared by the core
introspection tests and the adapters' settings tests.
"""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import parse_qs, unquote_plus

from werkzeug import Request, Response

from jwt_guard_core.encoding import b64url_encode
from tests.core.remote_servers import JWKSServer
from tests.factories import NOW, sign

PATH = "/introspect"
CLIENT_ID = "orders-api"
# A ":" and a "+" in the secret: RFC 6749 2.3.1 form-encodes both parts.
SECRET = "s3cret:with+odd chars"
API = "https://api.example/orders"
TOKEN = "2YotnFZFEjr1zCsicMWpAA"
SIGNED = "application/token-introspection+jwt"


def active(**members: Any) -> dict[str, Any]:
    """An active answer at NOW; ``None`` values drop a member."""
    base: dict[str, Any] = {
        "active": True,
        "scope": "orders:read profile",
        "client_id": "mobile-app",
        "username": "alice",
        "sub": "user-1",
        "aud": API,
        "exp": int(NOW) + 600,
        "iat": int(NOW) - 60,
        "token_type": "Bearer",
    }
    base.update(members)
    return {k: v for k, v in base.items() if v is not None}


class AuthServer:
    """An introspection endpoint: checks client auth, answers from ``answers``."""

    def __init__(self, server: JWKSServer, auth: str = "basic") -> None:
        self.server = server
        self.auth = auth
        self.answers: dict[str, dict[str, Any]] = {}
        self.forms: list[dict[str, str]] = []
        server.handle(self, path=PATH)

    @property
    def issuer(self) -> str:
        return self.server.origin

    @property
    def url(self) -> str:
        return self.server.url(PATH)

    def count(self) -> int:
        return self.server.count(PATH)

    def authenticated(self, request: Request, form: dict[str, str]) -> bool:
        if self.auth == "basic":
            header = request.headers.get("Authorization", "")
            if not header.startswith("Basic "):
                return False
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            return (unquote_plus(user), unquote_plus(password)) == (CLIENT_ID, SECRET)
        if self.auth == "post":
            return form.get("client_id") == CLIENT_ID and form.get("client_secret") == SECRET
        return False

    def __call__(self, request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs(request.get_data(as_text=True)).items()}
        self.forms.append(form)
        if request.method != "POST" or not self.authenticated(request, form):
            return Response(
                '{"error": "invalid_client"}', status=401, content_type="application/json"
            )
        answer = self.answers.get(form.get("token", ""), {"active": False})
        return Response(json.dumps(answer), content_type="application/json")


def serve_metadata(server: JWKSServer, path: str, issuer: str, endpoint: str) -> None:
    document = {"issuer": issuer, "introspection_endpoint": endpoint}
    server.add(
        path, lambda request: Response(json.dumps(document), content_type="application/json")
    )


class SignedServer:
    """Answers with ``application/token-introspection+jwt`` signed by the AS key."""

    def __init__(self, server: JWKSServer, key: Any, alg: str = "ES256") -> None:
        self.server, self.key, self.alg = server, key, alg
        self.members: dict[str, Any] = active()
        self.header: dict[str, Any] = {"alg": alg, "kid": "as-1", "typ": "token-introspection+jwt"}
        self.claims: dict[str, Any] = {}
        self.tamper = False
        self.content_type = SIGNED
        server.handle(self, path=PATH)

    def __call__(self, request: Request) -> Response:
        assert request.headers["Accept"] == SIGNED
        payload = {
            "iss": self.server.origin,
            "aud": CLIENT_ID,
            "iat": int(NOW),
            "token_introspection": self.members,
            **self.claims,
        }
        body = sign(self.header, payload, self.key, self.alg)
        if self.tamper:
            head, _, rest = body.partition(".")
            payload["token_introspection"] = {**self.members, "scope": "admin"}
            forged = b64url_encode(json.dumps(payload).encode())
            body = f"{head}.{forged}.{rest.partition('.')[2]}"
        return Response(body, content_type=self.content_type)
