"""One app's guard built from its settings (jwt_guard_core.app_guard), the request record and
the start-up check's text report, without a framework."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from jwt_guard_core import ConfigurationError
from jwt_guard_core.app_guard import AppGuard
from jwt_guard_core.check_report import check_report
from jwt_guard_core.errors import TokenError
from jwt_guard_core.request_policy import Outcome
from jwt_guard_core.request_record import RequestRecord
from jwt_guard_core.sender import SenderResult
from jwt_guard_core.settings import Finding, GuardSettings

LOGGER = logging.getLogger("jwt_guard.test")
SECRET = "a-test-secret-0123456789abcdefghijklmn"


def settings(**extra: Any) -> dict[str, Any]:
    return {
        "JWT_GUARD_ALGORITHMS": ["HS256"],
        "JWT_GUARD_SECRET": SECRET,
        "JWT_GUARD_ISSUER": "https://issuer.example",
        "JWT_GUARD_AUDIENCE": "api",
        **extra,
    }


def test_a_guard_is_built_with_the_plan_of_a_bearer_configuration():
    guard = AppGuard.build(settings(), "flask", LOGGER)
    assert guard.plan is not None
    assert guard.settings.locations == ("header",)
    assert guard.limited is False


def test_a_bad_setting_is_refused_naming_its_key():
    with pytest.raises(ConfigurationError, match="JWT_GUARD_LEEWAY"):
        AppGuard.build(settings(JWT_GUARD_LEEWAY=-1), "flask", LOGGER)


def test_a_risky_setting_is_logged_as_such(caplog: pytest.LogCaptureFixture):
    with caplog.at_level(logging.WARNING, "jwt_guard.test"):
        risky = settings(JWT_GUARD_AUDIENCE=None, JWT_GUARD_VERIFY_AUDIENCE=False)
        AppGuard.build(risky, "flask", LOGGER)
    logged = [r for r in caplog.records if getattr(r, "jwt_guard_event", None) == "risky_setting"]
    assert logged


def test_the_record_keeps_the_first_presentation_and_cookie_error():
    record = RequestRecord()
    assert record.nonce is None
    record.saw(Outcome(presented="Bearer"))
    record.saw(Outcome(presented="DPoP"))
    assert record.presented == "Bearer"
    first, second = TokenError("token_expired"), TokenError("bad_signature")
    record.defer(first)
    record.defer(second)
    assert record.cookie_error is first
    record.sender = SenderResult(nonce="n-1")
    assert record.nonce == "n-1"


def test_the_report_counts_errors_and_warnings():
    parsed = GuardSettings.from_mapping(settings(), "flask")
    config = parsed.guard_config()
    warning = Finding("w", False, "a warning", "its hint")
    error = Finding("e", True, "an error")
    lines, failure = check_report(parsed, [warning], config)
    assert lines == ["WARNING: a warning", "    its hint", "jwt-guard: no errors (1 warning(s))"]
    assert failure is None
    lines, failure = check_report(parsed, [error, warning], config)
    assert lines == ["ERROR: an error", "WARNING: a warning", "    its hint"]
    assert failure == "1 error(s) found"
