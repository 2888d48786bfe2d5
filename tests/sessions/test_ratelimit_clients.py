"""Which requests are one client: IPv6 by network, IPv4-mapped as IPv4, other keys as given."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

import pytest

from jwt_guard_core import ConfigurationError, TokenError, Verifier
from jwt_guard_core.errors import RateLimited
from jwt_guard_core.sessions import FailureRateLimiter, MemorySessionStore
from jwt_guard_core.sessions.ratelimit import client_network
from tests.factories import FakeClock, KeyRing, claims, named, sign


@pytest.fixture
def bad(keyring: KeyRing) -> str:
    # Signed with a key the verifier does not accept: a counted rejection.
    return sign({"alg": "HS256", "kid": "rsa-1"}, claims(), keyring.secret)


def _fail(limiter: FailureRateLimiter, verifier: Verifier, token: str, client: str) -> TokenError:
    with pytest.raises(TokenError) as caught:
        limiter.verify(verifier, token, client=client)
    return caught.value


@pytest.mark.parametrize(
    ("client", "key"),
    [
        ("203.0.113.9", "203.0.113.9"),
        ("::ffff:203.0.113.9", "203.0.113.9"),
        ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"),
        ("2001:DB8:1:2::1", "2001:db8:1:2::/64"),
        ("fe80::1%eth0", "fe80::/64"),
        ("::1", "::/64"),
        ("alice@example.com", "alice@example.com"),
        ("unknown", "unknown"),
        ("2001:db8::/64", "2001:db8::/64"),
        ("010.0.0.1", "010.0.0.1"),
    ],
)
def test_client_keys_are_normalised_to_the_network_one_client_controls(
    client: str, key: str
) -> None:
    assert client_network(client) == key


def test_the_ipv6_prefix_is_configurable() -> None:
    assert client_network("2001:db8:1:2:3::1", ipv6_prefix=48) == "2001:db8:1::/48"
    assert client_network("2001:db8:1:2:3::1", ipv6_prefix=128) == "2001:db8:1:2:3::1/128"
    # IPv4 is never masked: one address is one client.
    assert client_network("198.51.100.4", ipv6_prefix=48) == "198.51.100.4"


def test_sixty_addresses_of_one_slash_64_are_one_client(
    backend_store: Any,
    make_verifier: Callable[..., Verifier],
    bad: str,
    clock: FakeClock,
    recorded_events: list[Any],
) -> None:
    limiter = FailureRateLimiter(backend_store, limit=20, window=60, clock=clock)
    verifier = make_verifier()
    network = ipaddress.IPv6Network("2001:db8:aaaa:1::/64")
    addresses = [str(network[i * 7919 + 1]) for i in range(60)]
    reasons = [_fail(limiter, verifier, bad, address).reason for address in addresses]
    assert reasons == ["alg_not_allowed"] * 20 + ["rate_limited"] * 40
    assert {e.fields["client"] for e in named(recorded_events, "rate_limited")} == {
        "2001:db8:aaaa:1::/64"
    }
    # The neighbouring /64 is another subscriber with its own budget.
    other = _fail(limiter, verifier, bad, "2001:db8:aaaa:2::1")
    assert other.reason == "alg_not_allowed"


def test_an_ipv4_mapped_address_shares_the_ipv4_clients_budget(
    backend_store: Any, make_verifier: Callable[..., Verifier], bad: str, clock: FakeClock
) -> None:
    limiter = FailureRateLimiter(backend_store, limit=2, window=60, clock=clock)
    verifier = make_verifier()
    _fail(limiter, verifier, bad, "::ffff:198.51.100.4")
    _fail(limiter, verifier, bad, "198.51.100.4")
    refused = _fail(limiter, verifier, bad, "::ffff:198.51.100.4")
    assert isinstance(refused, RateLimited)
    assert refused.reason == "rate_limited"
    assert _fail(limiter, verifier, bad, "198.51.100.5").reason == "alg_not_allowed"


def test_with_prefix_128_every_ipv6_address_is_its_own_client(
    backend_store: Any, make_verifier: Callable[..., Verifier], bad: str, clock: FakeClock
) -> None:
    limiter = FailureRateLimiter(backend_store, limit=1, window=60, clock=clock, ipv6_prefix=128)
    verifier = make_verifier()
    assert _fail(limiter, verifier, bad, "2001:db8::1").reason == "alg_not_allowed"
    assert _fail(limiter, verifier, bad, "2001:db8::2").reason == "alg_not_allowed"
    assert _fail(limiter, verifier, bad, "2001:db8::1").reason == "rate_limited"


def test_keys_that_are_not_addresses_are_used_as_given(
    backend_store: Any, make_verifier: Callable[..., Verifier], bad: str, clock: FakeClock
) -> None:
    limiter = FailureRateLimiter(backend_store, limit=1, window=60, clock=clock)
    verifier = make_verifier()
    assert _fail(limiter, verifier, bad, "user:alice").reason == "alg_not_allowed"
    assert _fail(limiter, verifier, bad, "user:bob").reason == "alg_not_allowed"
    assert _fail(limiter, verifier, bad, "user:alice").reason == "rate_limited"


@pytest.mark.parametrize("prefix", [0, 129, 64.0, True, "64", None])
def test_a_bad_ipv6_prefix_is_refused_naming_the_setting(prefix: Any) -> None:
    with pytest.raises(ConfigurationError) as caught:
        FailureRateLimiter(MemorySessionStore(), ipv6_prefix=prefix)
    assert caught.value.setting == "ipv6_prefix"
