"""ML-DSA (RFC 9964, FIPS 204): AKP keys in verification, key sets, remote JWKS, hygiene,
keygen, the key store and issuing, and the token size they need."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import mldsa

from jwt_guard_core import (
    AlgorithmNotAllowed,
    BadSignature,
    ConfigurationError,
    GuardConfig,
    StaticKeySet,
    Verifier,
)
from jwt_guard_core.algorithms import ML_DSA, min_token_bytes
from jwt_guard_core.cli._keys import generate_key, write_key
from jwt_guard_core.encoding import b64url_decode, b64url_encode
from jwt_guard_core.jwe import DecryptionKey, DecryptionKeySet, JWEPolicy, RecipientKey
from jwt_guard_core.keys import KeyRejected, key_from_jwk, key_from_public_key
from jwt_guard_core.signing import FileKeyStore, IssuanceError, KeyManager, TokenIssuer
from tests.factories import AUDIENCE, ISSUER, FakeClock, claims, sign

pytest_plugins = ["tests.core.remote_fixtures", "tests.core.cli_fixtures"]

PRIVATE = {
    "ML-DSA-44": mldsa.MLDSA44PrivateKey,
    "ML-DSA-65": mldsa.MLDSA65PrivateKey,
    "ML-DSA-87": mldsa.MLDSA87PrivateKey,
}
ALGS = list(PRIVATE)
BIG = 16384


@pytest.fixture(scope="module")
def ml_keys() -> dict[str, Any]:
    return {alg: cls.generate() for alg, cls in PRIVATE.items()}


def _jwk(key: Any, kid: str) -> dict[str, Any]:
    public = key_from_public_key(key.public_key(), kid=kid).public_jwk
    assert public is not None
    return dict(public)


def _verifier(
    keys: StaticKeySet | Any, algs: list[str], clock: FakeClock, **extra: Any
) -> Verifier:
    return Verifier(
        GuardConfig(
            algorithms=algs,
            keys=keys,
            issuer=ISSUER,
            audience=AUDIENCE,
            clock=clock,
            max_token_bytes=extra.pop("max_token_bytes", BIG),
            **extra,
        )
    )


@pytest.mark.parametrize("alg", ALGS)
def test_token_signed_with_ml_dsa_verifies(
    alg: str, ml_keys: dict[str, Any], clock: FakeClock
) -> None:
    keys = StaticKeySet.from_jwks({"keys": [_jwk(ml_keys[alg], "pq")]})
    token = sign({"alg": alg, "kid": "pq"}, claims(), ml_keys[alg])
    result = _verifier(keys, [alg], clock).verify(token)
    assert (result.algorithm, result.kid, result.subject) == (alg, "pq", "user-1")


@pytest.mark.parametrize("alg", ALGS)
def test_a_modified_or_truncated_signature_is_rejected(
    alg: str, ml_keys: dict[str, Any], clock: FakeClock
) -> None:
    keys = StaticKeySet.from_jwks({"keys": [_jwk(ml_keys[alg], "pq")]})
    verifier = _verifier(keys, [alg], clock)
    token = sign({"alg": alg, "kid": "pq"}, claims(), ml_keys[alg])
    head, sig = token.rsplit(".", 1)
    raw = b64url_decode(sig)
    flipped = bytes([raw[0] ^ 1]) + raw[1:]
    for bad in (b64url_encode(flipped), b64url_encode(raw[:-1]), b64url_encode(raw + b"\0")):
        with pytest.raises(BadSignature) as info:
            verifier.verify(f"{head}.{bad}")
        assert info.value.reason == "bad_signature"


def test_a_key_is_bound_to_its_own_parameter_set(ml_keys: dict[str, Any], clock: FakeClock) -> None:
    keys = StaticKeySet.from_jwks({"keys": [_jwk(ml_keys["ML-DSA-44"], "pq")]})
    verifier = _verifier(keys, ALGS, clock)
    token = sign({"alg": "ML-DSA-65", "kid": "pq"}, claims(), ml_keys["ML-DSA-65"])
    with pytest.raises(AlgorithmNotAllowed) as info:
        verifier.verify(token)
    assert info.value.reason == "alg_not_allowed"


def test_ml_dsa_must_be_allowlisted_like_any_algorithm(
    ml_keys: dict[str, Any], clock: FakeClock
) -> None:
    keys = StaticKeySet.from_jwks({"keys": [_jwk(ml_keys["ML-DSA-44"], "pq")]})
    token = sign({"alg": "ML-DSA-44", "kid": "pq"}, claims(), ml_keys["ML-DSA-44"])
    with pytest.raises(AlgorithmNotAllowed):
        _verifier(keys, ["ES256"], clock).verify(token)


# -- JWK (RFC 9964 section 5): kty AKP, alg required, pub


def test_public_jwk_has_the_rfc_members(ml_keys: dict[str, Any]) -> None:
    jwk = _jwk(ml_keys["ML-DSA-65"], "pq")
    assert jwk["kty"] == "AKP"
    assert jwk["alg"] == "ML-DSA-65"
    assert jwk["use"] == "sig"
    assert len(jwk["pub"]) == -(-ML_DSA["ML-DSA-65"].public_key * 4 // 3)
    assert set(jwk) == {"kty", "alg", "pub", "kid", "use"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"alg": None}, "must name its alg"),
        ({"alg": "ES256"}, "must name its alg"),
        ({"alg": "ML-DSA-65"}, "must be 1952 bytes"),
        ({"pub": "!"}, "not base64url"),
        ({"pub": None}, "missing"),
        ({"pub": b64url_encode(bytes(1311))}, "must be 1312 bytes"),
        ({"use": "enc"}, "use is 'enc'"),
    ],
)
def test_bad_akp_keys_are_refused(
    change: dict[str, Any], message: str, ml_keys: dict[str, Any]
) -> None:
    jwk = {**_jwk(ml_keys["ML-DSA-44"], "pq"), **change}
    jwk = {k: v for k, v in jwk.items() if v is not None}
    with pytest.raises(KeyRejected, match=message):
        key_from_jwk(jwk)


def test_private_seed_is_refused_in_a_verification_set_unless_stripped(
    ml_keys: dict[str, Any],
) -> None:
    jwk = {**_jwk(ml_keys["ML-DSA-44"], "pq"), "priv": b64url_encode(bytes(32))}
    with pytest.raises(ConfigurationError, match="private members priv"):
        StaticKeySet.from_jwks({"keys": [jwk]})
    stripped = StaticKeySet.from_jwks({"keys": [jwk]}, private_members="strip")
    assert "priv" not in stripped.jwks()["keys"][0]


def test_an_ml_dsa_key_cannot_be_an_hmac_secret_or_a_decryption_key(
    ml_keys: dict[str, Any],
) -> None:
    with pytest.raises(KeyRejected, match="not an RSA, EC or X25519 private key"):
        DecryptionKey.from_key(ml_keys["ML-DSA-44"])
    with pytest.raises(KeyRejected, match="private key was given"):
        key_from_public_key(ml_keys["ML-DSA-44"])


# -- token size


@pytest.mark.parametrize("alg", ALGS)
def test_a_size_limit_too_small_for_the_algorithm_is_refused_at_start_up(
    alg: str, ml_keys: dict[str, Any], clock: FakeClock
) -> None:
    keys = StaticKeySet.from_jwks({"keys": [_jwk(ml_keys[alg], "pq")]})
    need = min_token_bytes(alg)
    with pytest.raises(ConfigurationError, match=f"max_token_bytes={need} or more") as info:
        _verifier(keys, [alg], clock, max_token_bytes=need - 1)
    assert info.value.setting == "max_token_bytes"
    _verifier(keys, [alg], clock, max_token_bytes=need)


def test_the_default_limit_fits_ml_dsa_44_and_65_but_not_87(
    ml_keys: dict[str, Any], clock: FakeClock
) -> None:
    for alg in ("ML-DSA-44", "ML-DSA-65"):
        keys = StaticKeySet.from_jwks({"keys": [_jwk(ml_keys[alg], "pq")]})
        assert _verifier(keys, [alg], clock, max_token_bytes=8192).config.max_token_bytes == 8192
    keys = StaticKeySet.from_jwks({"keys": [_jwk(ml_keys["ML-DSA-87"], "pq")]})
    with pytest.raises(ConfigurationError, match="ML-DSA-87"):
        _verifier(keys, ["ML-DSA-87"], clock, max_token_bytes=8192)


def test_a_nested_jwe_needs_more_room(ml_keys: dict[str, Any], clock: FakeClock) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    dec = DecryptionKeySet([DecryptionKey.from_key(ec.generate_private_key(ec.SECP256R1()))])
    policy = JWEPolicy(keys=dec, algorithms=["ECDH-ES"], encryption=["A256GCM"])
    keys = StaticKeySet.from_jwks({"keys": [_jwk(ml_keys["ML-DSA-65"], "pq")]})
    with pytest.raises(ConfigurationError, match="inside a nested JWE"):
        _verifier(keys, ["ML-DSA-65"], clock, max_token_bytes=8192, jwe=policy)
    need = min_token_bytes("ML-DSA-65", nested=True)
    _verifier(keys, ["ML-DSA-65"], clock, max_token_bytes=need, jwe=policy)


def test_a_token_over_the_configured_limit_is_refused(
    ml_keys: dict[str, Any], clock: FakeClock
) -> None:
    keys = StaticKeySet.from_jwks({"keys": [_jwk(ml_keys["ML-DSA-87"], "pq")]})
    verifier = _verifier(keys, ["ML-DSA-87"], clock, max_token_bytes=min_token_bytes("ML-DSA-87"))
    big = sign({"alg": "ML-DSA-87", "kid": "pq"}, claims(pad="x" * 3000), ml_keys["ML-DSA-87"])
    from jwt_guard_core import TokenTooLarge

    with pytest.raises(TokenTooLarge):
        verifier.verify(big)


# -- remote JWKS


def test_remote_jwks_serves_akp_keys(
    ml_keys: dict[str, Any], clock: FakeClock, jwks_server: Any, make_jwks: Callable[..., Any]
) -> None:
    jwks_server.serve_keys(_jwk(ml_keys["ML-DSA-65"], "pq-1"), _jwk(ml_keys["ML-DSA-87"], "pq-2"))
    verifier = _verifier(make_jwks(jwks_server.url()), ["ML-DSA-65", "ML-DSA-87"], clock)
    for alg, kid in (("ML-DSA-65", "pq-1"), ("ML-DSA-87", "pq-2")):
        token = sign({"alg": alg, "kid": kid}, claims(), ml_keys[alg])
        assert verifier.verify(token).kid == kid


# -- keygen, key store and issuing


@pytest.mark.parametrize("alg", ALGS)
def test_keygen_writes_an_akp_key_whose_kid_is_its_rfc_9964_thumbprint(
    alg: str, tmp_path: Path
) -> None:
    key = generate_key(alg)
    assert key.public_jwk is not None
    assert key.public_jwk["kty"] == "AKP"
    assert key.public_jwk["alg"] == alg
    written = write_key(key, tmp_path)
    assert written.jwks is not None
    keys = StaticKeySet.from_jwks(written.jwks)
    assert keys.keys[0].algorithms == frozenset({alg})
    # RFC 9964 section 6: the thumbprint covers alg, kty and pub.
    import hashlib
    import json

    members = {m: key.public_jwk[m] for m in ("alg", "kty", "pub")}
    digest = hashlib.sha256(json.dumps(members, separators=(",", ":"), sort_keys=True).encode())
    assert key.kid == b64url_encode(digest.digest())


@pytest.mark.parametrize("alg", ALGS)
def test_key_store_and_issuer_sign_ml_dsa_tokens(
    alg: str, tmp_path: Path, clock: FakeClock
) -> None:
    store = FileKeyStore(tmp_path / "keys", passphrase="correct horse battery staple 42")
    manager = KeyManager(store, algorithm=alg, clock=clock)
    token = TokenIssuer(manager, issuer=ISSUER, audience=AUDIENCE).issue_access_token("user-9")
    verifier = _verifier(StaticKeySet.from_jwks(manager.jwks()), [alg], clock)
    result = verifier.verify(token)
    assert (result.algorithm, result.subject) == (alg, "user-9")
    # A second manager on the same store reads the sealed key back.
    again = KeyManager(store, algorithm=alg, clock=clock)
    token = TokenIssuer(again, issuer=ISSUER, audience=AUDIENCE).issue_access_token("user-10")
    assert verifier.verify(token).subject == "user-10"


def test_issuer_wraps_tokens_for_configured_audiences(tmp_path: Path, clock: FakeClock) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    store = FileKeyStore(tmp_path / "keys", passphrase="correct horse battery staple 42")
    manager = KeyManager(store, algorithm="ML-DSA-44", clock=clock)
    dec = DecryptionKeySet(
        [DecryptionKey.from_key(ec.generate_private_key(ec.SECP384R1()), kid="e")]
    )
    recipient = RecipientKey.from_jwk(dec.jwks()["keys"][0], alg="ECDH-ES+A256KW", enc="A256GCM")
    other = RecipientKey.from_jwk(dec.jwks()["keys"][0], alg="ECDH-ES", enc="A256GCM")
    issuer = TokenIssuer(
        manager,
        issuer=ISSUER,
        audience=AUDIENCE,
        encrypt_for={AUDIENCE: recipient, "https://other.example": other},
    )
    token = issuer.issue_access_token("user-1")
    assert token.count(".") == 4
    policy = JWEPolicy(keys=dec, algorithms=["ECDH-ES+A256KW"], encryption=["A256GCM"])
    verifier = _verifier(StaticKeySet.from_jwks(manager.jwks()), ["ML-DSA-44"], clock, jwe=policy)
    assert verifier.verify(token).subject == "user-1"
    plain = issuer.issue_access_token("user-1", audience="https://plain.example")
    assert plain.count(".") == 2
    with pytest.raises(IssuanceError) as info:
        issuer.issue_access_token("user-1", audience=[AUDIENCE, "https://plain.example"])
    assert info.value.argument == "audience"
    with pytest.raises(IssuanceError):
        issuer.issue_access_token("user-1", audience=[AUDIENCE, "https://other.example"])
    with pytest.raises(ConfigurationError):
        TokenIssuer(manager, issuer=ISSUER, encrypt_for={AUDIENCE: "key"})  # type: ignore[dict-item]


def test_cli_keygen_and_verify_handle_ml_dsa_87(
    run: Callable[..., tuple[int, str, str]], tmp_path: Path
) -> None:
    """The CLI sizes its token limit to the algorithms given, so ML-DSA-87 tokens fit."""
    code, out, err = run("keygen", "--alg", "ML-DSA-87", "--out", str(tmp_path))
    assert code == 0, err
    (jwks_path,) = tmp_path.glob("*.jwks.json")
    (pem_path,) = tmp_path.glob("*.private.pem")
    from cryptography.hazmat.primitives import serialization

    private = serialization.load_pem_private_key(pem_path.read_bytes(), password=None)
    kid = StaticKeySet.from_jwks(jwks_path).keys[0].kid
    token = sign({"alg": "ML-DSA-87", "kid": kid}, claims(), private)
    code, out, err = run(
        "verify", token, "--jwks", str(jwks_path), "--alg", "ML-DSA-87",
        "--issuer", ISSUER, "--audience", AUDIENCE,
    )  # fmt: skip
    assert code == 0, err
    assert '"sub": "user-1"' in out
