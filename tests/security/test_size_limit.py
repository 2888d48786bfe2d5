"""Tokens over the size limit are refused before any decoding.

An unauthenticated caller controls the token's size; base64 and JSON work
on it is work done for an attacker. The limit (``max_token_bytes``, default
8 KiB) is checked first, on the byte length, so a huge or multi-byte input
costs one length comparison and never reaches a decoder or a key source.
"""

from __future__ import annotations

import pytest

from jwt_guard_core import ConfigurationError, GuardConfig, MalformedToken, TokenTooLarge
from tests.factories import AUDIENCE, ISSUER, claims, sign

DEFAULT_LIMIT = 8192


def _signed_of_length_at_least(keyring, length: int) -> str:
    token = sign({"alg": "RS256", "kid": "rsa-1"}, claims(), keyring.rsa)
    padding = "p" * max(0, (length - len(token)) * 3 // 4 + 4)
    return sign({"alg": "RS256", "kid": "rsa-1"}, claims(padding=padding), keyring.rsa)


def test_default_limit_is_8_kib(make_verifier):
    assert make_verifier().config.max_token_bytes == DEFAULT_LIMIT


def test_valid_token_over_the_limit_is_rejected_with_token_too_large(
    make_verifier, keyring, rejects
):
    token = _signed_of_length_at_least(keyring, DEFAULT_LIMIT + 1)
    assert len(token) > DEFAULT_LIMIT
    rejects(make_verifier(), token, TokenTooLarge, "token_too_large")


def test_token_exactly_at_the_limit_is_accepted_and_one_byte_over_is_not(
    make_verifier, keyring, rejects
):
    token = _signed_of_length_at_least(keyring, 2000)
    assert rejects.accepts(make_verifier(max_token_bytes=len(token)), token)
    rejects(make_verifier(max_token_bytes=len(token) - 1), token, TokenTooLarge, "token_too_large")


@pytest.mark.parametrize(
    "garbage",
    [
        "A" * (DEFAULT_LIMIT + 1),
        "." * (DEFAULT_LIMIT + 1),
        "{" * (DEFAULT_LIMIT + 1),
        "eyJhbGciOiJub25lIn0." + "A" * DEFAULT_LIMIT + ".",  # alg none, oversized
        "x" * (10 * 1024 * 1024),
    ],
    ids=["base64-chars", "dots", "braces", "alg-none", "10-MiB"],
)
def test_oversized_input_is_rejected_before_any_decoding(make_verifier, rejects, garbage):
    # Under the limit each of these would be malformed or alg_not_allowed;
    # over it, nothing is decoded: no alg or kid is known to the event.
    result = rejects(make_verifier(), garbage, TokenTooLarge, "token_too_large", alg=None, kid=None)
    assert not hasattr(result.record, "iss")


@pytest.mark.parametrize(
    ("char", "count"),
    [("é", 5000), ("€", 3000), ("😀", 2100), ("\udc80", 3000)],
    ids=["2-byte", "3-byte", "4-byte", "lone-surrogate"],
)
def test_limit_counts_bytes_not_characters(make_verifier, rejects, char, count):
    text = char * count
    assert len(text) <= DEFAULT_LIMIT < len(text.encode("utf-8", "surrogatepass"))
    rejects(make_verifier(), text, TokenTooLarge, "token_too_large", alg=None)


@pytest.mark.parametrize("text", ["é.é.é", "eyJhbGciOiJSUzI1NiJ9.é.x", "\u2024.\u2024.\u2024"])
def test_non_ascii_token_under_the_limit_is_rejected_as_malformed(make_verifier, rejects, text):
    rejects(make_verifier(), text, MalformedToken, "malformed")


def test_custom_limit_applies(make_verifier, keyring, rejects):
    token = sign({"alg": "RS256", "kid": "rsa-1"}, claims(), keyring.rsa)
    assert len(token) > 256
    rejects(make_verifier(max_token_bytes=256), token, TokenTooLarge, "token_too_large")


@pytest.mark.parametrize("value", [0, 255, 1024 * 1024 + 1, -1, True, 8192.0, "8192", None])
def test_unreasonable_limit_is_a_configuration_error(rsa_keys, value):
    with pytest.raises(ConfigurationError) as info:
        GuardConfig(
            algorithms=["RS256"],
            keys=rsa_keys,
            issuer=ISSUER,
            audience=AUDIENCE,
            max_token_bytes=value,
        )
    assert info.value.setting == "max_token_bytes"


def test_the_logged_detail_names_the_size_and_the_setting_to_raise(make_verifier, keyring):
    # Entra tokens with many groups exceed 8 KiB: the operator's log says what to change.
    token = _signed_of_length_at_least(keyring, DEFAULT_LIMIT + 1)
    with pytest.raises(TokenTooLarge) as caught:
        make_verifier().verify(token)
    assert f"the token is {len(token)} bytes, over the limit of {DEFAULT_LIMIT}" in str(
        caught.value.detail
    )
    assert "MAX_TOKEN_BYTES" in str(caught.value.detail)
