"""``TokenUser.roles`` reads a string of names like the core reads ``scope`` (security review).

One U+0020 between names (RFC 6749 3.3), as the core parses scopes, so a
value that parsers could split differently (a tab, a doubled space, a
NO-BREAK SPACE) grants no role rather than a guessed one.
"""

from __future__ import annotations

import pytest

from jwt_guard_django.user import TokenUser
from jwt_guard_django.verifier import get_verifier


def _roles(make_token, value):
    return TokenUser(get_verifier().verify(make_token(roles=value))).roles


def test_a_space_separated_string_gives_its_names(make_token):
    assert _roles(make_token, "admin ops") == frozenset({"admin", "ops"})


@pytest.mark.parametrize(
    "value",
    ["admin\tops", "admin  ops", " admin", "admin\u00a0ops", "admin\u2003ops", 'ad"min'],
)
def test_a_string_outside_the_grammar_grants_no_role(make_token, value):
    assert _roles(make_token, value) == frozenset()


def test_list_elements_that_are_not_one_name_are_dropped(make_token):
    roles = _roles(make_token, ["admin", "a b", "caf\u00e9", "", 3, "ops"])
    assert roles == frozenset({"admin", "ops"})
