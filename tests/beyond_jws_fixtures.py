"""Fixtures for the adapters' INTROSPECTION and JWE settings tests (a pytest plugin).

Load with ``pytest_plugins = ["tests.core.remote_fixtures", "tests.beyond_jws_fixtures"]``.
The introspection endpoint is :class:`tests.core.introspection_server.AuthServer`
on a real loopback server; the client secret comes from an environment
variable, as the settings require. The decryption key is an EC P-256 PEM
file (mode 0600).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from werkzeug import Request, Response

from tests.beyond_jws_support import DOWN_PATH, OPAQUE, SECRET_ENV
from tests.core.introspection_server import SECRET, AuthServer, active
from tests.core.remote_servers import JWKSServer
from tests.factories import AUDIENCE


@pytest.fixture
def auth_server(jwks_server: JWKSServer) -> AuthServer:
    """The introspection endpoint: OPAQUE is active for AUDIENCE, anything else inactive.

    ``DOWN_PATH`` on the same server answers 500, an outage.
    """
    server = AuthServer(jwks_server)
    server.answers[OPAQUE] = active(aud=AUDIENCE)

    def down(request: Request) -> Response:
        return Response("upstream down", status=500)

    jwks_server.add(DOWN_PATH, down)
    return server


@pytest.fixture
def secret_env(monkeypatch: pytest.MonkeyPatch) -> str:
    """The client secret, in the environment variable the settings name."""
    monkeypatch.setenv(SECRET_ENV, SECRET)
    return SECRET_ENV


@pytest.fixture(scope="session")
def enc_private_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture
def enc_key_file(tmp_path: Path, enc_private_key: ec.EllipticCurvePrivateKey) -> Path:
    """The decryption key as a PKCS#8 PEM file, mode 0600."""
    path = tmp_path / "api-enc.pem"
    path.write_bytes(
        enc_private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    os.chmod(path, 0o600)
    return path
