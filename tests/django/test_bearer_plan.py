"""The common bearer request takes the core's plan; everything else the full path (issue 14)."""

from __future__ import annotations

from typing import Any

import pytest

from jwt_guard_core import request_policy
from jwt_guard_django.signals import token_rejected, token_verified

CHALLENGE = 'Bearer realm="api", error="invalid_token"'


@pytest.fixture
def full_path(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """One entry per request that went the full path (the core's ``locate``)."""
    calls: list[str] = []
    locate = request_policy.locate

    def spy(view: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(view.method)
        return locate(view, *args, **kwargs)

    monkeypatch.setattr(request_policy, "locate", spy)
    return calls


@pytest.mark.parametrize("path", ["/required/", "/scoped/", "/drf/me/"])
def test_a_bearer_request_takes_the_plan(
    client: Any, bearer: Any, full_path: list[str], middleware_mode: str, path: str
) -> None:
    verified: list[str] = []

    def on_verified(sender: Any, **kwargs: Any) -> None:
        verified.append(kwargs["token"].subject)

    token_verified.connect(on_verified)
    try:
        response = client.get(path, headers=bearer(scope="orders:read orders:write"))
    finally:
        token_verified.disconnect(on_verified)
    assert response.status_code == 200
    assert response.json()["sub"] == "user-1"
    assert verified == ["user-1"]
    assert full_path == []


def test_the_middleware_takes_the_plan_for_a_plain_view(
    client: Any, bearer: Any, full_path: list[str]
) -> None:
    response = client.get("/plain/", headers=bearer())
    assert response.json()["sub"] == "user-1"
    assert response.json()["user"] == "TokenUser"
    assert full_path == []


async def test_a_bearer_request_takes_the_plan_under_asgi(
    async_client: Any, bearer: Any, full_path: list[str]
) -> None:
    response = await async_client.get("/plain-async/", headers=bearer())
    assert response.status_code == 200
    assert response.json()["sub"] == "user-1"
    assert full_path == []


def test_a_refused_bearer_token_keeps_its_answer_on_the_plan(
    client: Any, make_token: Any, full_path: list[str], middleware_mode: str
) -> None:
    rejected: list[str] = []

    def on_rejected(sender: Any, **kwargs: Any) -> None:
        rejected.append(kwargs["reason"])

    token_rejected.connect(on_rejected)
    try:
        expired = make_token(exp=0)
        response = client.get("/required/", headers={"Authorization": f"Bearer {expired}"})
    finally:
        token_rejected.disconnect(on_rejected)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith(CHALLENGE)
    assert response.json()["error"] == "invalid_token"
    assert rejected == ["token_expired"]
    assert full_path == []


def test_a_missing_scope_is_refused_by_the_route_check(
    client: Any, bearer: Any, full_path: list[str], middleware_mode: str
) -> None:
    response = client.get("/scoped/", headers=bearer(scope="profile"))
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response["WWW-Authenticate"]
    assert full_path == []


@pytest.mark.parametrize(
    ("header", "status"),
    [(None, 401), ("Bearer a$b", 400), ("Basic dXNlcjpwYXNz", 401), ("DPoP abc", 401)],
)
def test_a_request_outside_the_plan_takes_the_full_path(
    client: Any, full_path: list[str], header: str | None, status: int
) -> None:
    headers = {"Authorization": header} if header is not None else {}
    response = client.get("/required/", headers=headers)
    assert response.status_code == status
    assert "WWW-Authenticate" in response
    assert full_path == ["GET"]


def test_a_cookie_configuration_takes_the_full_path(
    client: Any, configure: Any, bearer: Any, make_token: Any, full_path: list[str]
) -> None:
    configure(TOKEN_LOCATIONS=["header", "cookie"])
    assert client.get("/required/", headers=bearer()).status_code == 200
    client.cookies["access_token"] = make_token()
    assert client.get("/required/").status_code == 200
    assert full_path == ["GET", "GET"]


def test_a_dpop_configuration_takes_the_full_path(
    client: Any, configure: Any, bearer: Any, full_path: list[str]
) -> None:
    configure(DPOP="allowed")
    assert client.get("/required/", headers=bearer()).status_code == 200
    assert full_path == ["GET"]


def test_the_plan_follows_a_settings_change(
    client: Any, configure: Any, bearer: Any, full_path: list[str]
) -> None:
    assert client.get("/required/", headers=bearer()).status_code == 200
    configure(TOKEN_LOCATIONS=["cookie"])
    # Header tokens are no longer read: no token, 401.
    assert client.get("/required/", headers=bearer()).status_code == 401
    assert full_path == ["GET"]
