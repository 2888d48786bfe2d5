"""The Flask example's environment variables -> JWT_GUARD_* keys."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

APP = Path(__file__).resolve().parents[2] / "example_projects" / "flask_api" / "app.py"


@pytest.fixture(scope="module")
def example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("flask_api_example", APP)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_jwks_url_configuration(example: ModuleType) -> None:
    env = {
        "JWT_GUARD_ISSUER": "https://issuer.example/",
        "JWT_GUARD_AUDIENCE": "orders-api",
        "JWT_GUARD_JWKS_URL": "https://issuer.example/jwks.json",
        "JWT_GUARD_ALGORITHMS": "RS256,ES256",
        "JWT_GUARD_TOKEN_LOCATIONS": "header,cookie",
    }
    assert example.config_from_env(env) == {
        "JWT_GUARD_ISSUER": "https://issuer.example/",
        "JWT_GUARD_AUDIENCE": "orders-api",
        "JWT_GUARD_JWKS_URL": "https://issuer.example/jwks.json",
        "JWT_GUARD_ALGORITHMS": "RS256,ES256",
        "JWT_GUARD_TOKEN_LOCATION": "header,cookie",
        "JWT_GUARD_WARM_ON_STARTUP": True,
    }


@pytest.mark.parametrize(
    "discovery",
    ["https://idp.example/t1", "https://idp.example/t1/.well-known/openid-configuration"],
)
def test_discovery_url_may_be_the_issuer_or_its_document(
    example: ModuleType, discovery: str
) -> None:
    config = example.config_from_env(
        {"JWT_GUARD_AUDIENCE": "orders-api", "JWT_GUARD_DISCOVERY_URL": discovery}
    )
    assert config["JWT_GUARD_OIDC_ISSUER"] == "https://idp.example/t1"
    assert config["JWT_GUARD_ALGORITHMS"] == "RS256"
    assert config["JWT_GUARD_TOKEN_LOCATION"] == "header"
    assert "JWT_GUARD_ISSUER" not in config


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"JWT_GUARD_AUDIENCE": "a", "JWT_GUARD_ISSUER": "i"}, "set JWT_GUARD_JWKS_URL or"),
        (
            {
                "JWT_GUARD_AUDIENCE": "a",
                "JWT_GUARD_JWKS_URL": "https://x/j",
                "JWT_GUARD_DISCOVERY_URL": "https://x",
            },
            "not both",
        ),
        ({"JWT_GUARD_ISSUER": "i", "JWT_GUARD_JWKS_URL": "https://x/j"}, "JWT_GUARD_AUDIENCE"),
        ({"JWT_GUARD_AUDIENCE": "a", "JWT_GUARD_JWKS_URL": "https://x/j"}, "JWT_GUARD_ISSUER"),
    ],
)
def test_incomplete_environment_is_refused_with_the_variable_to_set(
    example: ModuleType, env: dict[str, str], message: str
) -> None:
    with pytest.raises(RuntimeError, match=message):
        example.config_from_env(env)
