"""What a login grants a framework's user, and how a row condition reads (the Django adapter's).

``login_grant`` is the decision behind Django's credentials check: an
inactive user is refused exactly like wrong credentials. ``conditions``
splits the row store's condition keys (``"expires_at<="``, ``"spent_at null"``)
into field, comparison and value, which an adapter spells as its queries.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from jwt_guard_core.sessions.http import login_grant
from jwt_guard_core.sessions.rows import conditions


def _scopes(user: object) -> tuple[str, ...]:
    return ("orders:read",)


def test_a_found_user_is_granted_its_primary_key_as_subject_and_its_scopes() -> None:
    user = SimpleNamespace(pk=42, is_active=True)
    assert login_grant(user, _scopes) == ("42", ("orders:read",))


def test_a_user_without_is_active_counts_as_active() -> None:
    assert login_grant(SimpleNamespace(pk="alice"), _scopes) == ("alice", ("orders:read",))


@pytest.mark.parametrize("user", [None, SimpleNamespace(pk=1, is_active=False)])
def test_no_user_and_an_inactive_user_get_the_same_refusal(user: object) -> None:
    assert login_grant(user, _scopes) is None


def test_conditions_split_each_key_into_field_and_comparison() -> None:
    where = {
        "family_id": "f",
        "expires_at<=": 1.0,
        "value<": 2.0,
        "at>": 3.0,
        "spent_at null": True,
        "kind in": ("jti", "sid"),
    }
    assert list(conditions(where)) == [
        ("family_id", "", "f"),
        ("expires_at", "<=", 1.0),
        ("value", "<", 2.0),
        ("at", ">", 3.0),
        ("spent_at", "null", True),
        ("kind", "in", ("jti", "sid")),
    ]
