"""The settings helpers make a real Django and a real Flask application accept the issuer.

Django through pytest-django's ``settings`` fixture and ``override_settings``
(the project's test views, ``tests/django/urls.py``), Flask through an app
configured before ``JWTGuard(app)``. Each key source (JWKS URL, discovery,
static JWKS) is exercised end to end: a valid token passes, a bad one gets
401 with ``error="invalid_token"``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from flask import Flask

from jwt_guard_core import ConfigurationError
from jwt_guard_core.testing import LocalIssuer, TokenFactory
from jwt_guard_core.testing.django import apply_settings, override_jwt_guard
from jwt_guard_core.testing.flask import configure_app
from jwt_guard_django.verifier import get_verifier
from jwt_guard_flask import JWTGuard, current_token, jwt_required
from tests.factories import FakeClock

SOURCES = ["jwks", "discovery", "static"]


def test_django_settings_name_the_documented_keys(issuer: LocalIssuer) -> None:
    base = {"ALGORITHMS": ["ES256"], "ISSUER": issuer.url, "AUDIENCE": issuer.audience}
    cooldown_off = {"unknown_kid_cooldown": 0}
    assert issuer.django_settings() == {
        **base,
        "JWKS_URL": issuer.jwks_url,
        "JWKS_OPTIONS": cooldown_off,
    }
    assert issuer.django_settings(source="discovery") == {
        **base,
        "OIDC_ISSUER": issuer.url,
        "JWKS_OPTIONS": cooldown_off,
    }
    assert issuer.django_settings(source="static") == {**base, "VERIFYING_KEY": issuer.jwks()}
    custom = issuer.django_settings(audience=["a", "b"], EXPECTED_TYPE="at+jwt", LEEWAY=0)
    assert (custom["AUDIENCE"], custom["EXPECTED_TYPE"], custom["LEEWAY"]) == (
        ["a", "b"],
        "at+jwt",
        0,
    )


def test_flask_config_is_the_same_values_with_the_prefix(issuer: LocalIssuer) -> None:
    assert issuer.flask_config() == {
        "JWT_GUARD_" + name: value for name, value in issuer.django_settings().items()
    }
    assert issuer.flask_config(source="static")["JWT_GUARD_JWKS"] == issuer.jwks()
    assert "JWT_GUARD_VERIFYING_KEY" not in issuer.flask_config(source="static")
    extra = issuer.flask_config(LEEWAY=0, JWT_GUARD_EXPECTED_TYPE="at+jwt")
    assert (extra["JWT_GUARD_LEEWAY"], extra["JWT_GUARD_EXPECTED_TYPE"]) == (0, "at+jwt")


def test_the_clock_is_handed_over_only_when_one_was_chosen() -> None:
    clock = FakeClock()
    with LocalIssuer(serve=False) as plain, LocalIssuer(serve=False, clock=clock) as timed:
        assert "CLOCK" not in plain.django_settings()
        assert plain.django_settings(clock=clock)["CLOCK"] is clock
        assert timed.django_settings()["CLOCK"] is clock
        assert timed.flask_config()["JWT_GUARD_CLOCK"] is clock


def test_an_unknown_source_is_refused(issuer: LocalIssuer) -> None:
    with pytest.raises(ConfigurationError, match="'file' is not accepted") as refused:
        issuer.flask_config(source="file")  # type: ignore[arg-type]
    assert refused.value.setting == "source"


@pytest.mark.parametrize(
    ("options", "setting"),
    [
        ({"audience": 7}, "audience"),
        ({"audience": ""}, "audience"),
        ({"audience": ["ok", None]}, "audience"),
        ({"clock": "time.time"}, "clock"),
    ],
)
def test_bad_settings_arguments_are_refused_naming_them(
    issuer: LocalIssuer, options: dict[str, Any], setting: str
) -> None:
    for helper in (issuer.django_settings, issuer.flask_config):
        with pytest.raises(ConfigurationError) as refused:
            helper(**options)
        assert refused.value.setting == setting


# -- Django


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@pytest.mark.parametrize("source", SOURCES)
def test_django_accepts_the_issuers_tokens_and_refuses_bad_ones(
    settings: Any, client: Client, issuer: LocalIssuer, tokens: TokenFactory, source: str
) -> None:
    value = apply_settings(settings, issuer, source=source)
    assert value == settings.JWT_GUARD
    response = client.get("/required/", **bearer(tokens.token("alice", scopes=["orders:read"])))
    assert response.status_code == 200
    assert response.json()["sub"] == "alice"
    assert response.json()["scopes"] == ["orders:read"]
    refused = client.get("/required/", **bearer(tokens.expired("alice")))
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused["WWW-Authenticate"]


def test_an_issuer_outage_is_503_in_django(
    settings: Any, client: Client, issuer: LocalIssuer, tokens: TokenFactory
) -> None:
    apply_settings(settings, issuer)
    with issuer.outage():
        response = client.get("/required/", **bearer(tokens.token()))
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert issuer.jwks_requests == 1


def test_override_jwt_guard_applies_for_the_block_only(
    settings: Any, client: Client, issuer: LocalIssuer, tokens: TokenFactory
) -> None:
    settings.JWT_GUARD = {**settings.JWT_GUARD, "ISSUER": "https://elsewhere.example"}
    token = tokens.token()
    with override_jwt_guard(issuer, source="static"):
        assert get_verifier().config.policies.keys() == {issuer.url}
        assert client.get("/required/", **bearer(token)).status_code == 200
    assert get_verifier().config.policies.keys() == {"https://elsewhere.example"}
    assert client.get("/required/", **bearer(token)).status_code == 401


def test_a_shared_clock_expires_tokens_in_django_without_sleeping(
    settings: Any, client: Client
) -> None:
    clock = FakeClock()
    with LocalIssuer(clock=clock) as local:
        apply_settings(settings, local)
        token = local.tokens().token(lifetime=60)
        assert client.get("/required/", **bearer(token)).status_code == 200
        clock.advance(60 + 10)  # exp plus the default leeway
        assert client.get("/required/", **bearer(token)).status_code == 401


# -- Flask


@pytest.fixture
def make_app() -> Iterator[Any]:
    apps: list[Flask] = []

    def _make(local: LocalIssuer, **options: Any) -> Flask:
        app = Flask("kit_test")
        configure_app(app, local, **options)
        JWTGuard(app)

        @app.get("/me")
        @jwt_required
        def me() -> dict[str, Any]:
            return {"sub": current_token.subject, "roles": list(current_token.claims["roles"])}

        apps.append(app)
        return app

    yield _make
    for app in apps:
        for keys in app.extensions["jwt_guard"].key_sources(app).values():
            close = getattr(keys, "close", None)
            if close is not None:
                close()


@pytest.mark.parametrize("source", SOURCES)
def test_flask_accepts_the_issuers_tokens_and_refuses_bad_ones(
    make_app: Any, issuer: LocalIssuer, tokens: TokenFactory, source: str
) -> None:
    client = make_app(issuer, source=source).test_client()
    response = client.get(
        "/me", headers={"Authorization": f"Bearer {tokens.token('carol', roles=['ops'])}"}
    )
    assert response.status_code == 200
    assert response.json == {"sub": "carol", "roles": ["ops"]}
    refused = client.get(
        "/me", headers={"Authorization": f"Bearer {tokens.tampered('carol', roles=['ops'])}"}
    )
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]


def test_an_issuer_outage_is_503_in_flask(
    make_app: Any, issuer: LocalIssuer, tokens: TokenFactory
) -> None:
    client = make_app(issuer).test_client()
    with issuer.outage():
        response = client.get("/me", headers={"Authorization": f"Bearer {tokens.token()}"})
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0


def test_configure_app_refuses_an_app_whose_guard_already_read_its_config(
    issuer: LocalIssuer,
) -> None:
    app = Flask("kit_test")
    app.config.update(issuer.flask_config(source="static"))
    JWTGuard(app)
    with pytest.raises(RuntimeError, match="before JWTGuard"):
        configure_app(app, issuer)
