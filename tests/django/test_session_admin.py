"""The Django admin for the model-backed session store, its actions, and ``jwt_guard_sessions``.

Each action goes through the core's services: a revoked session's refresh
token is then refused with ``refresh_family_revoked`` and its access token
with 401, exactly as after a logout.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from jwt_guard_core import SecurityEvent, admin
from jwt_guard_core.sessions import hash_refresh_token
from jwt_guard_django.models import FailedAttempt, RefreshFamily
from jwt_guard_django.store import DjangoSessionStore
from tests.django.session_fixtures import alice, bearer, guard_sessions, key_dir, login, post_json
from tests.factories import FakeClock
from tests.sessions.listing_contract import check_failures, check_families, check_revocations

__all__ = ["alice", "guard_sessions", "key_dir"]

pytestmark = pytest.mark.django_db

FAMILIES = "/admin/jwt_guard/refreshfamily/"
TOKENS = "/admin/jwt_guard/refreshtoken/"
REVOCATIONS = "/admin/jwt_guard/revocationentry/"
ATTEMPTS = "/admin/jwt_guard/failedattempt/"


def test_the_model_store_lists_like_every_other_store() -> None:
    store = DjangoSessionStore()
    check_families(store)
    check_revocations(store)
    check_failures(store)


@pytest.fixture
def operated(guard_sessions: Any, settings: Any, alice: Any) -> Client:
    """Sessions in the database (the ``django`` backend), the admin site, a superuser."""
    from django.contrib.auth.models import User

    guard_sessions(BACKEND="django", RATE_LIMIT=3)
    settings.ROOT_URLCONF = "tests.django.admin_urls"
    staff = Client()
    staff.force_login(User.objects.create_superuser("root", password="not used here 0123"))
    return staff


def _session(client: Client) -> dict[str, Any]:
    tokens = login(client).json()
    me = client.get("/api/me/", **bearer(tokens["access_token"])).json()
    return {**tokens, **me}


def _refused_reason(events: list[SecurityEvent]) -> str | None:
    rejected = [e for e in events if e.name == "refresh_token_rejected"]
    return rejected[-1].reason if rejected else None


def _act(staff: Client, page: str, action: str, selected: list[Any]) -> list[str]:
    """Run an admin action; the messages the admin shows after it."""
    response = staff.post(page, {"action": action, "_selected_action": selected}, follow=True)
    assert response.status_code == 200
    return [str(message) for message in response.context["messages"]]


def test_the_changelists_render_and_search_by_subject_and_session(operated: Client) -> None:
    api = Client()
    one, two = _session(api), _session(api)
    page = operated.get(FAMILIES)
    assert page.status_code == 200
    html = page.content.decode()
    assert one["sid"] in html
    assert two["sid"] in html
    found = operated.get(FAMILIES, {"q": one["sid"]}).content.decode()
    assert one["sid"] in found
    assert two["sid"] not in found
    assert one["sid"] in operated.get(FAMILIES, {"q": one["sub"]}).content.decode()
    assert one["sid"] not in operated.get(FAMILIES, {"q": "nobody"}).content.decode()
    assert "Revoke the selected sessions" in html
    assert "Log their subjects out everywhere" in html
    assert "Delete selected" not in html  # a raw delete would bypass the core
    tokens = operated.get(TOKENS, {"q": one["sid"]})
    assert tokens.status_code == 200
    assert hash_refresh_token(one["refresh_token"]) not in tokens.content.decode()
    for page_url in (REVOCATIONS, ATTEMPTS):
        assert operated.get(page_url).status_code == 200


def test_sessions_cannot_be_added_edited_or_deleted_here(operated: Client) -> None:
    sid = _session(Client())["sid"]
    assert operated.get(f"{FAMILIES}add/").status_code == 403
    detail = operated.get(f"{FAMILIES}{sid}/change/")
    assert detail.status_code == 200  # view only
    assert b'name="subject"' not in detail.content
    assert operated.post(f"{FAMILIES}{sid}/change/", {"subject": "mallory"}).status_code == 403
    assert operated.post(f"{FAMILIES}{sid}/delete/", {"post": "yes"}).status_code == 403
    assert RefreshFamily.objects.get(family_id=sid).subject != "mallory"


def test_staff_who_may_only_view_cannot_run_the_actions(operated: Client) -> None:
    from django.contrib.auth.models import Permission, User

    viewer = User.objects.create_user("viewer", password="not used here 0123", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_refreshfamily"))
    staff = Client()
    staff.force_login(viewer)
    api = Client()
    mine = _session(api)
    page = staff.get(FAMILIES).content.decode()
    assert mine["sid"] in page
    assert "Revoke the selected sessions" not in page
    staff.post(FAMILIES, {"action": "revoke_sessions", "_selected_action": [mine["sid"]]})
    assert RefreshFamily.objects.get(family_id=mine["sid"]).revoked_at is None
    assert api.get("/api/me/", **bearer(mine["access_token"])).status_code == 200


def test_revoke_action_ends_the_session_through_the_core(
    operated: Client, recorded_events: list[SecurityEvent]
) -> None:
    api = Client()
    mine, other = _session(api), _session(api)
    shown = _act(operated, FAMILIES, "revoke_sessions", [mine["sid"]])
    assert shown == [f"revoked session {mine['sid']}"]
    assert "refresh_family_revoked" in [e.name for e in recorded_events]
    assert "session_revoked" in [e.name for e in recorded_events]  # the sid denylist
    refresh = post_json(api, "/auth/refresh/", {"refresh_token": mine["refresh_token"]})
    assert refresh.status_code == 400
    assert refresh.json()["error"] == "invalid_grant"
    assert _refused_reason(recorded_events) == "refresh_family_revoked"
    assert api.get("/api/me/", **bearer(mine["access_token"])).status_code == 401
    assert api.get("/api/me/", **bearer(other["access_token"])).status_code == 200
    revoked = operated.get(FAMILIES, {"state": "revoked"}).content.decode()
    assert mine["sid"] in revoked
    assert other["sid"] not in revoked
    assert mine["sid"] in operated.get(REVOCATIONS, {"q": mine["sid"]}).content.decode()


def test_log_out_everywhere_action_ends_every_session_of_the_subject(
    operated: Client, clock: FakeClock, recorded_events: list[SecurityEvent]
) -> None:
    api = Client()
    one, two = _session(api), _session(api)
    clock.advance(1)
    shown = _act(operated, FAMILIES, "log_subjects_out", [one["sid"]])
    assert shown == [f"logged {one['sub']} out everywhere (2 session(s) ended)"]
    for tokens in (one, two):
        assert api.get("/api/me/", **bearer(tokens["access_token"])).status_code == 401
        refresh = post_json(api, "/auth/refresh/", {"refresh_token": tokens["refresh_token"]})
        assert refresh.status_code == 400
        assert _refused_reason(recorded_events) == "refresh_family_revoked"
    subjects = [e for e in recorded_events if e.name == "refresh_subject_revoked"]
    assert subjects[-1].fields["subject"] == one["sub"]


def test_clear_attempts_action_lets_a_limited_client_in_again(operated: Client) -> None:
    api = Client()
    for _ in range(3):
        assert login(api, password="guess").status_code == 400
    assert login(api).status_code == 429
    rows = list(FailedAttempt.objects.values_list("pk", flat=True))
    assert len(rows) == 3
    assert "127.0.0.1" in operated.get(ATTEMPTS, {"q": "127.0.0"}).content.decode()
    shown = _act(operated, ATTEMPTS, "clear_attempts", rows[:1])
    assert shown == ["cleared 3 failed attempt(s) of 127.0.0.1"]
    assert login(api).status_code == 200


def test_an_action_without_rate_limiting_reports_the_reason(
    guard_sessions: Any, operated: Client
) -> None:
    guard_sessions(BACKEND="django", RATE_LIMIT=None)
    FailedAttempt.objects.create(client="203.0.113.9", at=1.0)
    pk = FailedAttempt.objects.get().pk
    shown = _act(operated, ATTEMPTS, "clear_attempts", [pk])
    assert shown == ["rate limiting is off (RATE_LIMIT is None): nothing to clear"]


def test_the_management_command_runs_the_same_operations(
    operated: Client, capsys: pytest.CaptureFixture[str], recorded_events: list[SecurityEvent]
) -> None:
    api = Client()
    mine = _session(api)
    call_command("jwt_guard_sessions", "list", "--subject", mine["sub"])
    listed = capsys.readouterr().out.splitlines()
    assert listed[0].split() == ["SESSION", "SUBJECT", "STARTED", "STATE"]
    assert listed[1].split()[:2] == [mine["sid"], mine["sub"]]
    call_command("jwt_guard_sessions", "revoke-family", mine["sid"])
    assert capsys.readouterr().out.strip() == f"revoked session {mine['sid']}"
    refresh = post_json(api, "/auth/refresh/", {"refresh_token": mine["refresh_token"]})
    assert refresh.status_code == 400
    assert _refused_reason(recorded_events) == "refresh_family_revoked"
    call_command("jwt_guard_sessions", "revocations")
    assert f"session {mine['sid']} denied until" in capsys.readouterr().out
    call_command("jwt_guard_sessions", "logout-subject", mine["sub"])
    assert "out everywhere" in capsys.readouterr().out
    call_command("jwt_guard_sessions", "failed-attempts")
    assert capsys.readouterr().out.strip() == "no failed attempts in the last 60 s"
    call_command("jwt_guard_sessions", "clear-attempts", "127.0.0.1")
    assert capsys.readouterr().out.strip() == "cleared 0 failed attempt(s) of 127.0.0.1"
    with pytest.raises(CommandError, match="--limit is a number from 1 to 10000"):
        call_command("jwt_guard_sessions", "list", "--limit", "0")
    assert admin.LISTING_LIMIT == 50
