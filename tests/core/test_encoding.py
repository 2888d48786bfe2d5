"""Strict base64url and JSON decoding of untrusted token segments."""

from __future__ import annotations

import base64
import json
import os

import pytest

from jwt_guard_core.encoding import (
    MAX_JSON_DEPTH,
    DecodeError,
    b64url_decode,
    b64url_encode,
    parse_json_object,
)

# -- base64url


@pytest.mark.parametrize("length", range(0, 40))
def test_every_length_round_trips_through_canonical_encoding(length):
    data = os.urandom(length)
    encoded = b64url_encode(data)
    assert "=" not in encoded
    assert b64url_decode(encoded) == data


def test_encoding_uses_the_url_safe_alphabet():
    encoded = b64url_encode(b"\xfb\xff\xfe")
    assert encoded == "-__-"
    assert b64url_decode("-__-") == b"\xfb\xff\xfe"


@pytest.mark.parametrize("segment", ["YQ==", "YWI=", "YQ=", "eyJ9=="])
def test_padding_is_refused(segment):
    with pytest.raises(DecodeError, match="not base64url"):
        b64url_decode(segment)


@pytest.mark.parametrize("segment", ["YW Jj", " YWJj", "YWJj ", "YW\nJj", "YWJj\t", "YW\rJj"])
def test_whitespace_anywhere_is_refused(segment):
    with pytest.raises(DecodeError):
        b64url_decode(segment)


@pytest.mark.parametrize("segment", ["-+__", "+/8", "ab/c", "a+bc"])
def test_standard_alphabet_plus_and_slash_are_refused(segment):
    with pytest.raises(DecodeError, match="not base64url"):
        b64url_decode(segment)


@pytest.mark.parametrize("segment", ["YWJj.", "YW%4A", "YWJj\x00", "Y\u0430Jj", "YWJj!"])
def test_characters_outside_the_alphabet_are_refused(segment):
    with pytest.raises(DecodeError):
        b64url_decode(segment)


@pytest.mark.parametrize("segment", ["Y", "YWJjZ", "YWJjZGVmZ"])
def test_impossible_length_is_refused(segment):
    with pytest.raises(DecodeError, match="impossible"):
        b64url_decode(segment)


# "a" is "YQ"; "YR", "YS", ... decode to the same byte with unused bits set.
@pytest.mark.parametrize("segment", ["YR", "YS", "YT", "YV", "Yf"])
def test_non_zero_trailing_bits_with_two_leftover_characters_are_refused(segment):
    assert base64.urlsafe_b64decode(segment + "==") == b"a"  # a lenient decoder accepts it
    with pytest.raises(DecodeError, match="canonical"):
        b64url_decode(segment)


# "ab" is "YWI"; "YWJ", "YWK", "YWL" carry the same bytes with trailing bits set.
@pytest.mark.parametrize("segment", ["YWJ", "YWK", "YWL"])
def test_non_zero_trailing_bits_with_three_leftover_characters_are_refused(segment):
    assert base64.urlsafe_b64decode(segment + "=") == b"ab"
    with pytest.raises(DecodeError, match="canonical"):
        b64url_decode(segment)


def test_every_canonical_final_character_is_accepted_and_every_other_refused():
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    for ch in alphabet:
        two = "Y" + ch
        three = "YW" + ch
        canonical_two = b64url_encode(base64.urlsafe_b64decode(two + "==")) == two
        canonical_three = b64url_encode(base64.urlsafe_b64decode(three + "=")) == three
        for segment, canonical in ((two, canonical_two), (three, canonical_three)):
            if canonical:
                assert b64url_encode(b64url_decode(segment)) == segment
            else:
                with pytest.raises(DecodeError):
                    b64url_decode(segment)


def test_empty_segment_decodes_to_empty_bytes():
    assert b64url_decode("") == b""


# -- JSON


def _raw(text: str) -> bytes:
    return text.encode("utf-8")


def test_a_json_object_is_parsed():
    assert parse_json_object(_raw('{"a":1,"b":[true,null,"x"],"c":{"d":1.5}}')) == {
        "a": 1,
        "b": [True, None, "x"],
        "c": {"d": 1.5},
    }


@pytest.mark.parametrize("text", ["[1]", '"x"', "1", "true", "null", ""])
def test_json_that_is_not_an_object_is_refused(text):
    with pytest.raises(DecodeError, match="not an object"):
        parse_json_object(_raw(text))


@pytest.mark.parametrize(
    "text",
    ['{"a":1,"a":2}', '{"a":{"b":1,"b":1}}', '{"a":[{"c":1,"c":2}]}', '{"a":1,"\\u0061":2}'],
)
def test_duplicate_member_names_at_any_depth_are_refused(text):
    with pytest.raises(DecodeError, match="duplicate"):
        parse_json_object(_raw(text))


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_standard_constants_are_refused(constant):
    with pytest.raises(DecodeError, match="non-standard constant"):
        parse_json_object(_raw('{"exp":' + constant + "}"))


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le"])
def test_utf16_and_utf32_json_are_refused(encoding):
    with pytest.raises(DecodeError):
        parse_json_object('{"alg":"HS256"}'.encode(encoding))


def test_a_utf8_byte_order_mark_is_refused():
    with pytest.raises(DecodeError, match="not an object"):
        parse_json_object(b"\xef\xbb\xbf" + _raw('{"a":1}'))


@pytest.mark.parametrize("raw", [b'{"a":"\xff"}', b'{"a":"\xc0\xaf"}', b'{"a":"\xed\xa0\x80"}'])
def test_invalid_utf8_is_refused(raw):
    with pytest.raises(DecodeError, match="UTF-8"):
        parse_json_object(raw)


@pytest.mark.parametrize("text", [' {"a":1}', '\n{"a":1}', '\t{"a":1}'])
def test_leading_whitespace_is_refused(text):
    with pytest.raises(DecodeError, match="not an object"):
        parse_json_object(_raw(text))


@pytest.mark.parametrize("text", ['{"a":1}x', '{"a":1}{"b":2}', '{"a":1} 1'])
def test_trailing_data_is_refused(text):
    with pytest.raises(DecodeError, match="trailing"):
        parse_json_object(_raw(text))


def test_trailing_json_whitespace_is_accepted():
    assert parse_json_object(_raw('{"a":1} \r\n\t')) == {"a": 1}


@pytest.mark.parametrize("text", ['{"a":1,}', "{'a':1}", '{"a":01}', '{"a":1', "{a:1}"])
def test_invalid_json_is_refused(text):
    with pytest.raises(DecodeError, match="not valid"):
        parse_json_object(_raw(text))


def test_nesting_up_to_the_limit_is_accepted():
    text = '{"a":' * (MAX_JSON_DEPTH - 1) + "1" + "}" * (MAX_JSON_DEPTH - 1)
    assert isinstance(parse_json_object(_raw(text)), dict)


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 1000, 100_000])
def test_deeper_nesting_is_refused(depth):
    text = '{"a":' + "[" * depth + "]" * depth + "}"
    with pytest.raises(DecodeError, match="nested too deeply"):
        parse_json_object(_raw(text))


def test_brackets_inside_strings_do_not_count_as_nesting():
    text = json.dumps({"a": "[" * 100 + "{" * 100, "b": '\\"[[[[[['})
    assert parse_json_object(_raw(text))["a"].startswith("[[[")


def test_huge_integers_are_refused_not_raised():
    with pytest.raises(DecodeError, match="not valid"):
        parse_json_object(_raw('{"exp":' + "9" * 5000 + "}"))


def test_decode_error_is_a_value_error_with_a_safe_message():
    with pytest.raises(ValueError, match="duplicate member names") as info:
        parse_json_object(_raw('{"secret-value":1,"secret-value":2}'))
    assert "secret-value" not in str(info.value)
