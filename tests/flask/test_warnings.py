"""Risky but legal settings are logged as warnings on jwt_guard.flask at init_app."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.factories import KeyRing, public_pem
from tests.flask.conftest import MakeApp


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "jwt_guard.flask" and r.levelno == logging.WARNING
    ]


@pytest.fixture
def logged(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.WARNING, logger="jwt_guard.flask")
    return caplog


def test_safe_defaults_log_nothing(make_app: MakeApp, logged: pytest.LogCaptureFixture) -> None:
    make_app(JWT_GUARD_TOKEN_LOCATION=["header", "cookie"])
    assert _warnings(logged) == []


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (
            {"JWT_GUARD_AUDIENCE": None, "JWT_GUARD_VERIFY_AUDIENCE": False},
            "JWT_GUARD_VERIFY_AUDIENCE is False: tokens minted for other APIs are accepted "
            "(RFC 8725 section 3.9)",
        ),
        (
            {"JWT_GUARD_ISSUER": None, "JWT_GUARD_VERIFY_ISSUER": False},
            "JWT_GUARD_VERIFY_ISSUER is False: tokens from any issuer sharing the keys are "
            "accepted (RFC 8725 section 3.8)",
        ),
        (
            {"JWT_GUARD_TOKEN_LOCATION": "cookie", "JWT_GUARD_COOKIE_SECURE": False},
            "JWT_GUARD_COOKIE_SECURE is False: the token cookie is sent over plain http",
        ),
        (
            {"JWT_GUARD_TOKEN_LOCATION": "cookie", "JWT_GUARD_COOKIE_SAMESITE": "None"},
            "JWT_GUARD_COOKIE_SAMESITE is 'None': browsers send the token cookie with "
            "cross-site requests",
        ),
        (
            {"JWT_GUARD_TOKEN_LOCATION": "cookie", "JWT_GUARD_COOKIE_CSRF_PROTECT": False},
            "JWT_GUARD_COOKIE_CSRF_PROTECT is False while tokens are read from a cookie: "
            "unsafe requests are open to cross-site request forgery",
        ),
        (
            {"JWT_GUARD_AUDEINCE": "typo"},
            "unknown config key(s) JWT_GUARD_AUDEINCE are ignored; a misspelt key silently "
            "keeps its default",
        ),
        (
            {
                "JWT_GUARD_PUBLIC_KEY": None,
                "JWT_GUARD_JWKS_URL": "http://keys.example/jwks",
                "JWT_GUARD_JWKS_OPTIONS": {"allow_http": True},
            },
            "JWT_GUARD_JWKS_URL 'http://keys.example/jwks' uses plain http: anyone on the path "
            "can replace the keys and mint tokens you accept; use https",
        ),
    ],
)
def test_risky_setting_is_logged_as_a_warning(
    make_app: MakeApp, logged: pytest.LogCaptureFixture, config: dict[str, Any], expected: str
) -> None:
    make_app(**config)
    assert _warnings(logged) == [f"jwt-guard: {expected}"]
    record = next(r for r in logged.records if r.name == "jwt_guard.flask")
    assert record.jwt_guard_event == "risky_setting"  # type: ignore[attr-defined]


def test_cookie_attributes_are_not_flagged_when_cookies_are_not_read(
    make_app: MakeApp, logged: pytest.LogCaptureFixture
) -> None:
    make_app(JWT_GUARD_COOKIE_SECURE=False, JWT_GUARD_COOKIE_CSRF_PROTECT=False)
    assert _warnings(logged) == []


def test_http_jwks_on_loopback_is_not_flagged(
    make_app: MakeApp, logged: pytest.LogCaptureFixture
) -> None:
    make_app(JWT_GUARD_PUBLIC_KEY=None, JWT_GUARD_JWKS_URL="http://127.0.0.1:9/jwks")
    assert _warnings(logged) == []


def test_hmac_mixed_with_public_key_issuers_is_flagged(
    make_app: MakeApp, keyring: KeyRing, logged: pytest.LogCaptureFixture
) -> None:
    make_app(
        JWT_GUARD_PUBLIC_KEY=None,
        JWT_GUARD_ISSUER=None,
        JWT_GUARD_ALGORITHMS=None,
        JWT_GUARD_ISSUERS={
            "https://issuer.example": {
                "PUBLIC_KEY": public_pem(keyring.rsa),
                "ALGORITHMS": ["RS256"],
            },
            "https://internal.example": {
                "SECRET": keyring.secret,
                "ALGORITHMS": ["HS256"],
            },
        },
    )
    assert _warnings(logged) == [
        "jwt-guard: JWT_GUARD_ALGORITHMS mixes HMAC and public-key algorithms (HS256, RS256); "
        "allow one family unless issuers really differ"
    ]
