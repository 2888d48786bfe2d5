"""JWTGuard registration: both init patterns, config defaults, one guard for several apps."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from jwt_guard_flask import DEFAULTS, JWTGuard, current_token, jwt_required
from jwt_guard_flask.config import load
from tests.flask.conftest import MakeApp, Mint, bearer


def _configured(base_config: dict[str, Any], name: str = "app") -> Flask:
    app = Flask(name)
    app.config.update(base_config)

    @app.get("/me")
    @jwt_required
    def me() -> dict[str, Any]:
        return {"sub": current_token.subject, "app": name}

    return app


def test_guard_given_the_app_registers_itself_in_extensions(base_config: dict[str, Any]) -> None:
    app = _configured(base_config)
    guard = JWTGuard(app)
    assert app.extensions["jwt_guard"] is guard


def test_init_app_later_works_like_the_constructor(base_config: dict[str, Any], mint: Mint) -> None:
    guard = JWTGuard()
    app = _configured(base_config)
    assert "jwt_guard" not in app.extensions
    guard.init_app(app)
    response = app.test_client().get("/me", headers=bearer(mint()))
    assert response.status_code == 200
    assert response.get_json() == {"sub": "user-1", "app": "app"}


def test_one_guard_serves_several_apps_each_with_its_own_config(
    base_config: dict[str, Any], mint: Mint
) -> None:
    guard = JWTGuard()
    first = _configured(base_config, "first")
    second = _configured({**base_config, "JWT_GUARD_AUDIENCE": "https://other.example"}, "second")
    guard.init_app(first)
    guard.init_app(second)
    assert first.extensions["jwt_guard"] is second.extensions["jwt_guard"] is guard
    assert guard.verifier(first) is not guard.verifier(second)

    token = mint()  # aud is https://api.example: only the first app accepts it
    assert first.test_client().get("/me", headers=bearer(token)).status_code == 200
    refused = second.test_client().get("/me", headers=bearer(token))
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'


def test_registering_twice_on_one_app_raises_runtime_error(base_config: dict[str, Any]) -> None:
    app = _configured(base_config)
    guard = JWTGuard(app)
    with pytest.raises(RuntimeError, match="already registered on app 'app'"):
        guard.init_app(app)
    with pytest.raises(RuntimeError, match="already registered"):
        JWTGuard(app)


def test_every_key_gets_its_default_with_setdefault(base_config: dict[str, Any]) -> None:
    app = _configured(base_config)
    app.config["JWT_GUARD_REALM"] = "orders"
    JWTGuard(app)
    for key, default in DEFAULTS.items():
        assert key in app.config
        if key not in base_config and key != "JWT_GUARD_REALM":
            assert app.config[key] == default
    assert app.config["JWT_GUARD_REALM"] == "orders"
    assert app.config["JWT_GUARD_AUDIENCE"] == base_config["JWT_GUARD_AUDIENCE"]


def test_defaults_table_in_docs_lists_every_key_with_its_default() -> None:
    from pathlib import Path

    doc = (Path(__file__).parents[2] / "docs" / "flask.md").read_text()
    for key, default in DEFAULTS.items():
        row = next((line for line in doc.splitlines() if line.startswith(f"| `{key}`")), None)
        assert row is not None, key
        assert f"`{default!r}`" in row, (key, row)


def test_a_failed_init_app_leaves_the_app_unregistered(base_config: dict[str, Any]) -> None:
    app = _configured({**base_config, "JWT_GUARD_AUDIENCE": None})
    with pytest.raises(ValueError, match="JWT_GUARD_AUDIENCE"):
        JWTGuard(app)
    assert "jwt_guard" not in app.extensions


def test_a_view_on_an_app_without_the_guard_is_a_clear_runtime_error() -> None:
    app = Flask("bare")

    @app.get("/me")
    @jwt_required
    def me() -> str:
        return "never"

    app.config["PROPAGATE_EXCEPTIONS"] = True
    with pytest.raises(RuntimeError, match=r"call JWTGuard\(app\) or guard.init_app\(app\)"):
        app.test_client().get("/me")


def test_guard_methods_for_an_app_it_was_not_initialised_for_raise(
    base_config: dict[str, Any],
) -> None:
    guard = JWTGuard()
    app = _configured(base_config)
    with pytest.raises(RuntimeError, match="not initialised for app 'app'"):
        guard.verifier(app)


def test_config_changed_after_init_app_is_not_seen(make_app: MakeApp, mint: Mint) -> None:
    app = make_app()

    @app.get("/me")
    @jwt_required
    def me() -> str:
        return "ok"

    app.config["JWT_GUARD_AUDIENCE"] = "https://changed.example"
    assert app.test_client().get("/me", headers=bearer(mint())).status_code == 200


def test_load_returns_core_config_and_adapter_settings(base_config: dict[str, Any]) -> None:
    loaded = load(base_config)
    assert loaded.config.algorithms == ["RS256"]
    assert loaded.settings.locations == ("header",)
    assert loaded.settings.header_types == ("Bearer",)
    assert loaded.settings.csrf_header_name == "X-CSRF-Token"
    assert loaded.warnings == ()
