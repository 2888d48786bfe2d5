"""flask jwt-guard keygen | rotate [--emergency | --scheduled] | keys."""

from __future__ import annotations

import json
import logging
import socket
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask

from jwt_guard_core import GuardConfig, UnknownKid, Verifier
from jwt_guard_core.signing import FileKeyStore
from jwt_guard_flask.issuing import get_key_manager, get_token_issuer
from tests.factories import NOW, FakeClock

from .issuing_fixtures import AUDIENCE, ISSUER_URL, PASSPHRASE, IssuingApp, issuing_app, key_dir

__all__ = ["issuing_app", "key_dir"]


def run(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=["jwt-guard", *args])


def ok(app: Flask, *args: str) -> str:
    result = run(app, *args)
    assert result.exit_code == 0, result.output
    return result.output


def _stored(key_dir: Path) -> dict[str, str]:
    return {k.kid: k.state for k in FileKeyStore(key_dir, passphrase=PASSPHRASE).load().keys}


def test_init_app_registers_the_command_group(issuing_app: IssuingApp) -> None:
    assert "jwt-guard" in issuing_app().cli.commands
    assert "keygen" in ok(issuing_app(), "--help")


def test_keygen_creates_the_first_key(issuing_app: IssuingApp, key_dir: Path) -> None:
    output = ok(issuing_app(), "keygen")
    ((kid, state),) = _stored(key_dir).items()
    assert state == "active"
    assert output.strip() == f"created signing key {kid} (ES256)"


def test_keygen_on_a_store_with_keys_changes_nothing(
    issuing_app: IssuingApp, key_dir: Path
) -> None:
    ok(issuing_app(), "keygen")
    before = _stored(key_dir)
    output = ok(issuing_app(), "keygen")
    assert _stored(key_dir) == before
    assert "already holds 1 key(s)" in output


def test_rotate_keeps_the_old_key_published(issuing_app: IssuingApp, key_dir: Path) -> None:
    app = issuing_app()
    ok(app, "keygen")
    (old,) = _stored(key_dir)
    output = ok(app, "rotate")
    new = get_key_manager(app).active_key().kid
    assert _stored(key_dir) == {old: "retired", new: "active"}
    assert [k["kid"] for k in get_key_manager(app).jwks()["keys"]] == [new, old]
    assert output.startswith(f"rotated: {new} (ES256) signs from now on; {old} is retired")


def test_emergency_rotation_drops_every_old_key_and_old_tokens_fail(
    issuing_app: IssuingApp, key_dir: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    app = issuing_app()
    token = get_token_issuer(app).issue_access_token("user-1")
    ok(app, "rotate")
    clock.advance(5)
    with caplog.at_level(logging.CRITICAL, logger="jwt_guard.security"):
        output = ok(app, "rotate", "--emergency", "--reason", "key leaked")
    ((kid, state),) = _stored(key_dir).items()
    assert state == "active"
    assert output.startswith(f"emergency rotation: {kid} (ES256) is the only key")
    assert get_key_manager(app).emergency_epoch == int(NOW + 5)
    assert [r.levelno for r in caplog.records if r.name == "jwt_guard.security"] == [
        logging.CRITICAL
    ]
    config = GuardConfig(
        keys=get_key_manager(app),
        algorithms=["ES256"],
        issuer=ISSUER_URL,
        audience=AUDIENCE,
        clock=clock,
    )
    with pytest.raises(UnknownKid):
        Verifier(config).verify(token)


def test_scheduled_rotation_runs_only_what_is_due(
    issuing_app: IssuingApp, clock: FakeClock
) -> None:
    app = issuing_app(AUTO_ROTATE=False, ROTATION_INTERVAL=3600, JWKS_MAX_AGE=60)
    ok(app, "keygen")
    first = get_key_manager(app).active_key().kid
    assert ok(app, "rotate", "--scheduled").strip() == "nothing due"
    clock.advance(3600 - 120)
    successor = ok(app, "rotate", "--scheduled").strip().removeprefix("published ")
    assert _stored_states(app) == {first: "active", successor: "next"}
    clock.advance(120)
    assert ok(app, "rotate", "--scheduled").splitlines() == [
        f"activated {successor}",
        f"retired {first}",
    ]


def _stored_states(app: Flask) -> dict[str, str]:
    return {k.kid: k.state for k in get_key_manager(app).list_keys()}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["rotate", "--emergency", "--scheduled"], "cannot be combined"),
        (["rotate", "--reason", "why"], "--reason is only used with --emergency"),
    ],
)
def test_contradicting_options_are_usage_errors(
    issuing_app: IssuingApp, args: list[str], message: str
) -> None:
    result = run(issuing_app(), *args)
    assert result.exit_code == 2
    assert message in result.output


def test_keys_lists_kids_and_states(issuing_app: IssuingApp, clock: FakeClock) -> None:
    app = issuing_app()
    ok(app, "keygen")
    clock.advance(60)
    ok(app, "rotate")
    lines = ok(app, "keys").splitlines()
    assert lines[0].split() == ["KID", "ALG", "STATE", "CREATED", "ACTIVATED", "RETIRED"]
    assert {line.split()[0]: line.split()[2] for line in lines[1:]} == _stored_states(app)


def test_keys_json_has_the_facts_and_the_emergency_epoch(issuing_app: IssuingApp) -> None:
    app = issuing_app()
    ok(app, "rotate", "--emergency")
    document = json.loads(ok(app, "keys", "--json"))
    (key,) = document["keys"]
    assert set(key) == {"kid", "algorithm", "state", "created_at", "activated_at", "retired_at"}
    assert key["state"] == "active"
    assert document["emergency_epoch"] == int(NOW)
    assert ok(app, "keys").splitlines()[-1].startswith("last emergency rotation: ")


def test_keys_on_an_empty_store_says_so(issuing_app: IssuingApp) -> None:
    assert "no keys yet" in ok(issuing_app(), "keys")


@pytest.mark.parametrize("args", [["keygen"], ["rotate"], ["keys"]])
def test_a_bad_setting_is_an_error_naming_the_key(issuing_app: IssuingApp, args: list[str]) -> None:
    # Without the blueprint, whose registration would refuse the setting first.
    result = run(issuing_app(GRACE_PERIOD="1h", blueprint=False), *args)
    assert result.exit_code == 1
    assert "configuration error: JWT_GUARD_ISSUING_GRACE_PERIOD" in result.output
    assert "Traceback" not in result.output


def test_an_unreachable_redis_store_is_a_one_line_error(issuing_app: IssuingApp) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = run(issuing_app(KEY_DIR=None, REDIS_URL=f"redis://127.0.0.1:{port}/0"), "keys")
    assert result.exit_code == 1
    assert result.output.startswith("Error: key store error: ")
