"""Failed verifications and failed logins are rate limited per client: 429 with Retry-After."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import AsyncClient, Client

from jwt_guard_core import SecurityEvent, subscribe
from tests.django.session_fixtures import (
    PASSWORD,
    alice,
    bearer,
    guard_sessions,
    key_dir,
    login,
)
from tests.factories import FakeClock

__all__ = ["alice", "guard_sessions", "key_dir"]

pytestmark = pytest.mark.django_db

TOO_MANY = {
    "error": "too_many_requests",
    "error_description": "Too many failed attempts; retry later.",
}


@pytest.fixture(autouse=True)
def _sessions(guard_sessions: Callable[..., Any]) -> None:
    guard_sessions(RATE_LIMIT=3, RATE_LIMIT_WINDOW=60)


@pytest.fixture
def events() -> Any:
    seen: list[SecurityEvent] = []
    unsubscribe = subscribe(seen.append)
    yield seen
    unsubscribe()


@pytest.fixture
def reservations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The client keys the limiter's store reserved attempts for (the real store still answers)."""
    from jwt_guard_django.sessions import get_sessions

    limiter = get_sessions().limiter
    assert limiter is not None
    store = limiter._store
    real_reserve = store.reserve
    seen: list[str] = []

    def reserve(client: str, **kwargs: Any) -> Any:
        seen.append(client)
        return real_reserve(client, **kwargs)

    monkeypatch.setattr(store, "reserve", reserve)
    return seen


def test_a_repeated_token_makes_no_reservation(
    client: Client, alice: Any, reservations: list[str]
) -> None:
    access = login(client).json()["access_token"]
    reservations.clear()  # the login's own attempt
    assert client.get("/api/me/", **bearer(access)).status_code == 200
    assert reservations == ["127.0.0.1"]  # first seen: it could be a guess
    for _ in range(3):
        assert client.get("/api/me/", **bearer(access)).status_code == 200
    assert reservations == ["127.0.0.1"]


@pytest.mark.django_db(transaction=True)
async def test_async_a_repeated_token_makes_no_reservation(
    alice: Any, reservations: list[str]
) -> None:
    client = AsyncClient()
    body = {"username": "alice", "password": PASSWORD}
    access = (await client.post("/auth/token/", body, content_type="application/json")).json()
    reservations.clear()
    for _ in range(3):
        authorization = {"Authorization": f"Bearer {access['access_token']}"}
        response = await client.get("/api/me/", headers=authorization)
        assert response.status_code == 200
    assert reservations == ["127.0.0.1"]


def test_a_limited_client_waits_even_with_a_recalled_token(
    client: Client, alice: Any, reservations: list[str]
) -> None:
    access = login(client).json()["access_token"]
    assert client.get("/api/me/", **bearer(access)).status_code == 200
    for _ in range(3):
        assert client.get("/api/me/", **bearer("a.b.c")).status_code == 401
    refused = client.get("/api/me/", **bearer(access))
    assert refused.status_code == 429
    assert refused["Retry-After"] == "60"


def test_too_many_bad_tokens_get_429_with_retry_after(
    client: Client, db: Any, events: list[SecurityEvent]
) -> None:
    for _ in range(3):
        response = client.get("/api/me/", **bearer("a.b.c"))
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'
    refused = client.get("/api/me/", **bearer("a.b.c"))
    assert refused.status_code == 429
    assert refused.json() == TOO_MANY
    assert refused["Retry-After"] == "60"
    assert "WWW-Authenticate" not in refused
    limited = [e for e in events if e.name == "rate_limited"]
    assert len(limited) == 1
    assert limited[0].fields["client"] == "127.0.0.1"


def test_a_limited_client_waits_even_with_a_valid_token(client: Client, alice: Any) -> None:
    access = login(client).json()["access_token"]
    for _ in range(3):
        client.get("/api/me/", **bearer("a.b.c"))
    response = client.get("/api/me/", **bearer(access))
    assert response.status_code == 429


def test_the_limit_lifts_once_failures_leave_the_window(
    client: Client, alice: Any, clock: FakeClock
) -> None:
    access = login(client).json()["access_token"]
    for _ in range(3):
        client.get("/api/me/", **bearer("a.b.c"))
    clock.advance(30)
    assert client.get("/api/me/", **bearer(access))["Retry-After"] == "30"
    clock.advance(31)
    assert client.get("/api/me/", **bearer(access)).status_code == 200


def test_successful_requests_never_count(client: Client, alice: Any) -> None:
    access = login(client).json()["access_token"]
    for _ in range(10):
        assert client.get("/api/me/", **bearer(access)).status_code == 200


def test_clients_are_limited_separately(client: Client, alice: Any) -> None:
    for _ in range(3):
        client.get("/api/me/", **bearer("a.b.c"), REMOTE_ADDR="10.0.0.1")
    assert client.get("/api/me/", **bearer("a.b.c"), REMOTE_ADDR="10.0.0.1").status_code == 429
    assert client.get("/api/me/", **bearer("a.b.c"), REMOTE_ADDR="10.0.0.2").status_code == 401


def client_header(request: Any) -> str:
    return str(request.headers.get("X-Client", "anonymous"))


def test_rate_limit_key_function_chooses_the_client(
    client: Client, db: Any, guard_sessions: Callable[..., Any]
) -> None:
    guard_sessions(RATE_LIMIT=3, RATE_LIMIT_KEY=f"{__name__}.client_header")
    for _ in range(3):
        client.get("/api/me/", **bearer("a.b.c"), HTTP_X_CLIENT="one")
    assert client.get("/api/me/", **bearer("a.b.c"), HTTP_X_CLIENT="one").status_code == 429
    assert client.get("/api/me/", **bearer("a.b.c"), HTTP_X_CLIENT="two").status_code == 401


def test_failed_logins_count_toward_the_limit(client: Client, alice: Any) -> None:
    for _ in range(3):
        assert login(client, password="guess").status_code == 400
    refused = login(client)
    assert refused.status_code == 429
    assert refused["Retry-After"] == "60"
    assert refused["Cache-Control"] == "no-store"
    assert refused.json() == TOO_MANY


def test_rate_limit_none_turns_it_off(
    client: Client, db: Any, guard_sessions: Callable[..., Any]
) -> None:
    guard_sessions(RATE_LIMIT=None)
    for _ in range(25):
        assert client.get("/api/me/", **bearer("a.b.c")).status_code == 401


async def test_async_requests_are_limited_too(db: Any) -> None:
    client = AsyncClient()
    for _ in range(3):
        response = await client.get("/api/me/", headers={"Authorization": "Bearer a.b.c"})
        assert response.status_code == 401
    refused = await client.get("/api/me/", headers={"Authorization": "Bearer a.b.c"})
    assert refused.status_code == 429
    assert refused["Retry-After"] == "60"


def test_ipv6_clients_of_one_slash_64_share_one_budget(
    client: Client, db: Any, events: list[SecurityEvent]
) -> None:
    for i in range(1, 4):
        response = client.get("/api/me/", **bearer("a.b.c"), REMOTE_ADDR=f"2001:db8:5:6::{i:x}")
        assert response.status_code == 401
    refused = client.get("/api/me/", **bearer("a.b.c"), REMOTE_ADDR="2001:db8:5:6:ffff::1")
    assert refused.status_code == 429
    assert refused["Retry-After"] == "60"
    limited = [e for e in events if e.name == "rate_limited"]
    assert limited[0].fields["client"] == "2001:db8:5:6::/64"
    other = client.get("/api/me/", **bearer("a.b.c"), REMOTE_ADDR="2001:db8:5:7::1")
    assert other.status_code == 401
