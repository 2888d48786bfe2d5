"""Hostile JSON in the header and payload.

Parser differentials are how a token means one thing to the verifier and
another to the application (RFC 8725 section 3.12, RFC 8259 sections 4 and
8.1): duplicate member names read first-wins by one parser and last-wins by
another, text in UTF-16/32 or with a BOM, non-UTF-8 bytes, NaN/Infinity
constants, trailing data, and nesting deep enough to exhaust the stack. Each
is refused as ``malformed``; a JSON text is accepted in exactly one form.
"""

from __future__ import annotations

import json
import logging

import pytest

from jwt_guard_core import AlgorithmNotAllowed, MalformedToken
from jwt_guard_core.encoding import MAX_JSON_DEPTH
from tests.factories import claims, sign

HEADER = {"alg": "RS256", "kid": "rsa-1"}
HEADER_TEXT = '{"alg":"RS256","kid":"rsa-1"}'


def _payload_text(**overrides: object) -> str:
    return json.dumps(claims(**overrides), separators=(",", ":"))


def _with_header(raw: bytes, keyring) -> str:
    return sign(raw, claims(), keyring.rsa, alg="RS256")


def _with_payload(raw: bytes, keyring) -> str:
    return sign(HEADER, raw, keyring.rsa)


def test_plain_utf8_json_is_accepted(make_verifier, keyring, rejects):
    token = sign(HEADER_TEXT.encode(), _payload_text(name="Zoë").encode(), keyring.rsa, "RS256")
    assert rejects.accepts(make_verifier(), token).claims["name"] == "Zoë"


ENCODINGS = {
    "utf-16-le": lambda t: t.encode("utf-16-le"),
    "utf-16-be": lambda t: t.encode("utf-16-be"),
    "utf-16-bom": lambda t: t.encode("utf-16"),
    "utf-32-le": lambda t: t.encode("utf-32-le"),
    "utf-32-be": lambda t: t.encode("utf-32-be"),
    "utf-32-bom": lambda t: t.encode("utf-32"),
    "utf-8-bom": lambda t: b"\xef\xbb\xbf" + t.encode(),
}


@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_header_not_in_bare_utf8_is_rejected_as_malformed(
    make_verifier, keyring, rejects, encoding
):
    token = _with_header(ENCODINGS[encoding](HEADER_TEXT), keyring)
    rejects(make_verifier(), token, MalformedToken, "malformed", level=logging.WARNING)


@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_payload_not_in_bare_utf8_is_rejected_as_malformed(
    make_verifier, keyring, rejects, encoding
):
    token = _with_payload(ENCODINGS[encoding](_payload_text()), keyring)
    rejects(make_verifier(), token, MalformedToken, "malformed", alg="RS256", kid="rsa-1")


INVALID_UTF8 = {
    "latin-1": b'"name":"Zo\xeb"',
    "overlong-slash": b'"name":"\xc0\xaf"',
    "overlong-quote": b'"name":"\xc0\xa2"',
    "utf8-surrogate": b'"name":"\xed\xa0\x80"',
    "truncated-sequence": b'"name":"\xe2\x82"',
    "lone-continuation": b'"name":"\x80"',
    "above-u10ffff": b'"name":"\xf4\x90\x80\x80"',
}


@pytest.mark.parametrize("member", list(INVALID_UTF8))
def test_non_utf8_bytes_in_the_header_are_rejected_as_malformed(
    make_verifier, keyring, rejects, member
):
    raw = b'{"alg":"RS256","kid":"rsa-1",' + INVALID_UTF8[member] + b"}"
    rejects(make_verifier(), _with_header(raw, keyring), MalformedToken, "malformed")


@pytest.mark.parametrize("member", list(INVALID_UTF8))
def test_non_utf8_bytes_in_the_payload_are_rejected_as_malformed(
    make_verifier, keyring, rejects, member
):
    raw = _payload_text()[:-1].encode() + b"," + INVALID_UTF8[member] + b"}"
    rejects(make_verifier(), _with_payload(raw, keyring), MalformedToken, "malformed")


@pytest.mark.parametrize(
    "raw",
    [
        b'{"alg":"RS256","alg":"none","kid":"rsa-1"}',
        b'{"alg":"none","alg":"RS256","kid":"rsa-1"}',
        b'{"alg":"RS256","kid":"other","kid":"rsa-1"}',
        b'{"alg":"RS256","kid":"rsa-1","\\u0061lg":"HS256"}',  # escaped duplicate
        b'{"alg":"RS256","kid":"rsa-1","x":{"a":1,"a":2}}',  # nested duplicate
        b'{"alg":"RS256","kid":"rsa-1","x":[{"a":1,"a":1}]}',
    ],
    ids=["alg-last-none", "alg-first-none", "kid", "escaped-name", "nested", "in-array"],
)
def test_duplicate_header_members_are_rejected_as_malformed(make_verifier, keyring, rejects, raw):
    rejects(
        make_verifier(),
        _with_header(raw, keyring),
        MalformedToken,
        "malformed",
        level=logging.WARNING,
    )


def test_escaped_member_name_is_read_as_the_name_it_spells(make_verifier, keyring, rejects):
    # "\u0061lg" is "alg": a verifier must see the same header the attacker
    # hopes a downstream parser sees.
    raw = b'{"\\u0061lg":"none","kid":"rsa-1"}'
    rejects(make_verifier(), _with_header(raw, keyring), AlgorithmNotAllowed, "alg_not_allowed")


@pytest.mark.parametrize("name", ["sub", "aud", "iss", "exp", "scope"])
def test_duplicate_claims_in_the_payload_are_rejected_as_malformed(
    make_verifier, keyring, rejects, name
):
    text = _payload_text()
    raw = text[:-1] + "," + json.dumps(name) + ':"admin"}'
    rejects(make_verifier(), _with_payload(raw.encode(), keyring), MalformedToken, "malformed")


NOT_AN_OBJECT = [b"[]", b'[{"alg":"RS256"}]', b'"RS256"', b"1", b"null", b"true", b"", b" "]


@pytest.mark.parametrize("raw", NOT_AN_OBJECT)
def test_header_that_is_not_an_object_is_rejected_as_malformed(
    make_verifier, keyring, rejects, raw
):
    rejects(make_verifier(), _with_header(raw, keyring), MalformedToken, "malformed")


@pytest.mark.parametrize("raw", NOT_AN_OBJECT)
def test_payload_that_is_not_an_object_is_rejected_as_malformed(
    make_verifier, keyring, rejects, raw
):
    rejects(make_verifier(), _with_payload(raw, keyring), MalformedToken, "malformed")


@pytest.mark.parametrize(
    "raw",
    [
        HEADER_TEXT.encode() + b'{"alg":"none"}',
        HEADER_TEXT.encode() + b" x",
        b" " + HEADER_TEXT.encode(),
        b'{"alg":"RS256","kid":"rsa-1",/* c */"x":1}',
        b"{'alg':'RS256','kid':'rsa-1'}",
        b'{"alg":"RS256","kid":"rsa-1",}',
        b'{"alg":"RS256","kid":"rsa-1","x":NaN}',
        b'{"alg":"RS256","kid":"rsa-1","x":Infinity}',
        b'{"alg":"RS256","kid":"rsa-1","x":-Infinity}',
        b'{"alg":"RS256","kid":"rsa-1","x":' + b"9" * 5000 + b"}",
        b'{"alg":"RS256","kid":"rsa-1"',
    ],
    ids=[
        "second-object",
        "trailing-garbage",
        "leading-space",
        "comment",
        "single-quotes",
        "trailing-comma",
        "nan",
        "infinity",
        "minus-infinity",
        "5000-digit-integer",
        "truncated",
    ],
)
def test_non_standard_or_trailing_json_in_the_header_is_rejected_as_malformed(
    make_verifier, keyring, rejects, raw
):
    rejects(make_verifier(), _with_header(raw, keyring), MalformedToken, "malformed")


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_nesting_up_to_the_limit_is_accepted(make_verifier, keyring, rejects):
    # The top-level object is one level; MAX_JSON_DEPTH - 1 arrays fill the rest.
    raw = _payload_text()[:-1] + ',"nest":' + _nested(MAX_JSON_DEPTH - 1) + "}"
    assert rejects.accepts(make_verifier(), _with_payload(raw.encode(), keyring))


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH, 100, 2000])
def test_nesting_beyond_the_limit_in_the_payload_is_rejected_as_malformed(
    make_verifier, keyring, rejects, depth
):
    raw = _payload_text()[:-1] + ',"nest":' + _nested(depth) + "}"
    rejects(make_verifier(), _with_payload(raw.encode(), keyring), MalformedToken, "malformed")


@pytest.mark.parametrize(
    "value",
    ['{"a":' * MAX_JSON_DEPTH + "1" + "}" * MAX_JSON_DEPTH, _nested(2000)],
    ids=["objects-at-limit", "arrays-2000"],
)
def test_nesting_beyond_the_limit_in_the_header_is_rejected_as_malformed(
    make_verifier, keyring, rejects, value
):
    raw = HEADER_TEXT[:-1] + ',"x":' + value + "}"
    rejects(make_verifier(), _with_header(raw.encode(), keyring), MalformedToken, "malformed")


@pytest.mark.parametrize(
    "text",
    ["[" * 200, "]" * 200 + "[" * 200, '\\"' + "[" * 200, "\\\\" + "{" * 200],
    ids=["open", "close-then-open", "after-escaped-quote", "after-escaped-backslash"],
)
def test_brackets_inside_strings_do_not_count_as_nesting(make_verifier, keyring, rejects, text):
    raw = _payload_text(note=json.loads(f'"{text}"'))
    token = _with_payload(raw.encode(), keyring)
    assert rejects.accepts(make_verifier(), token).claims["note"] == json.loads(f'"{text}"')
