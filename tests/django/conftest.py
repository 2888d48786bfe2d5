from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.factories import AUDIENCE, ISSUER, FakeClock, KeyRing, claims, public_pem, sign

RS256_HEADER = {"alg": "RS256", "kid": "rsa-1", "typ": "JWT"}


@pytest.fixture(autouse=True)
def guard_settings(settings: Any, keyring: KeyRing, clock: FakeClock) -> Any:
    """Every test starts from a valid RS256 configuration at the fake clock."""
    settings.JWT_GUARD = {
        "ALGORITHMS": ["RS256"],
        "ISSUER": ISSUER,
        "AUDIENCE": AUDIENCE,
        "VERIFYING_KEY": {"rsa-1": public_pem(keyring.rsa).decode()},
        "CLOCK": clock,
    }
    return settings


@pytest.fixture(params=["middleware", "no-middleware"])
def middleware_mode(request: pytest.FixtureRequest, settings: Any) -> str:
    """Decorators and the DRF class work behind the middleware (verifying once) and on their own."""
    if request.param == "no-middleware":
        settings.MIDDLEWARE = [
            m for m in settings.MIDDLEWARE if m != "jwt_guard_django.middleware.JWTGuardMiddleware"
        ]
    return str(request.param)


@pytest.fixture
def configure(settings: Any) -> Callable[..., None]:
    """``configure(KEY=value, ...)``: change JWT_GUARD keys (``None`` removes one)."""

    def _configure(**changes: Any) -> None:
        updated = {**settings.JWT_GUARD, **changes}
        settings.JWT_GUARD = {k: v for k, v in updated.items() if v is not None}

    return _configure


@pytest.fixture
def make_token(keyring: KeyRing) -> Callable[..., str]:
    """``make_token(**claim_overrides)``: an RS256 token the default settings accept."""

    def _make(**overrides: Any) -> str:
        return sign(RS256_HEADER, claims(**overrides), keyring.rsa)

    return _make


@pytest.fixture
def bearer(make_token: Callable[..., str]) -> Callable[..., dict[str, str]]:
    """``bearer(**claim_overrides)``: request headers carrying the token in Authorization."""

    def _bearer(**overrides: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {make_token(**overrides)}"}

    return _bearer


@pytest.fixture
def rejected_reasons() -> Any:
    """The ``reason`` of every ``token_rejected`` signal sent during the test, in order."""
    from jwt_guard_django.signals import token_rejected

    seen: list[str] = []

    def receiver(sender: Any, request: Any, reason: str, **kwargs: Any) -> None:
        seen.append(reason)

    token_rejected.connect(receiver)
    yield seen
    token_rejected.disconnect(receiver)
