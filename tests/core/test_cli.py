"""The ``jwt-guard`` command line: keygen, inspect, verify, demo and exit codes."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sysconfig
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from jwt_guard_core.cli import jwk_thumbprint, main
from jwt_guard_core.encoding import b64url_encode
from tests.core.cli_support import Run
from tests.factories import AUDIENCE, ISSUER, NOW, claims, public_pem, sign

pytest_plugins = ["tests.core.cli_fixtures"]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _keygen(run: Run, out: Path, alg: str, *extra: str) -> tuple[Path, Path | None]:
    code, stdout, stderr = run("keygen", "--alg", alg, "--out", str(out), *extra)
    assert code == 0, stderr
    private = [p for p in out.iterdir() if p.name.endswith((".private.pem", ".secret"))]
    assert len(private) == 1
    jwks = [p for p in out.iterdir() if p.name.endswith(".jwks.json")]
    assert str(private[0]) in stdout
    return private[0], (jwks[0] if jwks else None)


def _token_for(private_pem: Path, alg: str, kid: str, **overrides: Any) -> str:
    key = serialization.load_pem_private_key(private_pem.read_bytes(), password=None)
    return sign({"alg": alg, "kid": kid, "typ": "JWT"}, claims(**overrides), key)


def _verify_args(jwks: Path, alg: str, *extra: str) -> list[str]:
    return ["--jwks", str(jwks), "--alg", alg, "--issuer", ISSUER, "--audience", AUDIENCE, *extra]


@pytest.fixture
def es256(tmp_path: Path, run: Run) -> tuple[Path, Path, str]:
    """An ES256 key made by keygen: (private PEM, JWKS file, kid)."""
    private, jwks = _keygen(run, tmp_path / "keys", "ES256")
    assert jwks is not None
    kid = json.loads(jwks.read_text())["keys"][0]["kid"]
    return private, jwks, kid


# --- keygen ----------------------------------------------------------------------


ASYMMETRIC = [
    ("RS256", ("--bits", "2048"), "RSA", None),
    ("PS384", ("--bits", "2048"), "RSA", None),
    ("ES256", (), "EC", "P-256"),
    ("ES384", (), "EC", "P-384"),
    ("ES512", (), "EC", "P-521"),
    ("EdDSA", (), "OKP", "Ed25519"),
    ("Ed25519", (), "OKP", "Ed25519"),
]


@pytest.mark.parametrize(("alg", "extra", "kty", "crv"), ASYMMETRIC)
def test_keygen_writes_a_0600_pkcs8_key_and_a_public_jwks_that_verifies_tokens(
    tmp_path, run, alg, extra, kty, crv
):
    private, jwks = _keygen(run, tmp_path, alg, *extra)
    assert _mode(private) == 0o600
    assert private.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")  # PKCS#8
    assert jwks is not None
    (jwk,) = json.loads(jwks.read_text())["keys"]
    assert jwk["kty"] == kty
    assert jwk.get("crv") == crv
    assert jwk["alg"] == alg
    assert jwk["use"] == "sig"
    assert "d" not in jwk
    assert jwk["kid"] == jwk_thumbprint(jwk)

    token = _token_for(private, alg, jwk["kid"])
    code, out, err = run("verify", token, *_verify_args(jwks, alg))
    assert code == 0, err
    assert json.loads(out)["sub"] == "user-1"


def test_keygen_rsa_defaults_to_3072_bits(tmp_path, run):
    private, _ = _keygen(run, tmp_path, "RS256")
    key = serialization.load_pem_private_key(private.read_bytes(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    assert key.key_size == 3072


def test_keygen_ec_key_is_on_the_algorithms_curve(tmp_path, run):
    private, _ = _keygen(run, tmp_path, "ES384")
    key = serialization.load_pem_private_key(private.read_bytes(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert key.curve.name == "secp384r1"


def test_keygen_eddsa_key_is_ed25519(tmp_path, run):
    private, _ = _keygen(run, tmp_path, "EdDSA")
    key = serialization.load_pem_private_key(private.read_bytes(), password=None)
    assert isinstance(key, ed25519.Ed25519PrivateKey)


def test_keygen_refuses_rsa_keys_under_2048_bits_with_exit_2(tmp_path, run):
    code, _, err = run("keygen", "--alg", "RS256", "--bits", "1024", "--out", str(tmp_path))
    assert code == 2
    assert "--bits" in err
    assert "2048" in err
    assert list(tmp_path.iterdir()) == []


def test_keygen_refuses_bits_for_a_non_rsa_algorithm(tmp_path, run):
    code, _, err = run("keygen", "--alg", "ES256", "--bits", "4096", "--out", str(tmp_path))
    assert code == 2
    assert "RSA algorithms only" in err


@pytest.mark.parametrize(("alg", "hash_bytes"), [("HS256", 32), ("HS384", 48), ("HS512", 64)])
def test_keygen_hmac_writes_a_0600_secret_file_no_jwks_and_never_prints_the_secret(
    tmp_path, run, monkeypatch, alg, hash_bytes
):
    code, out, err = run("keygen", "--alg", alg, "--out", str(tmp_path), "--kid", "shared-1")
    assert code == 0, err
    (secret_file,) = tmp_path.iterdir()
    assert secret_file.name == f"{alg}-shared-1.secret"
    assert _mode(secret_file) == 0o600
    secret = secret_file.read_text()
    # token_urlsafe(n) encodes n random bytes in about 4n/3 characters.
    assert len(secret) >= hash_bytes * 4 // 3
    assert secret not in out
    assert secret not in err

    monkeypatch.setenv("JWT_TEST_SECRET", secret)
    token = sign({"alg": alg, "kid": "shared-1"}, claims(), secret.encode())
    code, out, err = run(
        "verify", token, "--secret-env", "JWT_TEST_SECRET", "--kid", "shared-1", "--alg", alg,
        "--issuer", ISSUER, "--audience", AUDIENCE,
    )  # fmt: skip
    assert code == 0, err
    assert secret not in out + err


def test_keygen_hmac_secrets_differ_between_runs(tmp_path, run):
    _keygen(run, tmp_path / "a", "HS256")
    _keygen(run, tmp_path / "b", "HS256")
    (a,) = (tmp_path / "a").iterdir()
    (b,) = (tmp_path / "b").iterdir()
    assert a.read_text() != b.read_text()


def test_keygen_refuses_to_overwrite_an_existing_key_with_exit_1(tmp_path, run):
    run("keygen", "--alg", "ES256", "--out", str(tmp_path), "--kid", "k1")
    private = tmp_path / "ES256-k1.private.pem"
    before = private.read_bytes()
    code, _, err = run("keygen", "--alg", "ES256", "--out", str(tmp_path), "--kid", "k1")
    assert code == 1
    assert "refusing to overwrite" in err
    assert str(private) in err
    assert private.read_bytes() == before


def test_keygen_refuses_to_overwrite_an_existing_jwks_and_writes_nothing(tmp_path, run):
    jwks = tmp_path / "ES256-k1.jwks.json"
    jwks.write_text("{}")
    code, _, err = run("keygen", "--alg", "ES256", "--out", str(tmp_path), "--kid", "k1")
    assert code == 1
    assert "refusing to overwrite" in err
    assert jwks.read_text() == "{}"
    assert not (tmp_path / "ES256-k1.private.pem").exists()


def test_keygen_refuses_to_overwrite_an_existing_hmac_secret(tmp_path, run):
    secret = tmp_path / "HS256-k1.secret"
    secret.write_text("old")
    code, _, err = run("keygen", "--alg", "HS256", "--out", str(tmp_path), "--kid", "k1")
    assert code == 1
    assert "refusing to overwrite" in err
    assert secret.read_text() == "old"


def test_keygen_private_key_is_0600_even_under_a_permissive_umask(tmp_path, run):
    old = os.umask(0)
    try:
        private, jwks = _keygen(run, tmp_path, "ES256")
    finally:
        os.umask(old)
    assert _mode(private) == 0o600
    assert jwks is not None
    assert _mode(jwks) == 0o644


def test_keygen_encrypts_the_private_key_with_the_passphrase_from_the_environment(
    tmp_path, run, monkeypatch
):
    monkeypatch.setenv("KEY_PASSPHRASE", "correct horse battery staple")
    private, _ = _keygen(run, tmp_path, "ES256", "--passphrase-env", "KEY_PASSPHRASE")
    data = private.read_bytes()
    assert data.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    with pytest.raises(TypeError):
        serialization.load_pem_private_key(data, password=None)
    key = serialization.load_pem_private_key(data, password=b"correct horse battery staple")
    assert isinstance(key, ec.EllipticCurvePrivateKey)


def test_keygen_with_an_unset_passphrase_variable_exits_2(tmp_path, run, monkeypatch):
    monkeypatch.delenv("NO_SUCH_PASSPHRASE", raising=False)
    code, _, err = run(
        "keygen", "--alg", "ES256", "--out", str(tmp_path), "--passphrase-env", "NO_SUCH_PASSPHRASE"
    )
    assert code == 2
    assert "NO_SUCH_PASSPHRASE is not set" in err
    assert list(tmp_path.iterdir()) == []


def test_keygen_refuses_a_passphrase_for_an_hmac_secret(tmp_path, run, monkeypatch):
    monkeypatch.setenv("KEY_PASSPHRASE", "pw")
    code, _, err = run(
        "keygen", "--alg", "HS256", "--out", str(tmp_path), "--passphrase-env", "KEY_PASSPHRASE"
    )
    assert code == 2
    assert "not HMAC secrets" in err


def test_keygen_uses_the_given_kid_in_the_jwks_and_file_names(tmp_path, run):
    code, out, _ = run("keygen", "--alg", "ES256", "--out", str(tmp_path), "--kid", "2026-11.a")
    assert code == 0
    jwks = tmp_path / "ES256-2026-11.a.jwks.json"
    assert json.loads(jwks.read_text())["keys"][0]["kid"] == "2026-11.a"
    assert "kid: 2026-11.a" in out


@pytest.mark.parametrize("kid", ["../escape", "a/b", ".hidden", ""])
def test_keygen_refuses_a_kid_that_is_not_a_safe_file_name(tmp_path, run, kid):
    code, _, err = run("keygen", "--alg", "ES256", "--out", str(tmp_path / "k"), "--kid", kid)
    assert code == 2
    assert "--kid" in err
    assert not (tmp_path / "escape").exists()


def test_keygen_with_an_unknown_algorithm_is_a_usage_error(tmp_path, run):
    code, _, err = run("keygen", "--alg", "none", "--out", str(tmp_path))
    assert code == 2
    assert "invalid choice" in err


def test_jwk_thumbprint_matches_the_rfc_7638_example():
    # RFC 7638 section 3.1.
    jwk = {
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1"
        "L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v"
        "-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLy"
        "rdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnq"
        "DKgw",
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29",
    }
    assert jwk_thumbprint(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


# --- inspect ---------------------------------------------------------------------


def _unsigned(header: dict[str, Any], payload: dict[str, Any]) -> str:
    def seg(part: dict[str, Any]) -> str:
        return b64url_encode(json.dumps(part).encode())

    return f"{seg(header)}.{seg(payload)}.c2ln"


DUPLICATE_KEYS = b'{"a":1,"a":2}'
ES256_HEADER = b'{"alg":"ES256"}'


def _warnings(out: str) -> str:
    return out.split("warnings:", 1)[1]


def test_inspect_shows_header_claims_and_iso_times_and_says_nothing_was_verified(run):
    token = _unsigned({"alg": "ES256", "kid": "k1"}, claims())
    code, out, _ = run("inspect", token)
    assert code == 0
    assert out.startswith("NOTHING WAS VERIFIED")
    assert '"kid": "k1"' in out
    assert '"sub": "user-1"' in out
    assert "2027-01-15T07:59:00Z  (60 s ago)" in out  # iat, a minute before the fake NOW
    assert "2027-01-15T08:10:00Z  (in 10 min)" in out  # exp
    assert "warnings: none" in out


@pytest.mark.parametrize(
    ("header", "payload", "expected"),
    [
        ({"alg": "ES256"}, claims(exp=None), "no exp claim"),
        ({"alg": "ES256"}, claims(exp=int(NOW) + 3 * 86400), "long lifetime"),
        ({"alg": "none"}, claims(), "unsigned"),
        ({"alg": "nOnE"}, claims(), "unsigned"),
        ({"alg": "ES256", "jwk": {"kty": "EC"}}, claims(), "carries 'jwk'"),
        ({"alg": "ES256", "jku": "https://evil.example/jwks"}, claims(), "carries 'jku'"),
        ({"alg": "ES256", "x5u": "https://evil.example/cert"}, claims(), "carries 'x5u'"),
        ({"alg": "ES256", "x5c": ["MIIB"]}, claims(), "carries 'x5c'"),
        ({"alg": "HS256"}, claims(), "HS256 (HMAC)"),
        ({"alg": "ES256"}, claims(aud=None), "no aud claim"),
        ({"alg": "ES256"}, claims(iss=None), "no iss claim"),
        ({"alg": "ES256"}, claims(exp="tomorrow"), "exp is not a number"),
        ({"typ": "JWT"}, claims(), "no alg"),
    ],
)
def test_inspect_warns_about_risky_tokens(run, header, payload, expected):
    code, out, _ = run("inspect", _unsigned(header, payload))
    assert code == 0
    assert "NOTHING WAS VERIFIED" in out
    assert expected in _warnings(out)


def test_inspect_prints_non_ascii_claims_readably(run):
    code, out, _ = run("inspect", _unsigned({"alg": "ES256"}, claims(name="Zoë")))
    assert code == 0
    assert '"name": "Zoë"' in out


def test_inspect_escapes_a_lone_surrogate_instead_of_crashing(run):
    payload = b64url_encode(b'{"sub":"\\ud800","name":"Zo\xc3\xab"}')
    token = f"{b64url_encode(ES256_HEADER)}.{payload}.c2ln"
    code, out, _ = run("inspect", token)
    assert code == 0
    assert '"sub": "\\ud800"' in out
    assert '"name": "Zo\\u00eb"' in out


def test_inspect_reads_the_token_from_stdin(run):
    token = _unsigned({"alg": "ES256"}, claims(sub="from-stdin"))
    code, out, _ = run("inspect", "-", stdin=token + "\n")
    assert code == 0
    assert '"sub": "from-stdin"' in out


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("not-a-token", "3 dot-separated segments"),
        ("a.b.c.d.e", "JWE"),
        ("e30.!!!.c2ln", "claims: segment is not base64url"),
        (f"{b64url_encode(b'[1]')}.e30.c2ln", "header: JSON is not an object"),
        (f"e30.{b64url_encode(DUPLICATE_KEYS)}.c2ln", "duplicate member names"),
        ("", "3 dot-separated segments"),
    ],
)
def test_inspect_of_a_malformed_token_exits_1_with_a_clear_message(run, token, message):
    code, out, err = run("inspect", token)
    assert code == 1
    assert out == ""
    assert err.startswith("malformed token:")
    assert message in err


# --- verify ----------------------------------------------------------------------


def test_verify_prints_the_claims_as_json_and_exits_0(run, es256):
    private, jwks, kid = es256
    code, out, err = run("verify", _token_for(private, "ES256", kid), *_verify_args(jwks, "ES256"))
    assert code == 0
    assert json.loads(out) == claims()
    assert err == ""  # issuer and audience were both checked: no note


def test_verify_reads_the_token_from_stdin(run, es256):
    private, jwks, kid = es256
    token = _token_for(private, "ES256", kid)
    code, out, _ = run("verify", "-", *_verify_args(jwks, "ES256"), stdin=f"  {token}\n")
    assert code == 0
    assert json.loads(out)["iss"] == ISSUER


def test_verify_without_issuer_and_audience_says_those_checks_were_skipped(run, es256):
    private, jwks, kid = es256
    token = _token_for(private, "ES256", kid, iss="https://anyone.example", aud="other")
    code, out, err = run("verify", token, "--jwks", str(jwks), "--alg", "ES256")
    assert code == 0
    assert json.loads(out)["iss"] == "https://anyone.example"
    assert "issuer (iss)" in err
    assert "audience (aud)" in err
    assert "not checked" in err


def test_verify_without_audience_names_only_the_audience_as_skipped(run, es256):
    private, jwks, kid = es256
    token = _token_for(private, "ES256", kid)
    code, _, err = run("verify", token, "--jwks", str(jwks), "--alg", "ES256", "--issuer", ISSUER)
    assert code == 0
    assert "audience (aud)" in err
    assert "issuer" not in err


@pytest.mark.parametrize(
    ("overrides", "extra", "reason"),
    [
        ({"exp": int(NOW) - 3600}, (), "token_expired"),
        ({"nbf": int(NOW) + 3600}, (), "not_yet_valid"),
        ({"aud": "https://other-api.example"}, (), "bad_audience"),
        ({"iss": "https://evil.example"}, (), "bad_issuer"),
        ({"sub": None}, (), "missing_claim"),
        ({}, ("--type", "at+jwt"), "bad_type"),
    ],
)
def test_verify_rejection_prints_reason_and_explanation_on_stderr_and_exits_1(
    run, es256, overrides, extra, reason
):
    private, jwks, kid = es256
    token = _token_for(private, "ES256", kid, **overrides)
    code, out, err = run("verify", token, *_verify_args(jwks, "ES256", *extra))
    assert code == 1
    assert out == ""
    line = err.strip().splitlines()[-1]
    assert line.startswith(f"{reason}: ")
    assert len(line) > len(reason) + 5


def test_verify_rejects_a_tampered_signature_with_bad_signature(run, es256):
    private, jwks, kid = es256
    head, payload, sig = _token_for(private, "ES256", kid).split(".")
    middle = len(sig) // 2
    tampered = (
        f"{head}.{payload}.{sig[:middle]}{'A' if sig[middle] != 'A' else 'B'}{sig[middle + 1 :]}"
    )
    code, _, err = run("verify", tampered, *_verify_args(jwks, "ES256"))
    assert code == 1
    assert err.startswith("bad_signature: ")


def test_verify_honours_the_leeway(run, es256):
    private, jwks, kid = es256
    token = _token_for(private, "ES256", kid, exp=int(NOW) - 30)
    assert run("verify", token, *_verify_args(jwks, "ES256"))[0] == 1
    assert run("verify", token, *_verify_args(jwks, "ES256", "--leeway", "60"))[0] == 0


def test_verify_refuses_alg_none_and_an_algorithm_outside_the_allowlist(run, es256):
    _, jwks, kid = es256
    unsigned = _unsigned({"alg": "none", "kid": kid}, claims())
    code, _, err = run("verify", unsigned, *_verify_args(jwks, "ES256"))
    assert code == 1
    assert err.startswith("alg_not_allowed: ")
    rs = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = sign({"alg": "RS256", "kid": kid}, claims(), rs)
    code, _, err = run("verify", token, *_verify_args(jwks, "ES256"))
    assert code == 1
    assert err.startswith("alg_not_allowed: ")


def test_verify_of_a_malformed_token_exits_1_with_malformed(run, es256):
    _, jwks, _ = es256
    code, _, err = run("verify", "garbage", *_verify_args(jwks, "ES256"))
    assert code == 1
    assert err.startswith("malformed: ")


def test_verify_with_a_pem_key_and_kid(run, keyring, tmp_path):
    pem = tmp_path / "public.pem"
    pem.write_bytes(public_pem(keyring.rsa))
    token = sign({"alg": "RS256", "kid": "rsa-1"}, claims(), keyring.rsa)
    args = ["--pem", str(pem), "--alg", "RS256", "--issuer", ISSUER, "--audience", AUDIENCE]
    code, out, _ = run("verify", token, *args, "--kid", "rsa-1")
    assert code == 0
    assert json.loads(out)["sub"] == "user-1"


def test_verify_with_a_pem_key_without_kid_hints_at_kid_for_a_token_naming_one(
    run, keyring, tmp_path
):
    pem = tmp_path / "public.pem"
    pem.write_bytes(public_pem(keyring.rsa))
    token = sign({"alg": "RS256", "kid": "rsa-1"}, claims(), keyring.rsa)
    args = ["--pem", str(pem), "--alg", "RS256", "--issuer", ISSUER, "--audience", AUDIENCE]
    code, _, err = run("verify", token, *args)
    assert code == 1
    assert err.startswith("unknown_kid: ")
    assert "--kid" in err


def test_verify_with_several_hmac_algorithms_accepts_each(run, keyring, monkeypatch):
    monkeypatch.setenv("JWT_TEST_SECRET", keyring.secret.decode())
    for alg in ("HS256", "HS512"):
        token = sign({"alg": alg}, claims(), keyring.secret)
        code, _, err = run(
            "verify", token, "--secret-env", "JWT_TEST_SECRET", "--alg", "HS256", "--alg", "HS512",
            "--issuer", ISSUER, "--audience", AUDIENCE,
        )  # fmt: skip
        assert code == 0, err


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        # HMAC against a public key set: the algorithm-confusion attack.
        (("--alg", "HS256"), {}, "algorithms: HS256 allowed but the key source holds no HMAC"),
        (("--alg", "ES256", "--leeway", "-5"), {}, "leeway: -5.0 is negative"),
        (("--alg", "ES256", "--leeway", "3600"), {}, "leeway"),
        (("--alg", "XS999"), {}, "unknown algorithm 'XS999'"),
        (("--alg", "ES256", "--kid", "k1"), {}, "--kid: applies to --pem and --secret-env"),
    ],
)
def test_verify_configuration_error_exits_2_with_the_message(run, es256, args, env, message):
    private, jwks, kid = es256
    token = _token_for(private, "ES256", kid)
    code, out, err = run("verify", token, "--jwks", str(jwks), *args)
    assert code == 2
    assert out == ""
    assert err.startswith("configuration error: ")
    assert message in err


def test_verify_with_a_jwks_holding_private_members_exits_2(run, tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    numbers = key.private_numbers()
    jwk = {
        "kty": "EC",
        "crv": "P-256",
        "kid": "k1",
        "x": b64url_encode(numbers.public_numbers.x.to_bytes(32, "big")),
        "y": b64url_encode(numbers.public_numbers.y.to_bytes(32, "big")),
        "d": b64url_encode(numbers.private_value.to_bytes(32, "big")),
    }
    path = tmp_path / "private.jwks.json"
    path.write_text(json.dumps({"keys": [jwk]}))
    code, _, err = run("verify", "a.b.c", "--jwks", str(path), "--alg", "ES256")
    assert code == 2
    assert "private members" in err


def test_verify_with_a_missing_jwks_file_exits_2(run, tmp_path):
    code, _, err = run("verify", "a.b.c", "--jwks", str(tmp_path / "nope.json"), "--alg", "ES256")
    assert code == 2
    assert "cannot read JWKS file" in err


def test_verify_with_an_unreadable_pem_file_exits_2(run, tmp_path):
    code, _, err = run("verify", "a.b.c", "--pem", str(tmp_path / "nope.pem"), "--alg", "RS256")
    assert code == 2
    assert "--pem: cannot read" in err


def test_verify_with_a_private_pem_exits_2(run, tmp_path, es256):
    private, _, _ = es256
    code, _, err = run("verify", "a.b.c", "--pem", str(private), "--alg", "ES256")
    assert code == 2
    assert "private key" in err


def test_verify_with_an_unset_secret_variable_exits_2(run, monkeypatch):
    monkeypatch.delenv("NO_SUCH_SECRET", raising=False)
    code, _, err = run("verify", "a.b.c", "--secret-env", "NO_SUCH_SECRET", "--alg", "HS256")
    assert code == 2
    assert "NO_SUCH_SECRET is not set" in err


def test_verify_with_a_short_hmac_secret_exits_2_without_printing_it(run, monkeypatch):
    monkeypatch.setenv("SHORT_SECRET", "hunter2-hunter2")
    code, _, err = run("verify", "a.b.c", "--secret-env", "SHORT_SECRET", "--alg", "HS256")
    assert code == 2
    assert "shorter than" in err
    assert "hunter2" not in err


def test_verify_with_a_secret_but_no_hmac_algorithm_exits_2(run, monkeypatch, keyring):
    monkeypatch.setenv("JWT_TEST_SECRET", keyring.secret.decode())
    code, _, err = run("verify", "a.b.c", "--secret-env", "JWT_TEST_SECRET", "--alg", "RS256")
    assert code == 2
    assert "needs an HMAC --alg" in err


@pytest.mark.parametrize(
    "argv",
    [
        ("verify", "a.b.c", "--alg", "ES256"),  # no key source
        ("verify", "a.b.c", "--jwks", "x", "--pem", "y", "--alg", "ES256"),  # two sources
        ("verify", "a.b.c", "--jwks", "x"),  # no --alg
        (),  # no command
        ("frobnicate",),
    ],
)
def test_usage_errors_exit_2(run, argv):
    code, _, err = run(*argv)
    assert code == 2
    assert "usage:" in err


def test_help_exits_0(run):
    code, out, _ = run("--help")
    assert code == 0
    assert "keygen" in out
    assert "Exit codes" in out


# --- demo ------------------------------------------------------------------------


def test_demo_mints_verifies_and_shows_three_rejections_with_reason_codes(capsys):
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "verified with jwt_guard_core.Verifier" in out
    assert "subject alice" in out
    assert "tampered signature" in out
    assert "-> bad_signature:" in out
    assert "-> token_expired:" in out
    assert "-> bad_audience:" in out
    assert "ACCEPTED" not in out
    assert "PRIVATE KEY" not in out


# --- the installed console script -------------------------------------------------


def test_installed_console_script_verifies_a_token_from_stdin(tmp_path):
    script = Path(sysconfig.get_path("scripts")) / "jwt-guard"
    assert script.exists(), "install the package: pip install -e '.[all,test]'"
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    keygen = subprocess.run(
        [str(script), "keygen", "--alg", "EdDSA", "--out", str(tmp_path), "--kid", "ed-1"],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert keygen.returncode == 0, keygen.stderr
    private = serialization.load_pem_private_key(
        (tmp_path / "EdDSA-ed-1.private.pem").read_bytes(), password=None
    )
    now = int(time.time())
    token = jwt.encode(
        {"sub": "cli", "iat": now, "exp": now + 600}, private, "EdDSA", {"kid": "ed-1"}
    )
    argv = [str(script), "verify", "-", "--jwks", str(tmp_path / "EdDSA-ed-1.jwks.json")]
    verify = subprocess.run(
        [*argv, "--alg", "EdDSA"], input=token, capture_output=True, text=True, env=env, check=False
    )
    assert verify.returncode == 0, verify.stderr
    assert json.loads(verify.stdout)["sub"] == "cli"
    rejected = subprocess.run(
        [*argv, "--alg", "ES256"], input=token, capture_output=True, text=True, env=env, check=False
    )
    assert rejected.returncode == 1
    assert rejected.stderr.strip().splitlines()[-1].startswith("alg_not_allowed: ")
