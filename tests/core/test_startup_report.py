"""The core pieces both adapters' start-up and probes share: one report, one probe answer."""

from __future__ import annotations

import logging

import pytest

from jwt_guard_core.health import probe
from jwt_guard_core.settings import Finding
from jwt_guard_core.system_checks import Check, checks_of


def test_live_probe_calls_neither_the_key_sources_nor_the_backends() -> None:
    def fail() -> dict[str, object]:
        raise AssertionError("live must do no I/O")

    assert probe("live", fail, fail) == (200, {"status": "alive"})


def test_ready_probe_is_503_when_the_key_sources_cannot_be_built() -> None:
    def refused() -> dict[str, object]:
        raise ValueError("bad setting")

    status, report = probe("ready", refused, dict)
    assert status == 503
    assert report["error"] == "ValueError"


def test_a_finding_code_maps_to_its_check_id_and_level() -> None:
    found = [Finding("hmac_mixed", True, "mixed"), Finding("not_a_check", False, "x")]
    assert checks_of(found) == [Check("jwt_guard.E003", "mixed")]
    assert checks_of(found)[0].error
    assert not Check("jwt_guard.W001", "off").error


def test_routes_are_reported_now_and_new_ones_once_more(caplog: pytest.LogCaptureFixture) -> None:
    from jwt_guard_core.startup import report_once_more

    found = [Finding("route_dpop_off", True, "first")]
    logger = logging.getLogger("jwt_guard.test")
    with caplog.at_level(logging.WARNING, logger="jwt_guard.test"):
        once_more = report_once_more(lambda: list(found), logger)
        found.append(Finding("route_dpop_off", True, "second"))
        once_more()
        once_more()
    assert [r.getMessage() for r in caplog.records] == ["jwt-guard: first ", "jwt-guard: second "]
