"""``JWT_GUARD_SESSIONS_RATE_LIMIT_IPV6_PREFIX`` and ``..._KEY_RETENTION`` reach the services."""

from __future__ import annotations

import pytest

from jwt_guard_core import ConfigurationError
from jwt_guard_flask.session_routes import get_sessions
from tests.factories import FakeClock

from .session_fixtures import SessionsApp, key_dir, sessions_app

__all__ = ["key_dir", "sessions_app"]


def test_ipv6_prefix_and_key_retention_reach_the_services(
    sessions_app: SessionsApp, clock: FakeClock
) -> None:
    app = sessions_app(RATE_LIMIT_IPV6_PREFIX=56, KEY_RETENTION=600)
    sessions = get_sessions(app)
    assert sessions.limiter is not None
    assert sessions.limiter.key("2001:db8:1:2::1") == "2001:db8:1::/56"
    sessions.revocation.revoke_keys(["leaked-kid"])
    assert sessions.revocation.check({"sub": "a", "iat": int(clock())}, kid="leaked-kid") == "key"
    clock.advance(601)
    assert sessions.revocation.check({"sub": "a", "iat": int(clock())}, kid="leaked-kid") is None


@pytest.mark.parametrize(("key", "value"), [("RATE_LIMIT_IPV6_PREFIX", 129), ("KEY_RETENTION", 1)])
def test_a_bad_value_stops_init_app_naming_the_key(
    sessions_app: SessionsApp, key: str, value: int
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        sessions_app(**{key: value})
    assert caught.value.setting == f"JWT_GUARD_SESSIONS_{key}"
