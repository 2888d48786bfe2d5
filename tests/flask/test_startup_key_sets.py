"""Remote key sets checked at start-up (issue 13): init_app warnings and ``flask jwt-guard check``.

With ``JWT_GUARD_WARM_ON_STARTUP`` the warm-up at ``init_app`` logs each
finding naming the config key; ``flask jwt-guard check`` fetches and
reports whatever the setting, exiting 1 on an error. Real providers on
loopback.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from jwt_guard_core.testing import LocalIssuer
from jwt_guard_flask import JWTGuard, current_token, jwt_required
from tests import startup_support
from tests.startup_support import serve_discovery


@pytest.fixture
def issuer() -> Iterator[LocalIssuer]:
    with LocalIssuer() as local:
        yield local


@pytest.fixture
def closed_port() -> int:
    return startup_support.closed_port()


@pytest.fixture
def warned(caplog: pytest.LogCaptureFixture) -> Any:
    caplog.set_level(logging.WARNING, logger="jwt_guard.flask")

    def _warned() -> list[logging.LogRecord]:
        return [r for r in caplog.records if r.name == "jwt_guard.flask"]

    return _warned


def app_with(config: dict[str, Any]) -> Flask:
    app = Flask("startup_checks")
    app.config.update(config)
    JWTGuard(app)
    return app


def test_warm_up_logs_a_wrong_issuer_discovery_document_naming_the_key(httpserver, issuer, warned):
    origin = serve_discovery(httpserver, issuer.jwks())
    app_with(
        issuer.flask_config(
            source="discovery", ISSUER=None, OIDC_ISSUER=origin, WARM_ON_STARTUP=True
        )
    )
    [record] = warned()
    assert record.jwt_guard_check == "discovery_issuer_mismatch"  # type: ignore[attr-defined]
    text = record.getMessage()
    assert text.startswith(f"jwt-guard: JWT_GUARD_OIDC_ISSUER ({origin!r}): ")
    assert "'https://evil.example'" in text
    assert f"not the configured {origin!r}" in text


def test_warm_up_logs_an_unreachable_issuer(issuer, closed_port, warned):
    url = f"http://127.0.0.1:{closed_port}"
    app = app_with(
        issuer.flask_config(source="discovery", ISSUER=None, OIDC_ISSUER=url, WARM_ON_STARTUP=True)
    )
    [record] = warned()
    assert record.jwt_guard_check == "key_set_unreachable"  # type: ignore[attr-defined]
    assert record.getMessage().startswith(
        f"jwt-guard: could not warm the key set of JWT_GUARD_OIDC_ISSUER ({url!r})"
    )
    assert app.extensions["jwt_guard"].health(app)["ok"] is False


def test_warm_up_of_a_good_issuer_logs_nothing_and_serves_the_first_request(issuer, warned):
    app = app_with(issuer.flask_config(source="discovery", WARM_ON_STARTUP=True))
    assert warned() == []
    assert issuer.jwks_requests == 1

    @app.get("/me")
    @jwt_required
    def me() -> str:
        return str(current_token.subject)

    token = issuer.tokens().token(sub="alice")
    response = app.test_client().get("/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "alice"
    assert issuer.jwks_requests == 1


def test_without_warm_up_init_app_does_no_network_io(httpserver, issuer, warned):
    origin = serve_discovery(httpserver, issuer.jwks())
    app_with(issuer.flask_config(source="discovery", ISSUER=None, OIDC_ISSUER=origin))
    assert warned() == []
    assert httpserver.log == []


def test_cli_check_reports_a_wrong_issuer_and_exits_1(httpserver, issuer):
    origin = serve_discovery(httpserver, issuer.jwks())
    app = app_with(issuer.flask_config(source="discovery", ISSUER=None, OIDC_ISSUER=origin))
    result = app.test_cli_runner().invoke(args=["jwt-guard", "check"])
    assert result.exit_code == 1
    assert f"ERROR: JWT_GUARD_OIDC_ISSUER ({origin!r}): " in result.output
    assert "1 error(s) found" in result.output


def test_cli_check_reports_an_unreachable_key_set_as_a_warning(issuer, closed_port):
    url = f"http://127.0.0.1:{closed_port}/jwks.json"
    app = app_with(issuer.flask_config(JWKS_URL=url))
    result = app.test_cli_runner().invoke(args=["jwt-guard", "check"])
    assert result.exit_code == 0, result.output
    assert f"WARNING: could not warm the key set of JWT_GUARD_JWKS_URL ({url!r})" in result.output
    assert "jwt-guard: no errors (1 warning(s))" in result.output


def test_cli_check_of_a_good_issuer(issuer):
    app = app_with(issuer.flask_config(source="discovery"))
    result = app.test_cli_runner().invoke(args=["jwt-guard", "check"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "jwt-guard: no errors (0 warning(s))"
