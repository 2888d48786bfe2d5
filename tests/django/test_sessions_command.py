"""``manage.py jwt_guard_revoke --jti ... | --session ... | --subject ...``."""

from __future__ import annotations

from collections.abc import Callable
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from tests.django.session_fixtures import (
    alice,
    bearer,
    guard_sessions,
    key_dir,
    login,
    post_json,
)
from tests.factories import FakeClock

__all__ = ["alice", "guard_sessions", "key_dir"]

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _sessions(guard_sessions: Callable[..., Any]) -> None:
    guard_sessions()


def revoke(*args: str) -> str:
    out = StringIO()
    call_command("jwt_guard_revoke", *args, stdout=out)
    return out.getvalue()


def claims_of(client: Client, access: str) -> dict[str, Any]:
    from jwt_guard_django.verifier import get_verifier

    return dict(get_verifier().verify(access).claims)


def test_revoke_by_jti_refuses_that_token_only(client: Client, alice: Any) -> None:
    one, two = login(client).json(), login(client).json()
    claims = claims_of(client, one["access_token"])
    output = revoke("--jti", claims["jti"], "--expires-at", str(claims["exp"]))
    assert output.strip() == f"revoked token {claims['jti']}"
    assert client.get("/api/me/", **bearer(one["access_token"])).status_code == 401
    assert client.get("/api/me/", **bearer(two["access_token"])).status_code == 200


def test_revoke_by_session_ends_its_tokens(client: Client, alice: Any) -> None:
    tokens = login(client).json()
    sid = claims_of(client, tokens["access_token"])["sid"]
    assert revoke("--session", sid).strip() == f"revoked session {sid}"
    assert client.get("/api/me/", **bearer(tokens["access_token"])).status_code == 401
    refresh = post_json(client, "/auth/refresh/", {"refresh_token": tokens["refresh_token"]})
    assert refresh.status_code == 400


def test_revoke_by_subject_logs_out_everywhere(
    client: Client, alice: Any, clock: FakeClock
) -> None:
    one, two = login(client).json(), login(client).json()
    clock.advance(1)
    output = revoke("--subject", str(alice.pk))
    assert output.strip() == f"revoked every token of {alice.pk} (2 session(s) ended)"
    for tokens in (one, two):
        assert client.get("/api/me/", **bearer(tokens["access_token"])).status_code == 401


def test_revoke_needs_exactly_one_target() -> None:
    with pytest.raises(CommandError, match="one of the arguments"):
        revoke()
    with pytest.raises(CommandError, match="not allowed with"):
        revoke("--jti", "a", "--subject", "b")


def test_expires_at_without_jti_is_an_error() -> None:
    with pytest.raises(CommandError, match="--expires-at goes with --jti"):
        revoke("--subject", "b", "--expires-at", "5")


def test_missing_sessions_setting_is_a_command_error(settings: Any) -> None:
    settings.JWT_GUARD = {k: v for k, v in settings.JWT_GUARD.items() if k != "SESSIONS"}
    with pytest.raises(CommandError, match=r"configuration error: JWT_GUARD\['SESSIONS'\]"):
        revoke("--jti", "abc")
