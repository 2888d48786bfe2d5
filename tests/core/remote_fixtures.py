"""Fixtures for the remote key set tests (a pytest plugin).

A test module loads them with ``pytest_plugins = ["tests.core.remote_fixtures"]``
(tests/core/conftest.py belongs to the core pipeline tests) and imports
helpers from ``tests.core.remote_servers``. Servers are real, on 127.0.0.1;
TLS uses a trustme CA.
"""

from __future__ import annotations

import logging
import ssl
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import trustme

from jwt_guard_core import events
from jwt_guard_core.events import SecurityEvent
from jwt_guard_core.remote import RemoteJWKS
from tests.core.remote_servers import JWKSServer, RawServer, public_jwk
from tests.factories import KeyRing


@pytest.fixture
def jwks_server() -> Iterator[JWKSServer]:
    server = JWKSServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def other_server() -> Iterator[JWKSServer]:
    server = JWKSServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def tls_ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_server(tls_ca: trustme.CA) -> Iterator[JWKSServer]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls_ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    server = JWKSServer(ssl_context=context)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def client_tls(tls_ca: trustme.CA) -> ssl.SSLContext:
    """A client context that trusts the test CA (and nothing else)."""
    context = ssl.create_default_context()
    tls_ca.configure_trust(context)
    return context


@pytest.fixture
def jwk_a(keyring: KeyRing) -> dict[str, Any]:
    """The session RSA key as JWK ``a``."""
    return public_jwk(keyring.rsa, "a")


@pytest.fixture
def jwk_b(keyring: KeyRing) -> dict[str, Any]:
    """The session P-256 key as JWK ``b``."""
    return public_jwk(keyring.p256, "b")


@pytest.fixture
def seen() -> Iterator[list[SecurityEvent]]:
    """Every security event emitted during the test, in order."""
    captured: list[SecurityEvent] = []
    lock = threading.Lock()

    def hook(event: SecurityEvent) -> None:
        with lock:
            captured.append(event)

    unsubscribe = events.subscribe(hook)
    # The werkzeug server logs each request; keep test output readable.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    yield captured
    unsubscribe()


@pytest.fixture
def make_jwks(clock: Callable[[], float]) -> Iterator[Callable[..., RemoteJWKS]]:
    """``make_jwks(url, **options)``: a RemoteJWKS on the fake clock, closed after the test."""
    made: list[RemoteJWKS] = []

    def _make(url: str, **options: Any) -> RemoteJWKS:
        options.setdefault("clock", clock)
        jwks = RemoteJWKS(url, **options)
        made.append(jwks)
        return jwks

    yield _make
    for jwks in made:
        jwks.close()


@pytest.fixture
def make_discovered(clock: Callable[[], float]) -> Iterator[Callable[..., RemoteJWKS]]:
    """``make_discovered(issuer, **options)``: RemoteJWKS.from_issuer on the fake clock."""
    made: list[RemoteJWKS] = []

    def _make(issuer: str, **options: Any) -> RemoteJWKS:
        options.setdefault("clock", clock)
        jwks = RemoteJWKS.from_issuer(issuer, **options)
        made.append(jwks)
        return jwks

    yield _make
    for jwks in made:
        jwks.close()


@pytest.fixture
def raw_server() -> Iterator[RawServer]:
    server = RawServer()
    yield server
    server.close()


@pytest.fixture
def tls_raw_server(tls_ca: trustme.CA) -> Iterator[RawServer]:
    """A RawServer speaking TLS with a certificate for 127.0.0.1 from the test CA."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls_ca.issue_cert("127.0.0.1").configure_cert(context)
    server = RawServer(tls=context)
    yield server
    server.close()
