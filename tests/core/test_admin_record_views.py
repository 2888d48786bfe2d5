"""What the Django admin's pages take from the core: the state filter and the row actions."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from jwt_guard_core import admin_commands as table


def _view(name: str) -> table.RecordView:
    return next(view for view in table.RECORD_VIEWS if view.table == name)


@pytest.mark.parametrize(
    ("choice", "unset"), [("live", True), ("revoked", False), (None, None), ("other", None)]
)
def test_the_session_state_filter_asks_for_unset_or_set_revocation(
    choice: str | None, unset: bool | None
) -> None:
    assert _view("family").unset_wanted(choice) is unset


def test_the_token_state_filter_uses_its_own_choices() -> None:
    view = _view("token")
    assert (view.unset_wanted("no"), view.unset_wanted("yes")) == (True, False)
    assert _view("rule").unset_wanted("no") is None  # no state filter on that page


class _Limiter:
    def __init__(self) -> None:
        self.cleared: list[str] = []

    def clear(self, client: str) -> int:
        self.cleared.append(client)
        return 2

    def key(self, client: str) -> str:
        return client


def test_an_action_runs_once_per_distinct_value_in_order() -> None:
    limiter = _Limiter()
    side = SimpleNamespace(limiter=limiter)
    opened: list[str] = []

    def opener(what: str) -> Any:
        opened.append(what)
        return side

    lines = list(table.run_each("clear-attempts", ["b", "a", "b"], opener))
    assert limiter.cleared == ["b", "a"]
    assert [line.text for line in lines] == [
        "cleared 2 failed attempt(s) of b",
        "cleared 2 failed attempt(s) of a",
    ]
    assert {line.tone for line in lines} == {"success"}
    assert opened == ["sessions", "sessions"]


def test_a_failing_action_raises_failed_with_the_reason() -> None:
    side = SimpleNamespace(limiter=None)
    lines = table.run_each("clear-attempts", ["a"], lambda what: side)
    with pytest.raises(table.Failed, match="rate limiting is off") as failed:
        next(lines)
    assert failed.value.usage
