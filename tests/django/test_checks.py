"""System checks: one test per id (jwt_guard.E0xx / W0xx)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core import checks

from jwt_guard_django.checks import check_settings

from .issuing_fixtures import PASSPHRASE, issuing, key_dir

__all__ = ["issuing", "key_dir"]


def ids(settings: Any = None) -> list[str]:
    return [m.id for m in check_settings()]


def test_valid_configuration_passes_every_check():
    assert ids() == []


def test_checks_are_registered_under_the_security_tag():
    messages = checks.run_checks(tags=[checks.Tags.security])
    assert [m.id for m in messages if m.id and m.id.startswith("jwt_guard.")] == []
    registered = checks.registry.registry.get_checks(include_deployment_checks=True)
    assert any(c is check_settings and checks.Tags.security in c.tags for c in registered)


def test_e001_no_algorithms(configure):
    configure(ALGORITHMS=None)
    assert ids() == ["jwt_guard.E001"]


def test_e001_empty_algorithm_list(configure):
    configure(ALGORITHMS=[])
    assert ids() == ["jwt_guard.E001"]


def test_e001_issuer_without_algorithms(configure):
    configure(
        ALGORITHMS=None,
        VERIFYING_KEY=None,
        ISSUERS={"https://a.example": {"SIGNING_KEY": "s" * 64, "AUDIENCE": "api"}},
    )
    assert ids() == ["jwt_guard.E001"]


def test_e002_hmac_with_a_short_secret(configure):
    configure(ALGORITHMS=["HS256"], VERIFYING_KEY=None, SIGNING_KEY="too-short-secret")
    messages = check_settings()
    assert [m.id for m in messages] == ["jwt_guard.E002"]
    assert "16 bytes" in messages[0].msg
    assert "too-short-secret" not in messages[0].msg


def test_e002_secret_long_enough_for_hs256_but_not_hs512(configure):
    configure(ALGORITHMS=["HS256", "HS512"], VERIFYING_KEY=None, SIGNING_KEY="s" * 40)
    assert ids() == ["jwt_guard.E002"]


def test_e003_hmac_mixed_with_asymmetric_algorithms(configure):
    configure(ALGORITHMS=["RS256", "HS256"])
    assert ids() == ["jwt_guard.E003"]


def test_e004_leeway_over_five_minutes(configure):
    configure(LEEWAY=301)
    assert ids() == ["jwt_guard.E004"]


def test_e004_leeway_as_timedelta_is_read_in_seconds(configure):
    from datetime import timedelta

    configure(LEEWAY=timedelta(minutes=5))
    assert ids() == []
    configure(LEEWAY=timedelta(minutes=6))
    assert ids() == ["jwt_guard.E004"]


def test_e005_jwks_url_over_plain_http(configure):
    configure(VERIFYING_KEY=None, JWKS_URL="http://idp.example/jwks.json")
    assert ids() == ["jwt_guard.E005"]


def test_e005_discovery_over_plain_http(configure):
    configure(VERIFYING_KEY=None, OIDC_ISSUER="http://idp.example/realms/x")
    assert ids() == ["jwt_guard.E005"]


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/jwks", "http://localhost/jwks"])
def test_e005_plain_http_on_loopback_is_allowed(configure, url):
    configure(VERIFYING_KEY=None, JWKS_URL=url)
    assert "jwt_guard.E005" not in ids()


def test_e006_no_key_source(configure):
    configure(VERIFYING_KEY=None)
    assert ids() == ["jwt_guard.E006"]


def test_e007_configuration_the_core_refuses(configure):
    configure(AUDIENCE=None)
    messages = check_settings()
    assert [m.id for m in messages] == ["jwt_guard.E007"]
    assert "audience" in messages[0].msg


def test_e007_unreadable_key_file(configure, tmp_path):
    configure(VERIFYING_KEY=str(tmp_path / "missing.pem"))
    messages = check_settings()
    assert [m.id for m in messages] == ["jwt_guard.E007"]
    assert "cannot read key file" in messages[0].msg


def test_e008_jwt_guard_not_a_dict(settings):
    settings.JWT_GUARD = ["RS256"]
    assert ids() == ["jwt_guard.E008"]


def test_e009_unknown_token_location(configure):
    configure(TOKEN_LOCATIONS=["header", "query"])
    assert ids() == ["jwt_guard.E009"]


def test_e010_no_header_types(configure):
    configure(AUTH_HEADER_TYPES=[])
    assert ids() == ["jwt_guard.E010"]


def test_w001_issuer_validation_off(configure):
    configure(VERIFY_ISSUER=False, ISSUER=None)
    assert ids() == ["jwt_guard.W001"]


def test_w002_audience_validation_off(configure):
    configure(VERIFY_AUDIENCE=False, AUDIENCE=None)
    assert ids() == ["jwt_guard.W002"]


def test_w003_cookie_not_secure_without_debug(configure, settings):
    configure(TOKEN_LOCATIONS=["cookie"], AUTH_COOKIE_SECURE=False)
    assert ids() == ["jwt_guard.W003"]
    settings.DEBUG = True
    assert ids() == []


def test_w004_cookie_not_httponly_without_debug(configure, settings):
    configure(TOKEN_LOCATIONS=["cookie"], AUTH_COOKIE_HTTPONLY=False)
    assert ids() == ["jwt_guard.W004"]
    settings.DEBUG = True
    assert ids() == []


def test_w005_samesite_none(configure):
    configure(TOKEN_LOCATIONS=["header", "cookie"], AUTH_COOKIE_SAMESITE="None")
    assert ids() == ["jwt_guard.W005"]


def test_w006_cookie_tokens_with_csrf_off(configure):
    configure(TOKEN_LOCATIONS=["cookie"], AUTH_COOKIE_CSRF=False)
    assert ids() == ["jwt_guard.W006"]


def test_cookie_attributes_are_not_checked_when_cookies_are_not_read(configure):
    configure(AUTH_COOKIE_SECURE=False, AUTH_COOKIE_SAMESITE="None", AUTH_COOKIE_CSRF=False)
    assert ids() == []


def test_w007_unknown_key(configure):
    configure(AUDIENCES=["https://api.example"])
    messages = check_settings()
    assert [m.id for m in messages] == ["jwt_guard.W007"]
    assert "AUDIENCES" in messages[0].msg


def test_w008_middleware_before_authentication_middleware(settings):
    settings.MIDDLEWARE = [
        "django.contrib.sessions.middleware.SessionMiddleware",
        "jwt_guard_django.middleware.JWTGuardMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
    ]
    assert ids() == ["jwt_guard.W008"]


def test_e011_issuing_with_a_bad_value(issuing):
    issuing(ROTATION_INTERVAL=10)
    messages = check_settings()
    assert [m.id for m in messages] == ["jwt_guard.E011"]
    assert "JWT_GUARD['ISSUING']['ROTATION_INTERVAL']" in messages[0].msg


def test_e011_issuing_that_is_not_a_dict(settings):
    settings.JWT_GUARD = {**settings.JWT_GUARD, "ISSUING": "yes"}
    assert ids() == ["jwt_guard.E011"]


def test_e011_issuing_with_an_unknown_key(issuing):
    issuing(ROTATE_EVERY=3600)
    messages = check_settings()
    assert [m.id for m in messages] == ["jwt_guard.E011"]
    assert "JWT_GUARD['ISSUING']['ROTATE_EVERY']" in messages[0].msg


def test_e011_issuing_passphrase_variable_unset(issuing, monkeypatch):
    monkeypatch.delenv("JWT_GUARD_KEY_PASSPHRASE")
    messages = check_settings()
    assert [m.id for m in messages] == ["jwt_guard.E011"]
    assert "JWT_GUARD['ISSUING']['PASSPHRASE_ENV']" in messages[0].msg


def test_e011_issuing_key_directory_readable_by_others(issuing, key_dir: Path):
    key_dir.mkdir(mode=0o700)
    key_dir.chmod(0o755)
    messages = check_settings()
    assert [m.id for m in messages] == ["jwt_guard.E011"]
    assert "chmod 700" in messages[0].msg


def test_valid_issuing_passes_without_opening_the_key_store(issuing, key_dir: Path):
    assert ids() == []
    # The store creates the directory when opened; the check must not.
    assert not key_dir.exists()


def test_e011_never_shows_the_passphrase(issuing, monkeypatch):
    monkeypatch.setenv("JWT_GUARD_KEY_PASSPHRASE", PASSPHRASE[:10])
    messages = check_settings()
    assert [m.id for m in messages] == ["jwt_guard.E011"]
    assert PASSPHRASE[:10] not in messages[0].msg
    assert "at least 16" in messages[0].msg
