"""JWT_GUARD_SESSIONS_*: validated at init_app, the key to fix named; wiring into the guard."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from jwt_guard_core import ConfigurationError
from jwt_guard_core.sessions import MemorySessionStore, SQLiteSessionStore
from jwt_guard_flask.session_routes import get_sessions
from tests.flask.session_fixtures import SessionsApp, key_dir, login, sessions_app

__all__ = ["key_dir", "sessions_app"]


@pytest.mark.parametrize(
    ("suffixes", "key", "message"),
    [
        ({"BACKEND": "mongo"}, "BACKEND", "is not one of"),
        ({"BACKEND": "sqlite"}, "SQLITE_PATH", "required with the sqlite backend"),
        ({"BACKEND": "sqlite", "SQLITE_PATH": 3}, "SQLITE_PATH", "is not a path"),
        ({"BACKEND": "redis"}, "REDIS_URL", "required"),
        ({"MODE": "header"}, "MODE", "is not 'json', 'cookie' or 'both'"),
        ({"REFRESH_TOKEN_LIFETIME": 0}, "REFRESH_TOKEN_LIFETIME", "positive"),
        ({"IDLE_TIMEOUT": 10**9}, "IDLE_TIMEOUT", "longer than lifetime"),
        ({"REUSE_INTERVAL": 61}, "REUSE_INTERVAL", "from 0 to 60"),
        ({"RATE_LIMIT": 0}, "RATE_LIMIT", "from 1 to 10000"),
        ({"RATE_LIMIT_WINDOW": 0}, "RATE_LIMIT_WINDOW", "from 1 to 86400"),
        ({"RATE_LIMIT_KEY": "remote_addr"}, "RATE_LIMIT_KEY", "function"),
        ({"COOKIE_SAMESITE": "None", "COOKIE_SECURE": False}, "COOKIE_SAMESITE", "requires"),
        ({"REFRESH_COOKIE": "a b"}, "REFRESH_COOKIE", "not a valid cookie name"),
        ({"REVOCATION_FAIL_OPEN": "False"}, "REVOCATION_FAIL_OPEN", "True or False"),
    ],
)
def test_bad_key_is_refused_at_init_app_naming_it(
    sessions_app: SessionsApp, suffixes: dict[str, Any], key: str, message: str
) -> None:
    with pytest.raises(ConfigurationError, match=f"JWT_GUARD_SESSIONS_{key}.*{message}"):
        sessions_app(**{"BACKEND": "memory", **suffixes})


@pytest.mark.parametrize(
    ("backend", "kind"), [("memory", MemorySessionStore), ("sqlite", SQLiteSessionStore)]
)
def test_backend_picks_the_store(
    sessions_app: SessionsApp, tmp_path: Path, backend: str, kind: type
) -> None:
    app = sessions_app(BACKEND=backend, SQLITE_PATH=str(tmp_path / "s.db"))
    store = get_sessions(app).store
    assert isinstance(store, kind)
    if isinstance(store, SQLiteSessionStore):
        store.close()


def test_without_a_backend_sessions_are_off(make_app: Any) -> None:
    app = make_app()
    assert app.config["JWT_GUARD_REVOCATION"] is None
    with app.app_context(), pytest.raises(RuntimeError, match="sessions are not configured"):
        get_sessions()


def test_an_explicit_revocation_check_is_kept(sessions_app: SessionsApp) -> None:
    class Never:
        def is_revoked(self, claims: Any, issuer: Any) -> bool:
            return False

        async def ais_revoked(self, claims: Any, issuer: Any) -> bool:
            return False

    check = Never()
    app = sessions_app(config={"JWT_GUARD_REVOCATION": check})
    assert app.extensions["jwt_guard"].verifier(app).config.revocation is check


def test_the_blueprint_needs_sessions_configured(make_app: Any) -> None:
    app = make_app()
    guard = app.extensions["jwt_guard"]
    with pytest.raises(RuntimeError, match="set JWT_GUARD_SESSIONS_BACKEND"):
        app.register_blueprint(guard.sessions_blueprint(), url_prefix="/auth")


def test_login_without_a_credentials_loader_is_a_runtime_error(
    sessions_app: SessionsApp,
) -> None:
    app = sessions_app()
    app.extensions["jwt_guard"]._credentials_loader = None
    with pytest.raises(RuntimeError, match="register a credentials loader"):
        login(app.test_client())


def test_refresh_path_follows_the_url_prefix(sessions_app: SessionsApp) -> None:
    app = sessions_app()
    assert get_sessions(app).cookie_policy().refresh_path == "/auth/refresh"
