"""Which tokens are looked up as local users, by which claim value, and which users count."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from jwt_guard_core import VerifiedToken, users
from jwt_guard_core.dpop import DPoPPolicy
from jwt_guard_core.errors import DPoPBindingError, InsufficientScope
from jwt_guard_core.route_attributes import DPOP, SCOPES
from jwt_guard_core.sender import ResourcePolicy, SenderResult


def _token(issuer: str = "https://a", **claims: Any) -> VerifiedToken:
    return VerifiedToken(
        claims={"iss": issuer, **claims},
        header={"alg": "ES256"},
        kid=None,
        issuer=issuer,
        subject=claims.get("sub"),
        scopes=frozenset(claims.get("scope", "").split()),
        expires_at=None,
        algorithm="ES256",
    )


def _find(token: VerifiedToken) -> Any:
    return "user"


def test_only_a_token_of_a_mapped_issuer_is_looked_up() -> None:
    every = users.UserSource(users.UserMapping(), _find)
    assert every.finder(_token()) is _find
    some = users.UserSource(users.UserMapping(frozenset({"https://a"})), _find, "uid")
    assert some.finder(_token("https://a")) is _find
    assert some.finder(_token("https://b")) is None
    assert some.id_claim == "uid"
    assert users.UserSource(users.UserMapping(), None).finder(_token()) is None


@pytest.mark.parametrize(
    ("value", "found"),
    [("alice", "alice"), (7, 7), (True, None), (1.5, None), (["a"], None), (None, None)],
)
def test_only_a_string_or_an_integer_names_a_user(value: Any, found: Any) -> None:
    assert users.id_value(_token(sub=value), "sub") == found


def test_an_inactive_user_is_no_user() -> None:
    active = SimpleNamespace(is_active=True)
    assert users.active(active) is active
    assert users.active(SimpleNamespace(is_active=False)) is None
    plain = object()
    assert users.active(plain) is plain


class _View:
    required_scopes = ("orders:read",)


def test_a_view_demand_checks_the_token_and_reads_the_sender_only_for_dpop() -> None:
    def unasked() -> SenderResult | None:
        raise AssertionError("only a DPoP demand reads the sender checks")

    SCOPES.check(_View, "GET", _token(scope="orders:read"), ResourcePolicy(), unasked)
    with pytest.raises(InsufficientScope):
        SCOPES.check(_View, "GET", _token(scope="profile"), ResourcePolicy(), unasked)
    dpop = ResourcePolicy(dpop=DPoPPolicy(mode="allowed"))
    DPOP.check(_View, "GET", _token(), dpop, lambda: SenderResult(dpop_bound=True))
    with pytest.raises(DPoPBindingError):
        DPOP.check(_View, "GET", _token(), dpop, lambda: None)
