from __future__ import annotations

import logging

import pytest

from tests.security.helpers import SECURITY_LOGGER, Rejects


@pytest.fixture(params=["sync", "async"])
def rejects(request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture) -> Rejects:
    """Runs a token through ``verify`` or ``averify`` and checks the rejection."""
    caplog.set_level(logging.DEBUG, logger=SECURITY_LOGGER)
    return Rejects(request.param, caplog)
