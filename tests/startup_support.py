"""Shared by the start-up check tests (core, Django, Flask): providers that are wrong or gone."""

from __future__ import annotations

import json
import socket
from typing import Any

from pytest_httpserver import HTTPServer

EVIL_ISSUER = "https://evil.example"
DISCOVERY = "/.well-known/openid-configuration"


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released): connection refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_discovery(server: HTTPServer, jwks: dict[str, Any], *, issuer: str = EVIL_ISSUER) -> str:
    """Serve a discovery document naming ``issuer`` and its key set; the server's origin.

    By default the document is for another issuer than the server's own
    origin, the URL a configuration discovers from.
    """
    server.expect_request(DISCOVERY).respond_with_json(
        {"issuer": issuer, "jwks_uri": server.url_for("/keys")}
    )
    server.expect_request("/keys").respond_with_data(
        json.dumps(jwks), content_type="application/json"
    )
    return str(server.url_for("/").rstrip("/"))
