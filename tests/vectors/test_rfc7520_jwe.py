"""RFC 7520 section 5: the JOSE cookbook's JWE examples against the decryption layer.

Examples whose algorithms jwt-guard supports (5.4 ECDH-ES+A128KW with
A128GCM, 5.5 ECDH-ES with A128CBC-HS256) decrypt to the cookbook's
plaintext with its own key. The others are refused cleanly: their key is
refused when loaded (RSA1_5, PBES2, RSA-OAEP with SHA-1, symmetric keys),
and their token is refused by a verifier that holds keys of its own.
Examples with no compact serialization (5.10-5.13, JSON only) cannot be
presented as a bearer token at all.
"""

from __future__ import annotations

from typing import Any

import pytest

from jwt_guard_core import AlgorithmNotAllowed, ConfigurationError
from jwt_guard_core.jwe import DecryptionKeySet, decrypt_compact
from tests.vectors._local import DATA, load_data
from tests.vectors.jwe_support import MAX_BYTES, stranger_policy, widest_policy

FILES = sorted(p.name for p in (DATA / "rfc7520" / "jwe").glob("*.json"))
DECRYPTING = {
    "5_4.key_agreement_with_key_wrapping_using_ecdh-es_and_aes-keywrap_with_aes-gcm.json",
    "5_5.key_agreement_using_ecdh-es_with_aes-cbc-hmac-sha2.json",
}
UNSUPPORTED = {"5_1", "5_2", "5_3", "5_6", "5_7", "5_8", "5_9"}
JSON_ONLY = {"5_10", "5_11", "5_12", "5_13"}


def _example(name: str) -> dict[str, Any]:
    data = load_data("rfc7520", "jwe", name)
    assert isinstance(data, dict)
    return data


def test_every_example_file_is_here() -> None:
    assert len(FILES) == 13
    assert (DATA / "rfc7520" / "LICENSE").is_file()
    assert (DATA / "PROVENANCE.md").is_file()


@pytest.mark.parametrize("name", sorted(DECRYPTING))
def test_supported_example_decrypts_to_the_cookbook_plaintext(name: str) -> None:
    example = _example(name)
    keys = DecryptionKeySet.from_jwks({"keys": [example["input"]["key"]]})
    header, plaintext = decrypt_compact(
        example["output"]["compact"], widest_policy(keys), MAX_BYTES
    )
    assert plaintext == example["input"]["plaintext"].encode("utf-8")
    assert header["alg"] == example["input"]["alg"]
    assert header["enc"] == example["input"]["enc"]


def _prefix(name: str) -> str:
    return name.split(".")[0]


@pytest.mark.parametrize("name", [n for n in FILES if _prefix(n) in UNSUPPORTED])
def test_unsupported_example_is_refused_cleanly(name: str) -> None:
    example = _example(name)
    key = example["input"].get("key")
    try:
        # Symmetric keys and RSA keys labelled RSA1_5 or RSA-OAEP are refused
        # as decryption keys; an unlabelled RSA key loads (for RSA-OAEP-256).
        policy = widest_policy(DecryptionKeySet.from_jwks({"keys": [key]}))
    except ConfigurationError:
        policy = stranger_policy()
    compact = example["output"].get("compact")
    assert compact is not None
    with pytest.raises(AlgorithmNotAllowed) as info:
        decrypt_compact(compact, policy, MAX_BYTES)
    assert info.value.reason == "alg_not_allowed"


@pytest.mark.parametrize("name", ["5_1", "5_3"])
def test_rsa1_5_and_pbes2_examples_are_named_as_never_accepted(name: str) -> None:
    example = _example(next(n for n in FILES if _prefix(n) == name))
    with pytest.raises(AlgorithmNotAllowed, match="never accepted"):
        decrypt_compact(example["output"]["compact"], stranger_policy(), MAX_BYTES)


@pytest.mark.parametrize("name", [n for n in FILES if _prefix(n) in JSON_ONLY])
def test_json_only_examples_have_no_compact_form(name: str) -> None:
    assert _example(name)["output"].get("compact") is None
