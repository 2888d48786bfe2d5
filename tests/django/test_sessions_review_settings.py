"""``SESSIONS["RATE_LIMIT_IPV6_PREFIX"]`` and ``SESSIONS["KEY_RETENTION"]`` reach the services."""

from __future__ import annotations

from datetime import timedelta

import pytest

from jwt_guard_core import ConfigurationError
from jwt_guard_django.sessions import get_sessions
from tests.factories import FakeClock

from .session_fixtures import guard_sessions, key_dir

__all__ = ["guard_sessions", "key_dir"]


def test_ipv6_clients_are_limited_per_network_of_the_configured_prefix(guard_sessions):
    guard_sessions()
    limiter = get_sessions().limiter
    assert limiter is not None
    assert limiter.key("2001:db8:1:2::1") == "2001:db8:1:2::/64"  # the default
    guard_sessions(RATE_LIMIT_IPV6_PREFIX=48)
    limiter = get_sessions().limiter
    assert limiter is not None
    assert limiter.key("2001:db8:1:2::1") == limiter.key("2001:db8:1:ffff::9") == "2001:db8:1::/48"


def test_a_revoked_key_is_denied_for_the_key_retention(guard_sessions, clock: FakeClock):
    guard_sessions(KEY_RETENTION=timedelta(hours=1))
    revocation = get_sessions().revocation
    revocation.revoke_keys(["leaked-kid"])
    claims = {"sub": "admin", "iat": int(clock())}
    assert revocation.check(claims, kid="leaked-kid") == "key"
    clock.advance(3601)
    assert revocation.check({"sub": "admin", "iat": int(clock())}, kid="leaked-kid") is None


def test_by_default_a_revoked_key_is_denied_for_good(guard_sessions, clock: FakeClock):
    guard_sessions()
    revocation = get_sessions().revocation
    revocation.revoke_keys(["leaked-kid"])
    clock.advance(10 * 365 * 86400)
    assert revocation.check({"sub": "admin", "iat": int(clock())}, kid="leaked-kid") == "key"


@pytest.mark.parametrize(
    ("key", "value"), [("RATE_LIMIT_IPV6_PREFIX", 0), ("KEY_RETENTION", 5), ("KEY_RETENTION", "x")]
)
def test_a_bad_value_names_the_setting(guard_sessions, settings, key, value):
    guard_sessions()
    sessions = {**settings.JWT_GUARD["SESSIONS"], key: value}
    settings.JWT_GUARD = {**settings.JWT_GUARD, "SESSIONS": sessions}
    with pytest.raises(ConfigurationError) as caught:
        get_sessions()
    assert caught.value.setting == f"JWT_GUARD['SESSIONS'][{key!r}]"
