from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from jwt_guard_core import GuardConfig, SecurityEvent, StaticKeySet, Verifier, subscribe
from tests.factories import AUDIENCE, ISSUER, FakeClock, KeyRing, public_pem

# One SoftHSM2 token folder per test session: the PKCS#11 login is per process,
# so every module shares these fixtures instead of importing its own copy.
pytest_plugins = ["tests.signing.softhsm"]


@pytest.fixture(scope="session")
def keyring() -> KeyRing:
    return KeyRing()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def rsa_keys(keyring: KeyRing) -> StaticKeySet:
    """The session RSA key as a static set with kid ``rsa-1``."""
    return StaticKeySet.from_pem(public_pem(keyring.rsa), kid="rsa-1")


@pytest.fixture
def make_verifier(clock: FakeClock, rsa_keys: StaticKeySet) -> Callable[..., Verifier]:
    """``make_verifier(**overrides)``: an RS256 verifier for ISSUER/AUDIENCE at the fake clock."""

    def _make(**overrides: Any) -> Verifier:
        options: dict[str, Any] = {
            "algorithms": ["RS256"],
            "keys": rsa_keys,
            "issuer": ISSUER,
            "audience": AUDIENCE,
            "clock": clock,
        }
        options.update(overrides)
        return Verifier(GuardConfig(**options))

    return _make


@pytest.fixture
def recorded_events() -> Iterator[list[SecurityEvent]]:
    """Every security event emitted during the test, in order."""
    seen: list[SecurityEvent] = []
    unsubscribe = subscribe(seen.append)
    try:
        yield seen
    finally:
        unsubscribe()
