"""The whole-set cache and its TTL from Cache-Control / Expires, within bounds."""

from __future__ import annotations

import time
from email.utils import formatdate

import pytest

from jwt_guard_core import UnknownKid
from tests.core.remote_servers import public_jwk

pytest_plugins = ["tests.core.remote_fixtures"]


def test_first_lookup_fetches_and_later_ones_are_served_from_the_cache(
    jwks_server, make_jwks, jwk_a
):
    jwks_server.serve_keys(jwk_a)
    jwks = make_jwks(jwks_server.url())
    for _ in range(50):
        assert jwks.get_key("a", "RS256").kid == "a"
    assert jwks_server.count() == 1


def test_keys_are_refetched_once_the_ttl_has_passed(jwks_server, make_jwks, clock, jwk_a):
    jwks_server.serve_keys(jwk_a, headers={"Cache-Control": "max-age=600"})
    jwks = make_jwks(jwks_server.url(), refresh_ahead=0)
    jwks.get_key("a", "RS256")
    clock.advance(599)
    jwks.get_key("a", "RS256")
    assert jwks_server.count() == 1
    clock.advance(2)
    jwks.get_key("a", "RS256")  # served while the refresh runs in the background
    jwks.close()  # waits for the background refresh
    assert jwks_server.count() == 2
    assert jwks.health()["expires_in"] == pytest.approx(600, abs=1)


@pytest.mark.parametrize(
    ("headers", "ttl"),
    [
        ({"Cache-Control": "public, max-age=900"}, 900),
        ({"Cache-Control": "max-age=900", "Age": "300"}, 600),
        ({"Cache-Control": "max-age=10"}, 300),  # clamped up to min_ttl
        ({"Cache-Control": "max-age=31536000"}, 86400),  # clamped down to max_ttl
        ({"Cache-Control": "no-store"}, 300),
        ({"Cache-Control": "no-cache, max-age=900"}, 300),
        ({"Cache-Control": "max-age=soon"}, 300),
        ({}, 300),
        ({"Expires": "0"}, 300),
        ({"Cache-Control": "max-age=1200", "Expires": formatdate(usegmt=True)}, 1200),
    ],
)
def test_ttl_comes_from_cache_headers_clamped_to_the_bounds(
    jwks_server, make_jwks, jwk_a, headers, ttl
):
    jwks_server.serve_keys(jwk_a, headers=headers)
    jwks = make_jwks(jwks_server.url())
    assert jwks.warm() is True
    assert jwks.health()["expires_in"] == pytest.approx(ttl)


def test_expires_is_read_against_the_servers_date_so_local_clock_skew_does_not_matter(
    jwks_server, make_jwks, clock, jwk_a
):
    # The server stamps its real Date; the fake clock is far from real time,
    # so only a TTL computed as Expires - Date comes out at two hours.
    assert abs(clock() - time.time()) > 86400
    jwks_server.serve_keys(jwk_a, headers={"Expires": formatdate(time.time() + 7200, usegmt=True)})
    jwks = make_jwks(jwks_server.url())
    jwks.warm()
    assert jwks.health()["expires_in"] == pytest.approx(7200, abs=5)


def test_custom_ttl_bounds_apply(jwks_server, make_jwks, jwk_a):
    jwks_server.serve_keys(jwk_a, headers={"Cache-Control": "max-age=5"})
    jwks = make_jwks(jwks_server.url(), min_ttl=60, max_ttl=120)
    jwks.warm()
    assert jwks.health()["expires_in"] == pytest.approx(60)


def test_rotation_a_new_kid_is_fetched_when_a_token_first_uses_it(
    jwks_server, make_jwks, clock, jwk_a, keyring
):
    jwks_server.serve_keys(jwk_a)
    jwks = make_jwks(jwks_server.url())
    jwks.warm()
    jwk_c = public_jwk(keyring.ed25519, "c")
    jwks_server.serve_keys(jwk_a, jwk_c)
    clock.advance(31)  # past the unknown-kid cooldown
    assert jwks.get_key("c", "EdDSA").kid == "c"
    assert jwks.get_key("a", "RS256").kid == "a"
    assert jwks_server.count() == 2


def test_rotation_a_kid_removed_from_the_set_stops_verifying_after_the_refresh(
    jwks_server, make_jwks, clock, jwk_a, jwk_b
):
    jwks_server.serve_keys(jwk_a, jwk_b, headers={"Cache-Control": "max-age=300"})
    jwks = make_jwks(jwks_server.url(), refresh_ahead=0)
    jwks.warm()
    jwks_server.serve_keys(jwk_b, headers={"Cache-Control": "max-age=300"})
    clock.advance(301)
    jwks.get_key("b", "ES256")  # triggers the background refresh
    jwks.close()
    with pytest.raises(UnknownKid) as info:
        jwks.get_key("a", "RS256")
    assert info.value.reason == "unknown_kid"
    assert info.value.status == 401
    assert jwks.health()["kids"] == ["b"]


def test_a_token_without_kid_uses_the_only_key_that_fits_its_algorithm(
    jwks_server, make_jwks, keyring
):
    jwks_server.serve_keys(public_jwk(keyring.rsa, "a"), public_jwk(keyring.p256, "b"))
    jwks = make_jwks(jwks_server.url())
    assert jwks.get_key(None, "ES256").kid == "b"
    assert jwks.get_key(None, "RS256").kid == "a"
