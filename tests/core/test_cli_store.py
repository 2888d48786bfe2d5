"""jwt-guard rotate | jwks | keys --store DIR: the file key store from the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from jwt_guard_core import GuardConfig, StaticKeySet, UnknownKid, Verifier
from jwt_guard_core.signing import FileKeyStore, KeyManager, TokenIssuer
from tests.core.cli_support import PASSPHRASE, Run
from tests.factories import NOW, FakeClock

pytest_plugins = ["tests.core.cli_fixtures"]

ISSUER = "https://auth.example"
AUDIENCE = "https://api.example"


def _app(store_dir: Path, clock: FakeClock, **options: Any) -> KeyManager:
    """The application's own manager over the same directory."""
    return KeyManager(FileKeyStore(store_dir, passphrase=PASSPHRASE), clock=clock, **options)


def _states(store_dir: Path) -> dict[str, str]:
    return {k.kid: k.state for k in FileKeyStore(store_dir, passphrase=PASSPHRASE).load().keys}


def test_rotate_on_an_empty_store_creates_the_first_key(run: Run, store_dir: Path) -> None:
    code, out, err = run("rotate", "--store", str(store_dir))
    assert code == 0, err
    ((kid, state),) = _states(store_dir).items()
    assert state == "active"
    assert out.strip() == f"rotated: {kid} (ES256) signs from now on"


def test_rotate_retires_the_application_key_and_keeps_its_algorithm(
    run: Run, store_dir: Path, clock: FakeClock
) -> None:
    old = _app(store_dir, clock, algorithm="EdDSA").active_key().kid
    code, out, err = run("rotate", "--store", str(store_dir))
    assert code == 0, err
    new = next(kid for kid, state in _states(store_dir).items() if state == "active")
    assert _states(store_dir) == {old: "retired", new: "active"}
    assert out.strip() == (
        f"rotated: {new} (EdDSA) signs from now on; {old} is retired and stays published "
        "for its tokens"
    )


def test_a_token_signed_before_rotation_still_verifies_and_after_emergency_fails(
    run: Run, store_dir: Path, clock: FakeClock
) -> None:
    app = _app(store_dir, clock)
    token = TokenIssuer(app, issuer=ISSUER, audience=AUDIENCE).issue_access_token("user-1")

    def verify_with_printed_jwks() -> str:
        code, out, err = run("jwks", "--store", str(store_dir))
        assert code == 0, err
        config = GuardConfig(
            keys=StaticKeySet.from_jwks(json.loads(out)),
            algorithms=["ES256"],
            issuer=ISSUER,
            audience=AUDIENCE,
            clock=clock,
        )
        return Verifier(config).verify(token).subject

    assert verify_with_printed_jwks() == "user-1"
    assert run("rotate", "--store", str(store_dir))[0] == 0
    assert verify_with_printed_jwks() == "user-1"
    clock.advance(1)
    code, out, _ = run("rotate", "--store", str(store_dir), "--emergency", "--reason", "leak")
    assert code == 0
    assert out.startswith("emergency rotation: ")
    assert len(_states(store_dir)) == 1
    assert _app(store_dir, clock).emergency_epoch == int(NOW + 1)
    with pytest.raises(UnknownKid):
        verify_with_printed_jwks()


def test_rotate_honours_the_application_retention(
    run: Run, store_dir: Path, clock: FakeClock
) -> None:
    # The app keeps retired keys for 6 h + 1 h; the tool's default is 1 h + 1 h.
    old = _app(store_dir, clock, max_token_lifetime=6 * 3600).active_key().kid
    _app(store_dir, clock, max_token_lifetime=6 * 3600).rotate()
    clock.advance(3 * 3600)
    assert run("rotate", "--store", str(store_dir))[0] == 0
    assert _states(store_dir)[old] == "retired"


def test_jwks_prints_only_public_members(run: Run, store_dir: Path, clock: FakeClock) -> None:
    kid = _app(store_dir, clock, algorithm="RS256").active_key().kid
    code, out, _ = run("jwks", "--store", str(store_dir))
    assert code == 0
    (jwk,) = json.loads(out)["keys"]
    assert jwk["kid"] == kid
    assert set(jwk) == {"kid", "kty", "alg", "use", "n", "e"}


def test_jwks_of_an_empty_store_is_refused_without_creating_a_key(
    run: Run, store_dir: Path
) -> None:
    code, out, err = run("jwks", "--store", str(store_dir))
    assert code == 1
    assert out == ""
    assert "holds no keys yet" in err
    assert _states(store_dir) == {}


def test_keys_lists_kids_and_states(run: Run, store_dir: Path, clock: FakeClock) -> None:
    app = _app(store_dir, clock)
    old = app.active_key().kid
    clock.advance(60)
    new = app.rotate().kid
    code, out, _ = run("keys", "--store", str(store_dir))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["KID", "ALG", "STATE", "CREATED", "ACTIVATED", "RETIRED"]
    assert {line.split()[0]: line.split()[2] for line in lines[1:]} == {
        old: "retired",
        new: "active",
    }


def test_keys_json_reports_the_emergency_epoch(run: Run, store_dir: Path, clock: FakeClock) -> None:
    _app(store_dir, clock).emergency_rotate(reason="test")
    code, out, _ = run("keys", "--store", str(store_dir), "--json")
    assert code == 0
    document = json.loads(out)
    assert document["emergency_epoch"] == int(NOW)
    assert [k["state"] for k in document["keys"]] == ["active"]


def test_keys_of_an_empty_store_says_so(run: Run, store_dir: Path) -> None:
    code, out, _ = run("keys", "--store", str(store_dir))
    assert code == 0
    assert "no keys yet" in out


@pytest.mark.parametrize("command", ["rotate", "jwks", "keys"])
def test_a_missing_directory_is_a_configuration_error_not_a_new_store(
    run: Run, tmp_path: Path, command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JWT_GUARD_KEY_PASSPHRASE", PASSPHRASE)
    code, _, err = run(command, "--store", str(tmp_path / "typo"))
    assert code == 2
    assert "--store" in err
    assert not (tmp_path / "typo").exists()


@pytest.mark.parametrize("command", ["rotate", "jwks", "keys"])
def test_a_missing_passphrase_is_a_configuration_error(
    run: Run, store_dir: Path, command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JWT_GUARD_KEY_PASSPHRASE")
    code, _, err = run(command, "--store", str(store_dir))
    assert code == 2
    assert "JWT_GUARD_KEY_PASSPHRASE" in err


def test_a_wrong_passphrase_is_refused_and_never_printed(
    run: Run, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTHER_PASSPHRASE", "the wrong passphrase 0123456789")
    code, out, err = run("keys", "--store", str(store_dir), "--passphrase-env", "OTHER_PASSPHRASE")
    assert code == 2
    assert "the wrong passphrase" not in out + err
    assert PASSPHRASE not in out + err


def test_a_world_readable_store_is_refused(run: Run, store_dir: Path) -> None:
    store_dir.chmod(0o755)
    code, _, err = run("rotate", "--store", str(store_dir))
    assert code == 2
    assert "chmod" in err


def test_an_hmac_store_needs_allow_hmac(run: Run, store_dir: Path, clock: FakeClock) -> None:
    _app(store_dir, clock, algorithm="HS256", allow_hmac=True).active_key()
    code, _, err = run("rotate", "--store", str(store_dir))
    assert code == 2
    assert "allow_hmac" in err
    code, out, _ = run("rotate", "--store", str(store_dir), "--allow-hmac")
    assert code == 0
    assert "(HS256)" in out


def test_reason_without_emergency_is_a_usage_error(run: Run, store_dir: Path) -> None:
    code, _, err = run("rotate", "--store", str(store_dir), "--reason", "why")
    assert code == 2
    assert "--reason" in err


def test_store_is_required(run: Run) -> None:
    code, _, err = run("keys")
    assert code == 2
    assert "--store" in err


def test_the_module_entry_point_rotates(store_dir: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "jwt_guard_core.cli", "rotate", "--store", str(store_dir)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("rotated: ")
