"""OIDC discovery: issuer -> openid-configuration -> jwks_uri, with the issuer checked exactly."""

from __future__ import annotations

import json

import pytest
from werkzeug import Response

from jwt_guard_core import ConfigurationError, KeySourceUnavailable
from jwt_guard_core.remote import RemoteJWKS
from tests.core.remote_servers import JSON, jwks_response, named

pytest_plugins = ["tests.core.remote_fixtures"]

DISCOVERY = "/.well-known/openid-configuration"


MISSING = object()
DEFAULT = object()


def provider(server, *, issuer=DEFAULT, jwks_uri=None, headers=None):
    """Serve a discovery document for ``server`` (its own origin is the issuer by default)."""
    doc = {
        "issuer": server.origin if issuer is DEFAULT else issuer,
        "jwks_uri": jwks_uri or server.url("/keys"),
        "authorization_endpoint": server.url("/authorize"),
    }
    if issuer is MISSING:
        del doc["issuer"]
    server.add(
        DISCOVERY,
        lambda request: Response(json.dumps(doc), headers=headers or {}, content_type=JSON),
    )
    return doc


def test_keys_are_found_through_the_discovery_document(jwks_server, make_discovered, jwk_a):
    jwks_server.handle(jwks_response(jwk_a), path="/keys")
    provider(jwks_server)
    jwks = make_discovered(jwks_server.origin)
    assert jwks.url is None
    assert jwks.get_key("a", "RS256").kid == "a"
    assert jwks.url == jwks_server.url("/keys")
    assert jwks.issuer == jwks_server.origin
    assert jwks_server.count(DISCOVERY) == 1
    assert jwks_server.count("/keys") == 1


def test_an_issuer_with_a_path_keeps_it_before_the_well_known_suffix(
    jwks_server, make_discovered, jwk_a
):
    issuer = jwks_server.url("/realms/main")
    jwks_server.handle(jwks_response(jwk_a), path="/keys")
    jwks_server.add(
        "/realms/main" + DISCOVERY,
        lambda request: Response(
            json.dumps({"issuer": issuer, "jwks_uri": jwks_server.url("/keys")}), content_type=JSON
        ),
    )
    jwks = make_discovered(issuer)
    assert jwks.get_key("a", "RS256").kid == "a"


@pytest.mark.parametrize(
    "published",
    ["{origin}/", "{origin}/other", "https://evil.example", "{upper}", "", MISSING, None, 42],
)
def test_a_discovery_document_for_another_issuer_is_refused_and_no_keys_are_fetched(
    jwks_server, make_discovered, jwk_a, seen, published
):
    origin = jwks_server.origin
    if isinstance(published, str):
        published = published.format(origin=origin, upper=origin.upper())
    jwks_server.handle(jwks_response(jwk_a), path="/keys")
    provider(jwks_server, issuer=published)
    jwks = make_discovered(origin)
    with pytest.raises(KeySourceUnavailable) as info:
        jwks.get_key("a", "RS256")
    assert info.value.status == 503
    (failed,) = named(seen, "jwks_fetch_failed")
    assert failed.reason == "issuer_mismatch"
    assert failed.fields["url"] == jwks_server.url(DISCOVERY)
    assert jwks_server.count("/keys") == 0
    assert jwks.health()["last_error"].startswith("issuer_mismatch")


def test_a_trailing_slash_in_the_configured_issuer_must_match_the_document_too(
    jwks_server, make_discovered, jwk_a
):
    jwks_server.handle(jwks_response(jwk_a), path="/keys")
    provider(jwks_server, issuer=jwks_server.origin + "/")
    jwks = make_discovered(jwks_server.origin + "/")
    assert jwks.get_key("a", "RS256").kid == "a"
    assert jwks_server.count(DISCOVERY) == 1  # no double slash in the well-known URL


@pytest.mark.parametrize(
    "jwks_uri",
    ["http://idp.example/keys", "ftp://idp.example/keys", "not a url", "https://u:p@idp.example/"],
)
def test_a_jwks_uri_that_is_not_https_is_refused(jwks_server, make_discovered, seen, jwks_uri):
    provider(jwks_server, jwks_uri=jwks_uri)
    jwks = make_discovered(jwks_server.origin)
    assert jwks.warm() is False
    (failed,) = named(seen, "jwks_fetch_failed")
    assert failed.reason == "bad_discovery"


def test_the_discovery_document_is_cached_under_its_own_ttl(
    jwks_server, make_discovered, clock, jwk_a
):
    jwks_server.handle(jwks_response(jwk_a), path="/keys")
    provider(jwks_server, headers={"Cache-Control": "max-age=3600"})
    jwks = make_discovered(jwks_server.origin)
    jwks.warm()
    clock.advance(301)  # the keys (default 300 s) expire, the document does not
    jwks.warm()
    assert jwks_server.count("/keys") == 2
    assert jwks_server.count(DISCOVERY) == 1
    clock.advance(3600)
    jwks.warm()
    assert jwks_server.count(DISCOVERY) == 2


def test_a_new_jwks_uri_in_the_document_is_followed(
    jwks_server, make_discovered, clock, jwk_a, jwk_b
):
    jwks_server.handle(jwks_response(jwk_a), path="/keys")
    jwks_server.add("/keys-v2", jwks_response(jwk_b))
    doc = {"issuer": jwks_server.origin, "jwks_uri": jwks_server.url("/keys")}
    jwks_server.add(DISCOVERY, lambda request: Response(json.dumps(doc), content_type=JSON))
    jwks = make_discovered(jwks_server.origin)
    jwks.warm()
    doc["jwks_uri"] = jwks_server.url("/keys-v2")
    clock.advance(301)
    jwks.warm()
    assert jwks.url == jwks_server.url("/keys-v2")
    assert jwks.health()["kids"] == ["b"]


def test_when_discovery_fails_later_the_last_jwks_uri_keeps_working(
    jwks_server, make_discovered, clock, jwk_a, seen
):
    jwks_server.handle(jwks_response(jwk_a), path="/keys")
    provider(jwks_server)
    jwks = make_discovered(jwks_server.origin)
    jwks.warm()
    jwks_server.http.clear_all_handlers()
    jwks_server.add("/keys", jwks_response(jwk_a))
    jwks_server.add(DISCOVERY, lambda request: Response("down", status=500))
    clock.advance(301)
    assert jwks.warm() is True
    assert jwks_server.count("/keys") == 2
    (failed,) = named(seen, "jwks_fetch_failed")
    assert failed.fields["document"] == "discovery"
    assert jwks.health()["state"] == "ok"


def test_discovery_with_nothing_cached_and_provider_down_is_unavailable(
    jwks_server, make_discovered
):
    jwks_server.add(DISCOVERY, lambda request: Response("down", status=503))
    jwks = make_discovered(jwks_server.origin)
    with pytest.raises(KeySourceUnavailable):
        jwks.get_key("a", "RS256")
    assert jwks.health()["state"] == "unavailable"
    assert jwks.url is None


async def test_async_discovery(jwks_server, make_discovered, jwk_a):
    jwks_server.handle(jwks_response(jwk_a), path="/keys")
    provider(jwks_server)
    jwks = make_discovered(jwks_server.origin)
    assert (await jwks.aget_key("a", "RS256")).kid == "a"
    await jwks.aclose()
    assert jwks_server.count(DISCOVERY) == 1


def test_discovery_over_tls(tls_server, make_discovered, client_tls, jwk_a):
    tls_server.handle(jwks_response(jwk_a), path="/keys")
    provider(tls_server)
    jwks = make_discovered(tls_server.origin, verify=client_tls)
    assert jwks.get_key("a", "RS256").kid == "a"


@pytest.mark.parametrize(
    "issuer",
    ["http://idp.example", "https://idp.example/?tenant=1", "https://idp.example/#x", "", None],
)
def test_an_unusable_issuer_is_a_configuration_error(issuer):
    with pytest.raises(ConfigurationError) as info:
        RemoteJWKS.from_issuer(issuer)
    assert info.value.setting == "issuer"


def test_from_issuer_takes_the_same_options_and_validates_them():
    with pytest.raises(ConfigurationError) as info:
        RemoteJWKS.from_issuer("https://idp.example", timeout=0)
    assert info.value.setting == "timeout"
    jwks = RemoteJWKS.from_issuer("http://idp.internal", allow_http=True, min_ttl=10)
    assert repr(jwks) == "RemoteJWKS.from_issuer('http://idp.internal')"
    jwks.close()
