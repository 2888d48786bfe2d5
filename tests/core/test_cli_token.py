"""jwt-guard token: development access tokens from a key store or a private key file."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from jwt_guard_core import (
    GuardConfig,
    KeySource,
    StaticKeySet,
    TokenError,
    VerifiedToken,
    Verifier,
)
from jwt_guard_core.signing import FileKeyStore
from tests.core.cli_support import PASSPHRASE, Run
from tests.factories import FakeClock, public_pem

pytest_plugins = ["tests.core.cli_fixtures"]

ISS = "https://auth.example"
AUD = "https://api.example"
ROOT = Path(__file__).resolve().parents[2]


def _keygen(run: Run, out: Path, alg: str, *extra: str) -> tuple[Path, Path | None, str]:
    """``jwt-guard keygen``: (private file, JWKS file or None, kid)."""
    code, stdout, stderr = run("keygen", "--alg", alg, "--out", str(out), *extra)
    assert code == 0, stderr
    (private,) = [p for p in out.iterdir() if p.name.endswith((".private.pem", ".secret"))]
    jwks = next((p for p in out.iterdir() if p.name.endswith(".jwks.json")), None)
    kid = next(line for line in stdout.splitlines() if line.startswith("kid: "))[5:]
    return private, jwks, kid


def _mint(run: Run, *source: str, extra: tuple[str, ...] = ()) -> str:
    code, out, err = run("token", *source, "--iss", ISS, "--sub", "alice", "--aud", AUD, *extra)
    assert code == 0, err
    token = out.removesuffix("\n")
    assert out == token + "\n", "stdout holds the token and nothing else"
    assert token.count(".") == 2
    assert "DEVELOPMENT token" in err
    assert "Do not use it in production" in err
    return token


def _refused(run: Run, *argv: str) -> str:
    """Run ``jwt-guard token ...`` expecting exit 2 and nothing on stdout; the stderr."""
    code, out, err = run("token", *argv)
    assert (code, out) == (2, ""), err
    assert "Traceback" not in err
    return err


def _verify(
    token: str, keys: KeySource, alg: str, clock: FakeClock, **options: Any
) -> VerifiedToken:
    config = GuardConfig(
        algorithms=[alg],
        keys=keys,
        issuer=ISS,
        audience=options.pop("audience", AUD),
        expected_type="at+jwt",
        clock=clock,
        **options,
    )
    return Verifier(config).verify(token)


@pytest.mark.parametrize(
    ("alg", "keygen_extra", "token_extra"),
    [
        ("ES256", (), ()),
        ("ES512", (), ()),
        ("EdDSA", (), ()),
        ("RS256", ("--bits", "2048"), ("--alg", "RS256")),
        ("PS384", ("--bits", "2048"), ("--alg", "PS384")),
    ],
)
def test_a_token_from_a_keygen_pem_verifies_against_the_keygen_jwks(
    run: Run,
    tmp_path: Path,
    clock: FakeClock,
    alg: str,
    keygen_extra: tuple[str, ...],
    token_extra: tuple[str, ...],
) -> None:
    private, jwks, kid = _keygen(run, tmp_path, alg, *keygen_extra)
    assert jwks is not None
    token = _mint(
        run,
        "--key",
        str(private),
        extra=(
            *token_extra,
            "--scope",
            "orders:read",
            "--scope",
            "profile",
            "--claims",
            '{"roles": ["admin"], "tenant": {"id": 7}}',
        ),
    )

    verified = _verify(token, StaticKeySet.from_jwks(jwks), alg, clock)
    assert verified.kid == kid, "the default kid is the RFC 7638 thumbprint keygen gave the key"
    assert verified.header["alg"] == alg
    assert verified.header["typ"] == "at+jwt"
    claims = verified.claims
    assert claims["iss"] == ISS
    assert claims["sub"] == "alice"
    assert claims["aud"] == AUD
    assert claims["scope"] == "orders:read profile"
    assert list(claims["roles"]) == ["admin"]
    assert dict(claims["tenant"]) == {"id": 7}
    assert claims["iat"] == claims["nbf"] == int(clock())
    assert claims["exp"] - claims["iat"] == 900
    assert isinstance(claims["jti"], str)
    assert len(claims["jti"]) >= 32


def test_lifetime_and_several_audiences_reach_the_token(
    run: Run, tmp_path: Path, clock: FakeClock
) -> None:
    private, jwks, _ = _keygen(run, tmp_path, "ES256")
    assert jwks is not None
    code, out, err = run(
        "token", "--key", str(private), "--iss", ISS, "--sub", "svc-7",
        "--aud", AUD, "--aud", "https://other.example", "--lifetime", "60",
    )  # fmt: skip
    assert code == 0, err
    verified = _verify(out.strip(), StaticKeySet.from_jwks(jwks), "ES256", clock)
    assert list(verified.claims["aud"]) == [AUD, "https://other.example"]
    assert verified.claims["exp"] - verified.claims["iat"] == 60
    assert "scope" not in verified.claims
    clock.advance(60 + 11)  # past exp and the default 10 s leeway
    with pytest.raises(TokenError) as rejected:
        _verify(out.strip(), StaticKeySet.from_jwks(jwks), "ES256", clock)
    assert rejected.value.reason == "token_expired"


def test_kid_option_names_the_key_in_the_header(run: Run, tmp_path: Path, clock: FakeClock) -> None:
    private, _, _ = _keygen(run, tmp_path, "ES256")
    token = _mint(run, "--key", str(private), "--kid", "dev-key-1")
    assert jwt.get_unverified_header(token)["kid"] == "dev-key-1"
    keys = StaticKeySet.from_pem(public_pem(_load_pem(private)), kid="dev-key-1")
    assert _verify(token, keys, "ES256", clock).kid == "dev-key-1"


def _load_pem(path: Path, password: bytes | None = None) -> Any:
    return serialization.load_pem_private_key(path.read_bytes(), password=password)


def test_an_encrypted_pem_is_opened_with_the_passphrase_from_the_environment(
    run: Run, tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEV_KEY_PASSPHRASE", "correct horse battery staple")
    private, jwks, _ = _keygen(run, tmp_path, "ES256", "--passphrase-env", "DEV_KEY_PASSPHRASE")
    assert jwks is not None
    assert b"ENCRYPTED PRIVATE KEY" in private.read_bytes()
    token = _mint(run, "--key", str(private), "--passphrase-env", "DEV_KEY_PASSPHRASE")
    assert _verify(token, StaticKeySet.from_jwks(jwks), "ES256", clock).subject == "alice"

    monkeypatch.delenv("DEV_KEY_PASSPHRASE")
    err = _refused(
        run, "--key", str(private), "--passphrase-env", "DEV_KEY_PASSPHRASE",
        "--iss", ISS, "--sub", "alice", "--aud", AUD,
    )  # fmt: skip
    assert "--passphrase-env: " in err
    assert "is encrypted; put its passphrase in the environment variable DEV_KEY_PASSPHRASE" in err


def test_a_private_jwk_gives_its_alg_and_kid(run: Run, tmp_path: Path, clock: FakeClock) -> None:
    private, _, _ = _keygen(run, tmp_path, "ES384")
    key = _load_pem(private)
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key))
    jwk_path = tmp_path / "dev.jwk.json"
    jwk_path.write_text(json.dumps({**jwk, "kid": "jwk-kid", "alg": "ES384"}))
    token = _mint(run, "--key", str(jwk_path))
    assert jwt.get_unverified_header(token)["kid"] == "jwk-kid"
    keys = StaticKeySet.from_pem(public_pem(key), kid="jwk-kid")
    assert _verify(token, keys, "ES384", clock).kid == "jwk-kid"


def test_an_hmac_secret_from_keygen_signs_with_the_given_alg(
    run: Run, tmp_path: Path, clock: FakeClock
) -> None:
    secret_file, jwks, kid = _keygen(run, tmp_path, "HS384")
    assert jwks is None
    token = _mint(run, "--key", str(secret_file), "--alg", "HS384")
    keys = StaticKeySet.from_secret(secret_file.read_text(), algorithm="HS384", kid=kid)
    assert _verify(token, keys, "HS384", clock).kid == kid


# --- the key store ---------------------------------------------------------------------


def _ring(store_dir: Path) -> list[tuple[str, str]]:
    return [(k.kid, k.state) for k in FileKeyStore(store_dir, passphrase=PASSPHRASE).load().keys]


def test_a_token_from_a_store_verifies_against_the_store_jwks_and_never_rotates_it(
    run: Run, store_dir: Path, clock: FakeClock
) -> None:
    code, _, err = run("rotate", "--store", str(store_dir))
    assert code == 0, err
    before = _ring(store_dir)
    ((kid, _),) = before
    # 40 days on, the active key is past its 30-day rotation: an application
    # signing now would rotate; the development token must not.
    clock.advance(40 * 86400)
    token = _mint(run, "--store", str(store_dir), extra=("--scope", "orders:read"))
    assert _ring(store_dir) == before

    code, jwks, err = run("jwks", "--store", str(store_dir))
    assert code == 0, err
    verified = _verify(token, StaticKeySet.from_jwks(json.loads(jwks)), "ES256", clock)
    assert verified.kid == kid
    assert verified.scopes == frozenset({"orders:read"})


def test_a_store_without_an_active_key_is_refused_and_left_empty(run: Run, store_dir: Path) -> None:
    err = _refused(run, "--store", str(store_dir), "--iss", ISS, "--sub", "a", "--aud", AUD)
    assert "--store: " in err
    assert "holds no active key; create one with jwt-guard rotate" in err
    assert _ring(store_dir) == []


@pytest.mark.parametrize("option", [("--kid", "k1"), ("--alg", "ES256")])
def test_kid_and_alg_apply_to_key_files_only(
    run: Run, store_dir: Path, option: tuple[str, str]
) -> None:
    assert run("rotate", "--store", str(store_dir))[0] == 0
    err = _refused(
        run, "--store", str(store_dir), *option, "--iss", ISS, "--sub", "a", "--aud", AUD
    )
    assert f"{option[0]}: applies to --key; the store's active key has its own" in err


# --- bad input: exit 2, a clear message, nothing on stdout ----------------------------


@pytest.fixture
def es256_key(run: Run, tmp_path: Path) -> Path:
    private, _, _ = _keygen(run, tmp_path / "es256", "ES256")
    return private


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--claims", "{not json"), "--claims: JSON is not valid; give a JSON object"),
        (("--claims", "[1, 2]"), "--claims: JSON is not an object; give a JSON object"),
        (("--claims", '"admin"'), "--claims: JSON is not an object"),
        (("--claims", '{"a": 1, "a": 2}'), "--claims: "),
        (
            ("--claims", '{"exp": 9999999999}'),
            "--claims: may not set registered claims, they are set by the options "
            "(exp by --lifetime)",
        ),
        (("--claims", '{"aud": "x", "sub": "root"}'), "(aud by --aud; sub by --sub)"),
        (("--claims", '{"scope": "admin"}'), "(scope by --scope)"),
        (("--claims", '{"jti": "fixed"}'), "(jti by a random value)"),
        (("--claims", '{"password": "hunter2"}'), "--claims: 'password' looks like a secret"),
        (("--lifetime", "3601"), "--lifetime: 3601 is not accepted; give 1 to 3600 seconds"),
        (("--lifetime", "0"), "--lifetime: 0 is not accepted"),
        (("--lifetime", "-5"), "--lifetime: -5 is not accepted"),
        (("--lifetime", "ten"), "argument --lifetime: invalid int value"),
        (("--scope", "orders:read profile"), "--scope: each scope must be"),
        (("--alg", "ES384"), "--alg: algorithm(s) ES384 do not fit this EC key"),
        (("--alg", "HS256"), "--alg: algorithm(s) HS256 do not fit this EC key"),
        (("--alg", "none"), "argument --alg: invalid choice"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(
    run: Run, es256_key: Path, extra: tuple[str, ...], message: str
) -> None:
    err = _refused(
        run, "--key", str(es256_key), "--iss", ISS, "--sub", "alice", "--aud", AUD, *extra
    )
    assert message in err


def _key_file(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d, k: d / "missing.pem", "--key: cannot read"),
        (
            lambda d, k: _key_file(d, "pub.pem", public_pem(_load_pem(k))),
            "holds a public key or certificate; a token is signed with the private key",
        ),
        (
            lambda d, k: next(k.parent.glob("*.jwks.json")),
            "is a JWK Set; give a single private JWK",
        ),
        (
            lambda d, k: _key_file(
                d, "pub.jwk", jwt.algorithms.ECAlgorithm.to_jwk(_load_pem(k).public_key()).encode()
            ),
            "is a public JWK; a token is signed with the private key",
        ),
        (
            lambda d, k: _key_file(d, "bad.jwk", b'{"kty": "EC", "crv": "P-256", "d": "AA"}'),
            "is not a usable private JWK",
        ),
        (lambda d, k: _key_file(d, "bad.json", b"{oops"), "is not a JWK: JSON is not valid"),
        (
            lambda d, k: _key_file(d, "junk.txt", b"not a key"),
            "is not a PEM private key or a private JWK; if it holds an HMAC secret",
        ),
        (
            lambda d, k: _key_file(d, "bad.pem", b"-----BEGIN PRIVATE KEY-----\nAAAA\n"),
            "cannot be read as a PEM private key",
        ),
    ],
)
def test_a_key_file_that_cannot_sign_exits_2(
    run: Run, tmp_path: Path, es256_key: Path, make: Callable[[Path, Path], Path], message: str
) -> None:
    path = make(tmp_path, es256_key)
    err = _refused(run, "--key", str(path), "--iss", ISS, "--sub", "a", "--aud", AUD)
    assert message in err
    assert '"d"' not in err, "never quotes the key"


def test_an_rsa_key_needs_alg(run: Run, tmp_path: Path) -> None:
    private, _, _ = _keygen(run, tmp_path, "RS256", "--bits", "2048")
    err = _refused(run, "--key", str(private), "--iss", ISS, "--sub", "a", "--aud", AUD)
    assert "--alg: this key signs with RS256, RS384, RS512, PS256, PS384, PS512; say which" in err


def test_an_hmac_secret_shorter_than_the_hash_is_refused(run: Run, tmp_path: Path) -> None:
    secret_file, _, _ = _keygen(run, tmp_path, "HS256")
    err = _refused(
        run, "--key", str(secret_file), "--alg", "HS512",
        "--iss", ISS, "--sub", "a", "--aud", AUD,
    )  # fmt: skip
    assert "is shorter than HS512 requires" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--iss", ISS, "--sub", "a", "--aud", AUD), "one of the arguments --store --key"),
        (("--key", "k.pem", "--sub", "a", "--aud", AUD), "--iss"),
        (("--key", "k.pem", "--iss", ISS, "--aud", AUD), "--sub"),
        (("--key", "k.pem", "--iss", ISS, "--sub", "a"), "--aud"),
    ],
)
def test_missing_options_are_usage_errors(run: Run, argv: tuple[str, ...], message: str) -> None:
    err = _refused(run, *argv)
    assert message in err


def test_empty_issuer_is_refused_naming_the_option(run: Run, es256_key: Path) -> None:
    code, _, err = run("token", "--key", str(es256_key), "--iss", "", "--sub", "a", "--aud", AUD)
    assert code == 2
    assert "--iss: must be a non-empty string" in err


def test_the_token_alone_lands_in_a_shell_variable(run: Run, es256_key: Path) -> None:
    """``TOKEN=$(jwt-guard token ...)`` in a real shell: stdout is exactly the token."""
    command = shlex.join(
        [sys.executable, "-m", "jwt_guard_core.cli", "token", "--key", str(es256_key),
         "--iss", ISS, "--sub", "alice", "--aud", AUD]
    )  # fmt: skip
    result = subprocess.run(
        ["/bin/sh", "-c", f'TOKEN=$({command}) && printf "[%s]" "$TOKEN"'],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr
    token = result.stdout.removeprefix("[").removesuffix("]")
    assert token.count(".") == 2
    assert jwt.decode(token, options={"verify_signature": False})["sub"] == "alice"
    assert "DEVELOPMENT token" in result.stderr
