"""Unknown kid: at most one refetch, then a cooldown in which unknown kids fail fast."""

from __future__ import annotations

import pytest

from jwt_guard_core import AlgorithmNotAllowed, KeySourceUnavailable, UnknownKid
from tests.core.remote_servers import named

pytest_plugins = ["tests.core.remote_fixtures"]


def test_an_unknown_kid_refetches_once_then_fails_fast_during_the_cooldown(
    jwks_server, make_jwks, clock, jwk_a, seen
):
    jwks_server.serve_keys(jwk_a)
    jwks = make_jwks(jwks_server.url())
    jwks.warm()
    clock.advance(31)
    with pytest.raises(UnknownKid) as info:
        jwks.get_key("nope", "RS256")
    assert info.value.reason == "unknown_kid"
    assert jwks_server.count() == 2
    for n in range(100):
        with pytest.raises(UnknownKid):
            jwks.get_key(f"random-{n}", "RS256")
    assert jwks_server.count() == 2
    cooldowns = named(seen, "jwks_cooldown")
    assert len(cooldowns) == 100
    assert cooldowns[0].reason == "unknown_kid"
    assert cooldowns[0].fields["kid"] == "random-0"
    assert cooldowns[0].fields["retry_in"] == pytest.approx(30)


def test_after_the_cooldown_an_unknown_kid_may_refetch_again(jwks_server, make_jwks, clock, jwk_a):
    jwks_server.serve_keys(jwk_a)
    jwks = make_jwks(jwks_server.url())
    jwks.warm()
    clock.advance(29)
    with pytest.raises(UnknownKid):
        jwks.get_key("nope", "RS256")
    assert jwks_server.count() == 1
    clock.advance(2)
    with pytest.raises(UnknownKid):
        jwks.get_key("nope", "RS256")
    assert jwks_server.count() == 2


def test_the_cooldown_is_configurable(jwks_server, make_jwks, clock, jwk_a):
    jwks_server.serve_keys(jwk_a)
    jwks = make_jwks(jwks_server.url(), unknown_kid_cooldown=120)
    jwks.warm()
    clock.advance(119)
    with pytest.raises(UnknownKid):
        jwks.get_key("nope", "RS256")
    assert jwks_server.count() == 1


def test_a_very_long_kid_is_truncated_in_the_cooldown_event(jwks_server, make_jwks, jwk_a, seen):
    jwks_server.serve_keys(jwk_a)
    jwks = make_jwks(jwks_server.url())
    jwks.warm()
    with pytest.raises(UnknownKid):
        jwks.get_key("x" * 500, "RS256")
    (event,) = named(seen, "jwks_cooldown")
    assert len(event.fields["kid"]) < 80


def test_a_known_kid_with_an_algorithm_it_is_not_bound_to_is_refused_without_a_fetch(
    jwks_server, make_jwks, clock, jwk_a
):
    jwks_server.serve_keys(jwk_a)
    jwks = make_jwks(jwks_server.url())
    jwks.warm()
    clock.advance(31)
    with pytest.raises(AlgorithmNotAllowed) as info:
        jwks.get_key("a", "ES256")
    assert info.value.reason == "alg_not_allowed"
    assert jwks_server.count() == 1


def test_an_unknown_kid_while_the_provider_fails_is_unavailable_not_invalid(
    jwks_server, make_jwks, clock, jwk_a
):
    # The new kid may be a rotation we cannot see: the honest answer is 503.
    jwks_server.serve_keys(jwk_a)
    jwks = make_jwks(jwks_server.url())
    jwks.warm()
    jwks_server.serve("down", status=500, content_type="text/plain")
    clock.advance(31)
    with pytest.raises(KeySourceUnavailable) as info:
        jwks.get_key("rotated", "RS256")
    assert info.value.status == 503
    assert jwks.get_key("a", "RS256").kid == "a"  # the cached key still serves


async def test_async_unknown_kid_refetches_once_then_fails_fast(
    jwks_server, make_jwks, clock, jwk_a
):
    jwks_server.serve_keys(jwk_a)
    jwks = make_jwks(jwks_server.url())
    await jwks.awarm()
    clock.advance(31)
    for _ in range(20):
        with pytest.raises(UnknownKid):
            await jwks.aget_key("nope", "RS256")
    await jwks.aclose()
    assert jwks_server.count() == 2
