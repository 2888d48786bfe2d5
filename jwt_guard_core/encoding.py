"""Strict base64url and JSON decoding for untrusted token parts.

Lenient decoders are how parser-differential attacks work: two components
read the same bytes differently (CVE-2022-39227's compact/JSON polyglot,
duplicate header keys that one parser takes first and another last). Here a
segment is accepted only in its one canonical form:

* base64url: RFC 7515 section 2 / RFC 4648 section 5, no padding, no
  whitespace, and no non-zero trailing bits, so each value has exactly one
  encoding;
* JSON: UTF-8 only (RFC 8259 section 8.1, no BOM, no UTF-16/32), an object
  at the top level, no duplicate member names at any depth, no NaN or
  Infinity, bounded nesting.
"""

from __future__ import annotations

import base64
import binascii
import json
import sys
from typing import Any

from .token import ReadOnlyDict

__all__ = [
    "DecodeError",
    "b64url_decode",
    "b64url_encode",
    "json_depth_within",
    "parse_json_object",
    "parse_read_only_object",
]

# The last character must leave no unused bits set: with 2 leftover chars
# only the top 2 bits of the last one carry data (AQgw), with 3 leftover
# chars the top 4 bits do. Byte values, as a segment is decoded as bytes.
_LAST_2 = frozenset(b"AQgw")
_LAST_3 = frozenset(b"AEIMQUYcgkosw048")
# base64url to standard base64 in one pass; "+", "/" and "=" (not in the
# base64url alphabet) become "!", which the strict decoder refuses along with
# every other byte outside the alphabet.
_TO_STANDARD = bytes.maketrans(b"-_+/=", b"+/!!!")
_PADDING = (b"", b"", b"==", b"=")
_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_STANDARD_ALPHABET = _ALPHABET.translate(_TO_STANDARD)

MAX_JSON_DEPTH = 16


class DecodeError(ValueError):
    """A token segment is not in canonical form. The message is safe to log."""


def b64url_decode(segment: str | bytes) -> bytes:
    """Decode unpadded, canonical base64url, or raise :class:`DecodeError`."""
    if isinstance(segment, str):
        if not segment.isascii():
            raise DecodeError("segment is not base64url (RFC 7515 section 2)")
        segment = segment.encode("ascii")
    rem = len(segment) % 4
    if rem == 1:
        raise DecodeError("segment has an impossible base64url length")
    if (rem == 2 and segment[-1] not in _LAST_2) or (rem == 3 and segment[-1] not in _LAST_3):
        if segment.translate(None, _ALPHABET):
            raise DecodeError("segment is not base64url (RFC 7515 section 2)")
        raise DecodeError("segment is not canonical base64url")
    try:
        return _strict_a2b(segment.translate(_TO_STANDARD) + _PADDING[rem])
    except binascii.Error:
        raise DecodeError("segment is not base64url (RFC 7515 section 2)") from None


if sys.version_info >= (3, 11):

    def _strict_a2b(data: bytes) -> bytes:
        return binascii.a2b_base64(data, strict_mode=True)

else:  # pragma: no cover - Python 3.10 has no strict mode: check the alphabet first

    def _strict_a2b(data: bytes) -> bytes:
        if data.rstrip(b"=").translate(None, _STANDARD_ALPHABET):
            raise binascii.Error("not base64")
        return binascii.a2b_base64(data)


def b64url_encode(data: bytes) -> str:
    """Encode bytes as unpadded base64url."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise DecodeError("JSON object has duplicate member names")
    return result


def _no_constants(name: str) -> Any:
    raise DecodeError(f"JSON contains the non-standard constant {name}")


def json_depth_within(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether JSON ``text`` nests objects and arrays at most ``limit`` deep.

    A cheap bound checked before a recursive parser runs (CPython's ``json``
    raises ``RecursionError`` near 1000 levels, which a request must never
    turn into a 500): brackets are counted outside strings, and the text is
    only scanned when it holds more than ``limit`` of them.
    """
    if text.count("{") + text.count("[") <= limit:
        return True
    depth = 0
    in_string = False
    escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "{[":
            depth += 1
            if depth > limit:
                return False
        elif ch in "}]":
            depth -= 1
    return True


def _read_only_object(pairs: list[tuple[str, Any]]) -> ReadOnlyDict:
    result = ReadOnlyDict(pairs)
    if len(result) != len(pairs):
        raise DecodeError("JSON object has duplicate member names")
    return result


_decoder = json.JSONDecoder(object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
_read_only_decoder = json.JSONDecoder(
    object_pairs_hook=_read_only_object, parse_constant=_no_constants
)


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """Parse UTF-8 JSON that must be an object, or raise :class:`DecodeError`."""
    value: dict[str, Any] = _parse_object(raw, _decoder)
    return value


def parse_read_only_object(raw: bytes) -> ReadOnlyDict:
    """Like :func:`parse_json_object`, read-only all the way down, built in one pass.

    Objects are :class:`~jwt_guard_core.token.ReadOnlyDict` as they are
    decoded and arrays become tuples, so a verified header or claim set
    needs no copy afterwards.
    """
    value: ReadOnlyDict = _parse_object(raw, _read_only_decoder)
    return _arrays_to_tuples(value)


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _arrays_to_tuples(obj: ReadOnlyDict) -> ReadOnlyDict:
    # Most claim sets are flat: one pass over the value types, nothing else.
    if _SCALARS.issuperset(map(type, obj.values())):
        return obj
    for name, value in obj.items():
        if type(value) is list:
            # Replacing a member's value, never adding one: safe while iterating.
            dict.__setitem__(obj, name, _tuple(value))
        elif type(value) is ReadOnlyDict:
            _arrays_to_tuples(value)
    return obj


def _tuple(values: list[Any]) -> tuple[Any, ...]:
    return tuple(
        _tuple(v) if type(v) is list else _arrays_to_tuples(v) if type(v) is ReadOnlyDict else v
        for v in values
    )


def _parse_object(raw: bytes, decoder: json.JSONDecoder) -> Any:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DecodeError("JSON is not valid UTF-8") from exc
    if not text.startswith("{"):
        # Also refuses a BOM, leading whitespace tricks and UTF-16/32 text,
        # whose first decoded character is never "{".
        raise DecodeError("JSON is not an object")
    if not json_depth_within(text):
        raise DecodeError("JSON is nested too deeply")
    try:
        value, end = decoder.raw_decode(text)
    except DecodeError:
        raise
    except (ValueError, RecursionError) as exc:
        # ValueError covers JSONDecodeError and CPython's limit on the digits
        # of huge integers.
        raise DecodeError("JSON is not valid") from exc
    if end != len(text) and text[end:].strip(" \t\r\n"):
        raise DecodeError("JSON has trailing data")
    # Always an object: the text starts with "{" and the whole of it was read.
    return value
