"""The published JWKS served over real HTTP on loopback, read by RemoteJWKS.

The adapters' JWKS routes serve ``KeyManager.jwks_response()`` as is; here a
real pytest-httpserver does, so the document, its media type and its cache
lifetime are checked against the real remote key source.
"""

from __future__ import annotations

import json

import pytest
from werkzeug import Request, Response

from jwt_guard_core import ConfigurationError, GuardConfig, UnknownKid, Verifier
from jwt_guard_core.remote import RemoteJWKS
from jwt_guard_core.signing import JWKS_MEDIA_TYPE, KeyManager, TokenIssuer

AUDIENCE = "https://api.example"


@pytest.fixture
def served(httpserver, manager):
    """The manager's JWKS and discovery document served at the test server's root."""
    issuer_url = httpserver.url_for("/").rstrip("/")
    issuer = TokenIssuer(manager, issuer=issuer_url, audience=AUDIENCE)

    def jwks(request: Request) -> Response:
        reply = manager.jwks_response()
        return Response(reply.body, status=reply.status, headers=dict(reply.headers))

    def discovery(request: Request) -> Response:
        doc = issuer.openid_configuration(httpserver.url_for("/.well-known/jwks.json"))
        return Response(json.dumps(doc), content_type="application/json")

    httpserver.expect_request("/.well-known/jwks.json").respond_with_handler(jwks)
    httpserver.expect_request("/.well-known/openid-configuration").respond_with_handler(discovery)
    return issuer


def _jwks_fetches(httpserver) -> int:
    return sum(1 for request, _ in httpserver.log if request.path == "/.well-known/jwks.json")


def _verifier(issuer: TokenIssuer, remote: RemoteJWKS, clock) -> Verifier:
    return Verifier(
        GuardConfig(
            algorithms=["ES256"],
            keys=remote,
            issuer=issuer.issuer,
            audience=AUDIENCE,
            expected_type="at+jwt",
            clock=clock,
        )
    )


def test_jwks_response_is_compact_json_with_its_media_type_and_cache_lifetime(manager):
    reply = manager.jwks_response()
    assert reply.status == 200
    assert reply.headers["Content-Type"] == JWKS_MEDIA_TYPE == "application/jwk-set+json"
    assert reply.headers["Cache-Control"] == "public, max-age=600"
    assert json.loads(reply.body) == manager.jwks()
    assert b" " not in reply.body


def test_remote_verifier_found_by_discovery_follows_rotation_and_emergency(
    httpserver, served, manager, clock
):
    remote = RemoteJWKS.from_issuer(served.issuer, clock=clock, refresh_ahead=None)
    try:
        verifier = _verifier(served, remote, clock)
        before = served.issue_access_token("user-1")
        assert verifier.verify(before).kid == manager.active_key().kid

        clock.advance(60)  # past RemoteJWKS's unknown-kid cooldown
        new_kid = manager.rotate().kid
        after = served.issue_access_token("user-1")
        assert verifier.verify(after).kid == new_kid  # refetched on the unknown kid
        assert verifier.verify(before).subject == "user-1"  # the retired key is still published

        clock.advance(60)
        manager.emergency_rotate()
        # Until its cache expires the verifier still holds the old keys; the
        # emergency epoch (revocation) is what covers that window.
        assert verifier.verify(before).subject == "user-1"
        clock.advance(manager.jwks_max_age)
        assert remote.warm() is True  # the cache expired: the JWKS is fetched again
        for old in (before, after):
            with pytest.raises(UnknownKid) as info:
                verifier.verify(old)
            assert info.value.reason == "unknown_kid"
            assert info.value.status == 401
        assert verifier.verify(served.issue_access_token("user-1")).subject == "user-1"
    finally:
        remote.close()


def test_remote_verifier_with_a_cached_jwks_knows_the_successor_before_it_signs(
    httpserver, served, manager, clock
):
    remote = RemoteJWKS(
        httpserver.url_for("/.well-known/jwks.json"), clock=clock, refresh_ahead=None
    )
    try:
        verifier = _verifier(served, remote, clock)
        manager.active_key()
        clock.advance(manager.rotation_interval - 2 * manager.jwks_max_age)
        assert manager.maybe_rotate().published
        verifier.verify(served.issue_access_token("user-1"))
        fetches = _jwks_fetches(httpserver)
        clock.advance(2 * manager.jwks_max_age - 1)
        assert remote.warm() is True  # the cache refreshed within max-age
        fetches = _jwks_fetches(httpserver)
        clock.advance(1)
        token = served.issue_access_token("user-1")  # the successor signs now
        assert verifier.verify(token).kid == manager.active_key().kid
        assert _jwks_fetches(httpserver) == fetches  # no refetch was needed
    finally:
        remote.close()


def test_openid_configuration_names_the_issuer_and_the_jwks_uri(manager):
    issuer = TokenIssuer(manager, issuer="https://auth.example", audience=AUDIENCE)
    assert issuer.openid_configuration("https://auth.example/.well-known/jwks.json") == {
        "issuer": "https://auth.example",
        "jwks_uri": "https://auth.example/.well-known/jwks.json",
    }


@pytest.mark.parametrize("uri", ["", "/relative/jwks.json", "ftp://x/jwks", None])
def test_openid_configuration_refuses_a_jwks_uri_that_is_not_an_absolute_url(manager, uri):
    issuer = TokenIssuer(manager, issuer="https://auth.example", audience=AUDIENCE)
    with pytest.raises(ConfigurationError) as info:
        issuer.openid_configuration(uri)
    assert info.value.setting == "jwks_uri"


def test_hmac_manager_serves_an_empty_jwks(make_manager):
    manager: KeyManager = make_manager(algorithm="HS256", allow_hmac=True)
    assert json.loads(manager.jwks_response().body) == {"keys": []}
