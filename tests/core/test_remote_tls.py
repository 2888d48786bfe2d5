"""Real TLS (a trustme CA): verification on by default, custom trust, no downgrade."""

from __future__ import annotations

import pytest
from werkzeug import Response

from jwt_guard_core import ConfigurationError, KeySourceUnavailable
from tests.core.remote_servers import named

pytest_plugins = ["tests.core.remote_fixtures"]


def test_https_key_set_is_fetched_with_a_trusted_ca_context(
    tls_server, make_jwks, client_tls, jwk_a
):
    tls_server.serve_keys(jwk_a)
    url = tls_server.url()
    assert url.startswith("https://127.0.0.1:")
    jwks = make_jwks(url, verify=client_tls)
    assert jwks.get_key("a", "RS256").kid == "a"


def test_a_ca_bundle_path_is_accepted_for_verify(tls_server, tls_ca, make_jwks, jwk_a, tmp_path):
    bundle = tmp_path / "ca.pem"
    tls_ca.cert_pem.write_to_path(str(bundle))
    tls_server.serve_keys(jwk_a)
    jwks = make_jwks(tls_server.url(), verify=str(bundle))
    assert jwks.get_key("a", "RS256").kid == "a"
    jwks_path = make_jwks(tls_server.url(), verify=bundle)
    assert jwks_path.get_key("a", "RS256").kid == "a"


def test_an_untrusted_certificate_is_a_tls_failure_not_a_key_set(
    tls_server, make_jwks, jwk_a, seen
):
    tls_server.serve_keys(jwk_a)
    jwks = make_jwks(tls_server.url())  # default trust store: the test CA is unknown
    with pytest.raises(KeySourceUnavailable) as info:
        jwks.get_key("a", "RS256")
    assert info.value.status == 503
    (failed,) = named(seen, "jwks_fetch_failed")
    assert failed.reason == "tls_error"
    assert "CERTIFICATE_VERIFY_FAILED" in failed.fields["error"]


async def test_async_https_fetch_uses_the_same_trust(
    tls_server, make_jwks, client_tls, jwk_a, seen
):
    tls_server.serve_keys(jwk_a)
    trusted = make_jwks(tls_server.url(), verify=client_tls)
    assert (await trusted.aget_key("a", "RS256")).kid == "a"
    untrusted = make_jwks(tls_server.url())
    with pytest.raises(KeySourceUnavailable):
        await untrusted.aget_key("a", "RS256")
    await trusted.aclose()
    await untrusted.aclose()
    assert named(seen, "jwks_fetch_failed")[0].reason == "tls_error"


def test_a_redirect_from_https_to_http_is_refused(
    tls_server, jwks_server, make_jwks, client_tls, jwk_a, seen
):
    jwks_server.serve_keys(jwk_a)
    # Same host and port number, plain http: a downgrade.
    downgrade = tls_server.url().replace("https://", "http://")
    tls_server.handle(lambda request: Response(status=302, headers={"Location": downgrade}))
    jwks = make_jwks(tls_server.url(), verify=client_tls)
    assert jwks.warm() is False
    (failed,) = named(seen, "jwks_fetch_failed")
    assert failed.reason == "redirect_refused"


def test_a_missing_ca_bundle_is_a_configuration_error(tmp_path):
    from jwt_guard_core.remote import RemoteJWKS

    with pytest.raises(ConfigurationError) as info:
        RemoteJWKS("https://idp.example/jwks", verify=str(tmp_path / "missing.pem"))
    assert info.value.setting == "verify"


def test_disabling_verification_is_logged_as_a_warning(caplog):
    from jwt_guard_core.remote import RemoteJWKS

    with caplog.at_level("WARNING", logger="jwt_guard.remote"):
        RemoteJWKS("https://idp.example/jwks", verify=False).close()
    assert "verification is disabled" in caplog.text
