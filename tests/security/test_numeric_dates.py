"""``exp``, ``nbf`` and ``iat`` must be NumericDates (RFC 7519 section 2).

Loose comparisons are how type confusion turns into acceptance: a string
``exp`` compared lexically, ``true`` read as 1, ``NaN`` that is never less
than now, ``Infinity`` that never expires, an integer too large for a C
time_t that wraps around. jwt-guard takes only a finite JSON number from 0
to the end of year 9999; anything else is ``invalid_claim`` (or
``malformed`` for JSON that is not standard JSON at all).
"""

from __future__ import annotations

import json

import pytest

from jwt_guard_core import InvalidClaim, MalformedToken, TokenExpired
from tests.factories import NOW, claims, sign

GOOD = {"exp": int(NOW) + 600, "nbf": int(NOW) - 60, "iat": int(NOW) - 60}
CLAIMS = list(GOOD)

INVALID_TYPES = {
    "numeric-string": lambda v: json.dumps(str(v)),
    "float-string": lambda v: json.dumps(f"{v}.0"),
    "iso-8601": lambda v: json.dumps("2027-01-15T08:00:00Z"),
    "empty-string": lambda v: '""',
    "true": lambda v: "true",
    "false": lambda v: "false",
    "null": lambda v: "null",
    "list": lambda v: f"[{v}]",
    "object": lambda v: json.dumps({"$date": v}),
}
OUT_OF_RANGE = {
    "negative": "-1",
    "year-10000": "253402300800",
    "milliseconds": str(int(NOW) * 1000 + 600_000),
    "2**63": str(2**63),
    "2**64+1": str(2**64 + 1),
    "10**300": "1" + "0" * 300,
    "1e300": "1e300",
    "overflows-to-infinity": "1e400",
    "minus-overflow": "-1e400",
}
NOT_JSON = {
    "NaN": "NaN",
    "Infinity": "Infinity",
    "-Infinity": "-Infinity",
    "5000-digit-integer": "9" * 5000,
    "hex": "0x6B49D200",
    "leading-zero": "01800000600",
    "plus-sign": "+1800000600",
}


def _token_with_raw(keyring, name: str, raw_value: str) -> str:
    text = json.dumps(claims(**{name: None}), separators=(",", ":"))
    payload = text[:-1] + f',"{name}":{raw_value}' + "}"
    return sign({"alg": "RS256", "kid": "rsa-1"}, payload.encode(), keyring.rsa)


@pytest.mark.parametrize("name", CLAIMS)
def test_integer_and_fractional_numeric_dates_are_accepted(make_verifier, keyring, rejects, name):
    for raw in (str(GOOD[name]), f"{GOOD[name]}.5", f"{GOOD[name]}e0"):
        assert rejects.accepts(make_verifier(), _token_with_raw(keyring, name, raw))


@pytest.mark.parametrize("kind", list(INVALID_TYPES))
@pytest.mark.parametrize("name", CLAIMS)
def test_numeric_date_of_another_type_is_rejected_with_invalid_claim(
    make_verifier, keyring, rejects, name, kind
):
    token = _token_with_raw(keyring, name, INVALID_TYPES[kind](GOOD[name]))
    result = rejects(make_verifier(), token, InvalidClaim, "invalid_claim", alg="RS256")
    assert name in result.error.detail


@pytest.mark.parametrize("kind", list(OUT_OF_RANGE))
@pytest.mark.parametrize("name", CLAIMS)
def test_numeric_date_out_of_range_is_rejected_with_invalid_claim(
    make_verifier, keyring, rejects, name, kind
):
    token = _token_with_raw(keyring, name, OUT_OF_RANGE[kind])
    result = rejects(make_verifier(), token, InvalidClaim, "invalid_claim")
    assert name in result.error.detail


@pytest.mark.parametrize("kind", list(NOT_JSON))
@pytest.mark.parametrize("name", CLAIMS)
def test_non_standard_json_number_is_rejected_as_malformed(
    make_verifier, keyring, rejects, name, kind
):
    token = _token_with_raw(keyring, name, NOT_JSON[kind])
    rejects(make_verifier(), token, MalformedToken, "malformed")


def test_string_exp_that_would_compare_as_later_is_not_accepted(make_verifier, keyring, rejects):
    # "9" > "1800000000" lexically: a verifier comparing strings would treat
    # this long-expired token as valid forever.
    token = _token_with_raw(keyring, "exp", '"9"')
    rejects(make_verifier(), token, InvalidClaim, "invalid_claim")


def test_zero_exp_is_a_valid_number_but_expired(make_verifier, keyring, rejects):
    rejects(make_verifier(), _token_with_raw(keyring, "exp", "0"), TokenExpired, "token_expired")
