"""Cold start: one TLS context per process, its CA certificates loaded at the first handshake.

Building a TLS context with certifi's bundle takes tens of milliseconds; a
key set fetched over plain http on loopback must never pay it, and every
key set with the default trust shares one context.
"""

from __future__ import annotations

import asyncio

import pytest

from jwt_guard_core import KeySourceUnavailable, _remote_transport
from jwt_guard_core._remote_transport import default_tls_context

pytest_plugins = ["tests.core.remote_fixtures"]


@pytest.fixture
def fresh_context(monkeypatch):
    """A process context not yet created, as at the start of a process."""
    monkeypatch.setattr(_remote_transport, "_default_context", None)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)


def test_plain_http_on_loopback_loads_no_certificates(fresh_context, jwks_server, make_jwks, jwk_a):
    jwks_server.serve_keys(jwk_a)
    jwks = make_jwks(jwks_server.url())
    assert jwks.get_key("a", "RS256").kid == "a"
    assert default_tls_context()._trust_loaded is False  # type: ignore[attr-defined]


def test_every_key_set_shares_the_process_context(fresh_context, make_jwks):
    first = make_jwks("https://idp.example/jwks")._transports.options["verify"]
    second = make_jwks("https://other.example/jwks")._transports.options["verify"]
    assert first is second is default_tls_context()


def test_a_context_given_by_the_user_is_used_as_it_is(make_jwks, client_tls):
    assert (
        make_jwks("https://idp.example/jwks", verify=client_tls)._transports.options["verify"]
        is client_tls
    )


@pytest.fixture
def trusted_by_env(fresh_context, monkeypatch, tls_server, tls_ca, make_jwks, jwk_a, tmp_path):
    """A key set on the TLS server, trusted through SSL_CERT_FILE (as httpx honours it)."""
    bundle = tmp_path / "ca.pem"
    tls_ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    tls_server.serve_keys(jwk_a)
    return make_jwks(tls_server.url())


def test_the_default_trust_is_loaded_at_the_first_handshake(trusted_by_env):
    jwks = trusted_by_env
    assert default_tls_context()._trust_loaded is False  # type: ignore[attr-defined]
    assert jwks.get_key("a", "RS256").kid == "a"
    assert default_tls_context()._trust_loaded is True  # type: ignore[attr-defined]


def test_the_async_client_loads_the_default_trust_too(trusted_by_env):
    jwks = trusted_by_env

    async def fetch():
        try:
            return await jwks.aget_key("a", "RS256")
        finally:
            await jwks.aclose()

    assert asyncio.run(fetch()).kid == "a"


def test_the_default_trust_still_refuses_an_unknown_ca(fresh_context, tls_server, make_jwks, jwk_a):
    tls_server.serve_keys(jwk_a)
    jwks = make_jwks(tls_server.url())
    with pytest.raises(KeySourceUnavailable):
        jwks.get_key("a", "RS256")
    assert default_tls_context()._trust_loaded is True  # type: ignore[attr-defined]
