"""``flask jwt-guard revoke --jti ... | --session ... | --subject ...``."""

from __future__ import annotations

from typing import Any

from tests.factories import FakeClock
from tests.flask.session_fixtures import SessionsApp, bearer, key_dir, login, sessions_app

__all__ = ["key_dir", "sessions_app"]


def claims_of(app: Any, access: str) -> dict[str, Any]:
    return dict(app.extensions["jwt_guard"].verifier(app).verify(access).claims)


def test_revoke_by_jti_refuses_that_token_only(sessions_app: SessionsApp) -> None:
    app = sessions_app()
    client = app.test_client()
    one, two = login(client).get_json(), login(client).get_json()
    claims = claims_of(app, one["access_token"])
    result = app.test_cli_runner().invoke(
        args=["jwt-guard", "revoke", "--jti", claims["jti"], "--expires-at", str(claims["exp"])]
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"revoked token {claims['jti']}"
    assert client.get("/api/me", headers=bearer(one["access_token"])).status_code == 401
    assert client.get("/api/me", headers=bearer(two["access_token"])).status_code == 200


def test_revoke_by_session(sessions_app: SessionsApp) -> None:
    app = sessions_app()
    client = app.test_client()
    tokens = login(client).get_json()
    sid = claims_of(app, tokens["access_token"])["sid"]
    result = app.test_cli_runner().invoke(args=["jwt-guard", "revoke", "--session", sid])
    assert result.exit_code == 0, result.output
    assert client.get("/api/me", headers=bearer(tokens["access_token"])).status_code == 401
    refresh = client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refresh.status_code == 400


def test_revoke_by_subject_logs_out_everywhere(sessions_app: SessionsApp, clock: FakeClock) -> None:
    app = sessions_app()
    client = app.test_client()
    one, two = login(client).get_json(), login(client).get_json()
    clock.advance(1)
    result = app.test_cli_runner().invoke(args=["jwt-guard", "revoke", "--subject", "user-alice"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "revoked every token of user-alice (2 session(s) ended)"
    for tokens in (one, two):
        assert client.get("/api/me", headers=bearer(tokens["access_token"])).status_code == 401


def test_revoke_needs_exactly_one_target(sessions_app: SessionsApp) -> None:
    runner = sessions_app().test_cli_runner()
    for args in ([], ["--jti", "a", "--subject", "b"]):
        result = runner.invoke(args=["jwt-guard", "revoke", *args])
        assert result.exit_code == 2
        assert "give exactly one of --jti, --session, --subject" in result.output


def test_expires_at_goes_with_jti(sessions_app: SessionsApp) -> None:
    result = (
        sessions_app()
        .test_cli_runner()
        .invoke(args=["jwt-guard", "revoke", "--subject", "s", "--expires-at", "5"])
    )
    assert result.exit_code == 2
    assert "--expires-at goes with --jti" in result.output


def test_without_sessions_configured_revoke_is_a_clear_error(make_app: Any) -> None:
    result = make_app().test_cli_runner().invoke(args=["jwt-guard", "revoke", "--jti", "x"])
    assert result.exit_code == 1
    assert "sessions are not configured: set JWT_GUARD_SESSIONS_BACKEND" in result.output
