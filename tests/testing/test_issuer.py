"""LocalIssuer: a real JWKS and discovery on loopback that RemoteJWKS accepts, and rotation."""

from __future__ import annotations

import threading
from collections.abc import Callable

import httpx
import pytest

from jwt_guard_core import ConfigurationError, KeySource, RemoteJWKS, StaticKeySet, TokenError
from jwt_guard_core.signing import JWKS_MEDIA_TYPE
from jwt_guard_core.testing import DEFAULT_AUDIENCE, LocalIssuer, TokenFactory
from tests.factories import FakeClock

from .conftest import verifier_for

SERVER_THREAD = "jwt-guard-test-issuer"


def server_threads() -> int:
    return sum(t.name == SERVER_THREAD for t in threading.enumerate())


def test_the_jwks_is_served_on_loopback_with_its_media_type(issuer: LocalIssuer) -> None:
    assert issuer.url.startswith("http://127.0.0.1:")
    assert issuer.jwks_url == issuer.url + "/.well-known/jwks.json"
    response = httpx.get(issuer.jwks_url)
    assert response.status_code == 200
    assert response.headers["content-type"] == JWKS_MEDIA_TYPE
    assert response.headers["cache-control"] == "public, max-age=600"
    assert response.json() == issuer.jwks()
    assert [key["kid"] for key in response.json()["keys"]] == [issuer.kid]
    assert "d" not in response.json()["keys"][0]


def test_the_discovery_document_names_the_issuer_and_its_jwks(issuer: LocalIssuer) -> None:
    response = httpx.get(issuer.discovery_url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"issuer": issuer.url, "jwks_uri": issuer.jwks_url}


def test_remote_jwks_from_issuer_finds_the_keys_by_discovery(issuer: LocalIssuer) -> None:
    remote = RemoteJWKS.from_issuer(issuer.url)
    try:
        assert remote.get_key(issuer.kid, "ES256").kid == issuer.kid
        assert remote.url == issuer.jwks_url
        assert remote.health()["state"] == "ok"
    finally:
        remote.close()


def test_head_is_answered_and_other_paths_are_not_found(issuer: LocalIssuer) -> None:
    head = httpx.head(issuer.jwks_url)
    assert head.status_code == 200
    assert head.content == b""
    assert int(head.headers["content-length"]) > 0
    assert httpx.get(issuer.url + "/keys").status_code == 404
    assert httpx.get(issuer.url + "/").status_code == 404


def test_rotation_signs_with_a_new_key_and_keeps_the_old_one_published(
    issuer: LocalIssuer, tokens: TokenFactory, key_source: Callable[[str], KeySource]
) -> None:
    verify = verifier_for(issuer, key_source("jwks")).verify
    before = tokens.token()
    old = issuer.kid
    assert verify(before).kid == old  # the remote key set has now cached the JWKS
    new = issuer.rotate()
    assert new == issuer.kid != old
    assert {k["kid"] for k in issuer.jwks()["keys"]} == {old, new}
    assert verify(tokens.token()).kid == new  # an unknown kid: fetched again
    assert verify(before).kid == old


def test_rotation_without_the_previous_key_removes_it_from_the_jwks(
    issuer: LocalIssuer, tokens: TokenFactory, key_source: Callable[[str], KeySource]
) -> None:
    verify = verifier_for(issuer, key_source("discovery")).verify
    before = tokens.token()
    old = issuer.kid
    assert verify(before).kid == old
    new = issuer.rotate(keep_previous=False)
    assert [k["kid"] for k in httpx.get(issuer.jwks_url).json()["keys"]] == [new]
    assert verify(tokens.token()).kid == new
    with pytest.raises(TokenError) as refused:
        verify(before)
    assert refused.value.reason == "unknown_kid"


def test_close_stops_serving_and_may_be_repeated() -> None:
    threads = server_threads()
    local = LocalIssuer()
    assert server_threads() == threads + 1
    url = local.jwks_url
    assert httpx.get(url).status_code == 200
    local.close()
    local.close()
    assert server_threads() == threads
    with pytest.raises(httpx.ConnectError):
        httpx.get(url)


def test_an_offline_issuer_serves_nothing_and_offers_static_settings() -> None:
    threads = server_threads()
    with LocalIssuer(serve=False) as local:
        assert server_threads() == threads
        assert not local.serving
        assert local.url == "https://issuer.invalid"
        assert local.django_settings()["VERIFYING_KEY"] == local.jwks()
        for source in ("jwks", "discovery"):
            with pytest.raises(ConfigurationError, match="needs an issuer that serves"):
                local.django_settings(source=source)


def test_the_clock_times_tokens_and_key_events() -> None:
    clock = FakeClock(1_900_000_000)
    with LocalIssuer(clock=clock, serve=False) as local:
        claims = verifier_for(local, StaticKeySet.from_jwks(local.jwks()), clock=clock).verify(
            local.tokens().token()
        )
        assert claims.claims["iat"] == 1_900_000_000
        clock.advance(100)
        local.rotate()
        retired = local._keys.list_keys()
        assert [k.retired_at for k in retired if k.state == "retired"] == [1_900_000_100]


@pytest.mark.parametrize(
    ("options", "setting"),
    [
        ({"algorithm": "HS256"}, "algorithm"),
        ({"algorithm": "none"}, "algorithm"),
        ({"algorithm": "RS512"}, "algorithm"),
        ({"audience": ""}, "audience"),
        ({"audience": []}, "audience"),
        ({"clock": 5}, "clock"),
        ({"max_lifetime": 0}, "max_token_lifetime"),
        ({"port": -1}, "port"),
        ({"port": 70000}, "port"),
        ({"port": "8080"}, "port"),
    ],
)
def test_bad_arguments_are_refused_naming_them_and_leave_no_server(
    options: dict[str, object], setting: str
) -> None:
    threads = server_threads()
    with pytest.raises(ConfigurationError) as refused:
        LocalIssuer(**options)  # type: ignore[arg-type]
    assert refused.value.setting == setting
    assert server_threads() == threads


def test_the_default_audience_is_documented() -> None:
    with LocalIssuer(serve=False) as local:
        assert local.audience == DEFAULT_AUDIENCE == "https://api.example.test"
        assert local.algorithm == "ES256"


def test_requests_are_counted_per_route(
    issuer: LocalIssuer, tokens: TokenFactory, key_source: Callable[[str], KeySource]
) -> None:
    assert (issuer.jwks_requests, issuer.discovery_requests) == (0, 0)
    verify = verifier_for(issuer, key_source("discovery")).verify
    verify(tokens.token())
    verify(tokens.token())
    assert (issuer.jwks_requests, issuer.discovery_requests) == (1, 1)
    httpx.get(issuer.url + "/keys")
    assert (issuer.jwks_requests, issuer.discovery_requests) == (1, 1)


def test_an_outage_fails_both_routes_for_the_block_only(
    issuer: LocalIssuer, tokens: TokenFactory, key_source: Callable[[str], KeySource]
) -> None:
    verify = verifier_for(issuer, key_source("jwks")).verify
    with issuer.outage():
        assert httpx.get(issuer.jwks_url).status_code == 503
        assert httpx.get(issuer.discovery_url).status_code == 503
        with pytest.raises(TokenError) as refused:
            verify(tokens.token())
        assert refused.value.reason == "key_source_unavailable"
    with issuer.outage(status=500):
        assert httpx.get(issuer.jwks_url).status_code == 500
    assert httpx.get(issuer.jwks_url).status_code == 200
    assert issuer.jwks_requests == 4


@pytest.mark.parametrize("status", [200, 302, 600, "503", True])
def test_an_outage_needs_an_error_status(issuer: LocalIssuer, status: object) -> None:
    with pytest.raises(ConfigurationError) as refused, issuer.outage(status):  # type: ignore[arg-type]
        pass
    assert refused.value.setting == "status"


def test_an_offline_issuer_has_no_requests_nor_outages() -> None:
    with LocalIssuer(serve=False) as local:
        with pytest.raises(ConfigurationError, match="serves nothing"):
            local.jwks_requests  # noqa: B018
        with pytest.raises(ConfigurationError, match="serves nothing"), local.outage():
            pass
