"""Fixtures for the session tests: issuing + ``JWT_GUARD["SESSIONS"]`` on the fake clock.

Import them into a test module::

    from tests.django.session_fixtures import alice, guard_sessions, key_dir  # noqa: F401

``guard_sessions(**keys)`` configures a service that issues ES256 tokens
from a fresh key directory and verifies them with the published JWKS, with
the given ``SESSIONS`` keys (default: the memory backend, JSON mode).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from http.cookies import Morsel
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from tests.factories import AUDIENCE, ISSUER, FakeClock

PASSPHRASE = "django sessions passphrase 0123456789"
PASSWORD = "correct horse battery staple"
NO_STORE = "no-store"


@pytest.fixture
def key_dir(tmp_path: Path) -> Path:
    return tmp_path / "keys"


@pytest.fixture
def guard_sessions(
    settings: Any, key_dir: Path, monkeypatch: pytest.MonkeyPatch, clock: FakeClock
) -> Callable[..., Any]:
    """``guard_sessions(**sessions_keys)``: JWT_GUARD with ISSUING and SESSIONS."""
    monkeypatch.setenv("JWT_GUARD_KEY_PASSPHRASE", PASSPHRASE)
    settings.ROOT_URLCONF = "tests.django.session_urls"

    def _set(*, jwt_guard: dict[str, Any] | None = None, **sessions: Any) -> Any:
        from jwt_guard_django.issuing import get_key_manager

        base = {
            "ALGORITHMS": ["ES256"],
            "ISSUER": ISSUER,
            "AUDIENCE": AUDIENCE,
            "CLOCK": clock,
            "TOKEN_LOCATIONS": ["header", "cookie"],
            "ISSUING": {"KEY_DIR": str(key_dir), "ISSUER": ISSUER, "AUDIENCE": AUDIENCE},
            "SESSIONS": {"BACKEND": "memory", **sessions},
            **(jwt_guard or {}),
        }
        settings.JWT_GUARD = {**base, "VERIFYING_KEY": {"keys": []}}
        keys = get_key_manager()
        keys.active_key()
        settings.JWT_GUARD = {**base, "VERIFYING_KEY": keys.jwks()}
        return settings

    return _set


@pytest.fixture
def alice(db: Any) -> Any:
    from django.contrib.auth.models import User

    return User.objects.create_user("alice", password=PASSWORD)


def login(client: Client, username: str = "alice", password: str = PASSWORD, **extra: Any) -> Any:
    return client.post(
        "/auth/token/",
        {"username": username, "password": password},
        content_type="application/json",
        **extra,
    )


def post_json(client: Client, path: str, body: dict[str, Any] | None = None, **extra: Any) -> Any:
    return client.post(path, body or {}, content_type="application/json", **extra)


def bearer(access_token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {access_token}"}


def set_cookie_headers(response: Any) -> dict[str, str]:
    """Each ``Set-Cookie`` header of a real response, by cookie name, as sent."""
    return {name: morsel.OutputString() for name, morsel in response.cookies.items()}


def attributes(header: str) -> dict[str, str]:
    """``Set-Cookie`` attributes, lower-cased names (``httponly``: ``""``)."""
    parts = [p.strip() for p in header.split(";")][1:]
    found: dict[str, str] = {}
    for part in parts:
        name, _, value = part.partition("=")
        found[name.lower()] = value
    return found


def morsel(response: Any, name: str) -> Morsel[str]:
    return response.cookies[name]


TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")
