"""``TokenUser.roles`` never guesses how a role string splits (security review, issue 13).

Roles come from the core's claims policy (``ROLES_CLAIM``): an array gives
its strings, a string is one role as it is. No separator is guessed, so a
value that parsers could split differently (a tab, a doubled space, a
NO-BREAK SPACE) can never grant the role ``admin`` hidden inside it; an
array holding something that is not a string refuses the token.
"""

from __future__ import annotations

import pytest

from jwt_guard_core import TokenError
from jwt_guard_django.user import TokenUser
from jwt_guard_django.verifier import get_verifier


def _roles(make_token, value):
    return TokenUser(get_verifier().verify(make_token(roles=value))).roles


def test_an_array_gives_its_names(make_token):
    assert _roles(make_token, ["admin", "ops"]) == frozenset({"admin", "ops"})


@pytest.mark.parametrize(
    "value",
    ["admin ops", "admin\tops", "admin  ops", " admin", "admin\u00a0ops", "admin\u2003ops"],
)
def test_a_string_is_one_role_and_never_grants_a_name_inside_it(make_token, value):
    roles = _roles(make_token, value)
    assert roles == frozenset({value})
    assert "admin" not in roles


def test_an_array_holding_a_non_string_refuses_the_token(make_token):
    with pytest.raises(TokenError) as caught:
        get_verifier().verify(make_token(roles=["admin", 3, "ops"]))
    assert caught.value.reason == "invalid_claim"
