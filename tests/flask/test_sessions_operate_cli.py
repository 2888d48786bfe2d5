"""``flask jwt-guard sessions list | revocations | revoke-family | logout-subject |
failed-attempts | clear-attempts``: operating sessions through the core's services."""

from __future__ import annotations

from typing import Any

from jwt_guard_core import SecurityEvent, admin
from tests.factories import FakeClock
from tests.flask.session_fixtures import SessionsApp, bearer, key_dir, login, sessions_app

__all__ = ["key_dir", "sessions_app"]


def run(app: Any, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=["jwt-guard", "sessions", *args])


def sid_of(app: Any, access: str) -> str:
    return str(app.extensions["jwt_guard"].verifier(app).verify(access).claims["sid"])


def refused_reason(events: list[SecurityEvent]) -> str | None:
    rejected = [e for e in events if e.name == "refresh_token_rejected"]
    return rejected[-1].reason if rejected else None


def test_list_shows_each_session_newest_first_and_by_subject(
    sessions_app: SessionsApp, clock: FakeClock
) -> None:
    app = sessions_app()
    client = app.test_client()
    first = sid_of(app, login(client).get_json()["access_token"])
    clock.advance(5)
    second = sid_of(app, login(client).get_json()["access_token"])
    listed = run(app, "list")
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert lines[0].split() == ["SESSION", "SUBJECT", "STARTED", "STATE"]
    assert [line.split()[0] for line in lines[1:]] == [second, first]
    assert all(line.split()[1] == "user-alice" and "live until" in line for line in lines[1:])
    assert run(app, "list", "--subject", "user-bob").output.strip() == "no sessions of user-bob"
    assert len(run(app, "list", "--limit", "1").output.splitlines()) == 2


def test_revoke_family_ends_the_session_and_a_refresh_is_refused_with_its_reason(
    sessions_app: SessionsApp, clock: FakeClock, recorded_events: list[SecurityEvent]
) -> None:
    app = sessions_app()
    client = app.test_client()
    tokens = login(client).get_json()
    sid = sid_of(app, tokens["access_token"])
    result = run(app, "revoke-family", sid)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"revoked session {sid}"
    assert "refresh_family_revoked" in [e.name for e in recorded_events]
    refresh = client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refresh.status_code == 400
    assert refresh.get_json()["error"] == "invalid_grant"
    assert refused_reason(recorded_events) == "refresh_family_revoked"
    assert client.get("/api/me", headers=bearer(tokens["access_token"])).status_code == 401
    row = next(line for line in run(app, "list").output.splitlines() if line.startswith(sid))
    assert row.split()[3:] == ["revoked", admin.iso(clock())]
    assert f"session {sid} denied until" in run(app, "revocations").output
    again = run(app, "revoke-family", sid)
    assert again.output.strip().startswith(f"session {sid} was already revoked or is unknown")


def test_logout_subject_ends_every_session_and_access_token(
    sessions_app: SessionsApp, clock: FakeClock, recorded_events: list[SecurityEvent]
) -> None:
    app = sessions_app()
    client = app.test_client()
    one, two = login(client).get_json(), login(client).get_json()
    clock.advance(1)
    result = run(app, "logout-subject", "user-alice")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "logged user-alice out everywhere (2 session(s) ended)"
    for tokens in (one, two):
        assert client.get("/api/me", headers=bearer(tokens["access_token"])).status_code == 401
        refresh = client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        assert refresh.status_code == 400
        assert refused_reason(recorded_events) == "refresh_family_revoked"
    assert "tokens of user-alice issued before" in run(app, "revocations").output


def test_failed_attempts_are_listed_and_cleared_so_the_client_gets_in_again(
    sessions_app: SessionsApp,
) -> None:
    app = sessions_app(RATE_LIMIT=3)
    client = app.test_client()
    for _ in range(3):
        assert login(client, password="guess").status_code == 400
    assert login(client).status_code == 429
    listed = run(app, "failed-attempts").output.splitlines()
    assert listed[0].split() == ["CLIENT", "FAILURES", "LAST", "STATE"]
    assert listed[1].split()[:2] == ["127.0.0.1", "3"]
    assert listed[1].split()[-1] == "refused"
    cleared = run(app, "clear-attempts", "127.0.0.1")
    assert cleared.exit_code == 0, cleared.output
    assert cleared.output.strip() == "cleared 3 failed attempt(s) of 127.0.0.1"
    assert login(client).status_code == 200
    assert run(app, "failed-attempts").output.strip() == "no failed attempts in the last 60 s"


def test_without_rate_limiting_clear_attempts_is_a_usage_error(sessions_app: SessionsApp) -> None:
    result = run(sessions_app(RATE_LIMIT=None), "clear-attempts", "127.0.0.1")
    assert result.exit_code == 2
    assert "rate limiting is off" in result.output


def test_without_sessions_the_commands_say_so() -> None:
    from flask import Flask

    from jwt_guard_flask import JWTGuard

    app = Flask("no_sessions")
    app.config.update(
        JWT_GUARD_ALGORITHMS=["RS256"],
        JWT_GUARD_ISSUER="https://i.example",
        JWT_GUARD_AUDIENCE="https://api.example",
        JWT_GUARD_JWKS_URL="https://i.example/jwks.json",
    )
    JWTGuard(app)
    result = run(app, "list")
    assert result.exit_code == 1
    assert "sessions are not configured" in result.output
