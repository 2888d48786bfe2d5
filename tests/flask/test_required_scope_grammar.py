"""Required scopes are split like a token's scopes: one U+0020, RFC 6749 3.3 (security review)."""

from __future__ import annotations

import pytest

from jwt_guard_flask import jwt_required, require_scopes
from jwt_guard_flask.decorators import normalize_scopes


def test_a_scope_string_is_split_on_single_spaces():
    assert normalize_scopes("orders:read orders:write") == ("orders:read", "orders:write")
    assert normalize_scopes("") == ()
    assert normalize_scopes(["orders:read", "a~b"]) == ("orders:read", "a~b")


@pytest.mark.parametrize(
    "scopes",
    [
        "orders:read\torders:write",  # a tab: Python's split() would accept it
        "orders:read  orders:write",  # a doubled space
        " orders:read",
        "orders:read\u00a0orders:write",  # NO-BREAK SPACE
        "orders:read\u2003orders:write",  # EM SPACE
        'orders:"read"',
        ["orders:read", "a b"],
        ["orders:read", "caf\u00e9"],
        ["orders:read", ""],
        ["orders:read", 3],
    ],
)
def test_anything_outside_the_grammar_is_refused_at_decoration_time(scopes):
    with pytest.raises(ValueError, match="scope"):
        normalize_scopes(scopes)
    with pytest.raises(ValueError, match="scope"):
        jwt_required(scopes=scopes)(lambda: "never")


def test_require_scopes_refuses_a_name_with_whitespace():
    with pytest.raises(ValueError, match="scope"):
        require_scopes("orders:read\torders:write")
