"""What an adapter serves from its settings (jwt_guard_core.served): built once, wired, reset."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from jwt_guard_core import ConfigurationError
from jwt_guard_core.served import Served
from jwt_guard_core.serving import ServedSessions
from jwt_guard_core.settings import GuardSettings
from jwt_guard_core.settings.sides import open_sessions
from tests.factories import AUDIENCE, ISSUER, KeyRing, public_pem


class Refused(Exception):
    pass


def _served(
    raw: dict[str, Any], adapter: Any = "django", opened: list[str] | None = None
) -> Served[ServedSessions]:
    settings = GuardSettings.from_mapping(raw, adapter)

    def sessions() -> ServedSessions:
        (opened if opened is not None else []).append("sessions")
        return ServedSessions(open_sessions(settings, served.issuing), lambda request: "1.2.3.4")

    served = Served(
        lambda: settings,
        sessions,
        logger=logging.getLogger("jwt_guard.test"),
        refused=lambda exc: Refused(f"JWT_GUARD: {exc}"),
    )
    return served


@pytest.fixture
def raw(keyring: KeyRing) -> dict[str, Any]:
    return {
        "ALGORITHMS": ["RS256"],
        "ISSUER": ISSUER,
        "AUDIENCE": AUDIENCE,
        "VERIFYING_KEY": {"rsa-1": public_pem(keyring.rsa).decode()},
    }


def test_the_verifier_revokes_through_the_sessions_and_all_is_rebuilt_after_reset(
    raw: dict[str, Any],
) -> None:
    served = _served({**raw, "SESSIONS": {"BACKEND": "memory"}})
    verifier, sessions = served.verifier(), served.sessions()
    assert served.verifier() is verifier
    assert served.resource() is served.resource()
    assert verifier.config.revocation is sessions.revocation
    assert served.configured("sessions")
    assert not served.configured("issuing")
    assert list(served.backends()) == ["sessions"]
    assert served.probe("live") == (200, {"status": "alive"})
    served.reset()
    assert served.verifier() is not verifier
    assert served.sessions() is not sessions


def test_without_sessions_nothing_of_them_is_built(raw: dict[str, Any]) -> None:
    opened: list[str] = []
    served = _served(raw, opened=opened)
    verifier = served.verifier()
    assert verifier.config.revocation is None
    assert served.verify_function(object(), verifier) == verifier.verify
    assert served.backends() == {}
    assert opened == []


def test_a_bad_setting_is_the_adapters_error_and_is_left_to_the_checks(
    raw: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    served = _served({**raw, "AUDIENCE": None, "WARM_ON_STARTUP": True})
    with pytest.raises(Refused, match=r"^JWT_GUARD: ") as info:
        served.verifier()
    assert isinstance(info.value.__cause__, ConfigurationError)
    assert served.key_set_checks(deploy=False) == []
    with caplog.at_level("ERROR", logger="jwt_guard.test"):
        served.warm_at_start()
    assert "jwt-guard is misconfigured, key sets not warmed: JWT_GUARD: " in caplog.text


def test_a_flask_group_is_on_once_its_first_key_is_set() -> None:
    assert not _served({}, "flask").configured("sessions")
    on = _served(
        {"JWT_GUARD_SESSIONS_BACKEND": "memory", "JWT_GUARD_ISSUING_ISSUER": ISSUER}, "flask"
    )
    assert on.configured("sessions")
    assert on.configured("issuing")


def test_start_builds_now_opening_the_sessions_first_and_logs_the_risky_settings(
    raw: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    opened: list[str] = []
    served = _served({**raw, "SESSIONS": {"BACKEND": "memory"}}, opened=opened)
    with caplog.at_level("WARNING", logger="jwt_guard.test"):
        served.start()
    assert opened == ["sessions"]
    plan, verify = served.request_plan()
    assert verify is None  # behind the sessions' rate limit
    assert plan.policy is served.resource()
    assert not [r for r in caplog.records if getattr(r, "jwt_guard_event", None)]
    risky = _served({**raw, "AUDIENCE": None, "VERIFY_AUDIENCE": False})
    with caplog.at_level("WARNING", logger="jwt_guard.test"):
        risky.start()
    events = [getattr(r, "jwt_guard_event", None) for r in caplog.records]
    assert "risky_setting" in events


def test_start_raises_the_first_bad_setting_as_the_adapters_error(raw: dict[str, Any]) -> None:
    served = _served({**raw, "LEEWAY": -1, "DPOP": "sometimes"})
    with pytest.raises(Refused, match="leeway"):
        served.start()
    with pytest.raises(Refused, match=r"(?i)dpop"):
        _served({**raw, "DPOP": "sometimes"}).start()


def test_an_adapters_own_issuing_side_is_the_served_one(raw: dict[str, Any]) -> None:
    issuing = object()
    settings = GuardSettings.from_mapping(raw, "django")
    served: Served[ServedSessions] = Served(
        lambda: settings,
        lambda: pytest.fail("no sessions"),
        logger=logging.getLogger("jwt_guard.test"),
        issuing=lambda: issuing,  # type: ignore[arg-type,return-value]
    )
    assert served.issuing() is issuing
