"""Management commands: jwt_guard_keygen, jwt_guard_rotate_keys and jwt_guard_keys."""

from __future__ import annotations

import json
import logging
import socket
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from jwt_guard_core import GuardConfig, UnknownKid, Verifier
from jwt_guard_core.signing import FileKeyStore
from jwt_guard_django.issuing import get_key_manager, get_token_issuer
from tests.factories import NOW, FakeClock

from .issuing_fixtures import AUDIENCE, ISSUER_URL, PASSPHRASE, issuing, key_dir

__all__ = ["issuing", "key_dir"]


def run(name: str, *args: str) -> str:
    out = StringIO()
    call_command(name, *args, stdout=out)
    return out.getvalue()


def _stored(key_dir: Path) -> list[tuple[str, str]]:
    ring = FileKeyStore(key_dir, passphrase=PASSPHRASE).load()
    return [(k.kid, k.state) for k in ring.keys]


def test_keygen_creates_the_first_key(issuing: Any, key_dir: Path) -> None:
    output = run("jwt_guard_keygen")
    ((kid, state),) = _stored(key_dir)
    assert state == "active"
    assert output.strip() == f"created signing key {kid} (ES256)"


def test_keygen_on_a_store_with_keys_changes_nothing(issuing: Any, key_dir: Path) -> None:
    run("jwt_guard_keygen")
    before = _stored(key_dir)
    output = run("jwt_guard_keygen")
    assert _stored(key_dir) == before
    assert "already holds 1 key(s)" in output
    assert before[0][0] in output


def test_rotate_keeps_the_old_key_published(issuing: Any, key_dir: Path) -> None:
    run("jwt_guard_keygen")
    ((old, _),) = _stored(key_dir)
    output = run("jwt_guard_rotate_keys")
    new = get_key_manager().active_key().kid
    assert new != old
    assert dict(_stored(key_dir)) == {old: "retired", new: "active"}
    assert [k["kid"] for k in get_key_manager().jwks()["keys"]] == [new, old]
    assert new in output
    assert old in output


def test_rotate_on_an_empty_store_creates_the_active_key(issuing: Any, key_dir: Path) -> None:
    run("jwt_guard_rotate_keys")
    assert [state for _, state in _stored(key_dir)] == ["active"]


def test_emergency_rotation_drops_every_old_key_and_records_the_epoch(
    issuing: Any, key_dir: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    token = get_token_issuer().issue_access_token("user-1")
    old = get_key_manager().active_key().kid
    run("jwt_guard_rotate_keys")
    clock.advance(10)
    with caplog.at_level(logging.CRITICAL, logger="jwt_guard.security"):
        output = run("jwt_guard_rotate_keys", "--emergency", "--reason", "laptop stolen")
    ((kid, state),) = _stored(key_dir)
    assert state == "active"
    assert kid != old
    assert get_key_manager().emergency_epoch == int(NOW + 10)
    assert "emergency rotation" in output
    assert kid in output
    assert any(r.levelno == logging.CRITICAL for r in caplog.records)
    verifier = Verifier(
        GuardConfig(
            keys=get_key_manager(),
            algorithms=["ES256"],
            issuer=ISSUER_URL,
            audience=AUDIENCE,
            clock=clock,
        )
    )
    with pytest.raises(UnknownKid) as info:
        verifier.verify(token)
    assert info.value.reason == "unknown_kid"


def test_scheduled_rotation_does_nothing_until_due(issuing: Any, clock: FakeClock) -> None:
    issuing(AUTO_ROTATE=False, ROTATION_INTERVAL=3600, JWKS_MAX_AGE=60)
    run("jwt_guard_keygen")
    first = get_key_manager().active_key().kid
    assert run("jwt_guard_rotate_keys", "--scheduled").strip() == "nothing due"
    clock.advance(3600 - 120)
    published = run("jwt_guard_rotate_keys", "--scheduled")
    successor = get_key_manager().jwks()["keys"][1]["kid"]
    assert published.strip() == f"published {successor}"
    clock.advance(120)
    activated = run("jwt_guard_rotate_keys", "--scheduled").splitlines()
    assert activated == [f"activated {successor}", f"retired {first}"]
    assert get_key_manager().active_key().kid == successor


def test_reason_without_emergency_is_a_command_error(issuing: Any) -> None:
    with pytest.raises(CommandError, match="--reason is only used with --emergency"):
        run("jwt_guard_rotate_keys", "--reason", "why not")


def test_emergency_and_scheduled_are_exclusive(issuing: Any) -> None:
    with pytest.raises(CommandError, match="not allowed with argument"):
        run("jwt_guard_rotate_keys", "--emergency", "--scheduled")


def test_keys_lists_kids_and_states_without_key_material(
    issuing: Any, key_dir: Path, clock: FakeClock
) -> None:
    run("jwt_guard_keygen")
    clock.advance(60)
    run("jwt_guard_rotate_keys")
    output = run("jwt_guard_keys")
    lines = output.splitlines()
    assert lines[0].split() == ["KID", "ALG", "STATE", "CREATED", "ACTIVATED", "RETIRED"]
    states = {line.split()[0]: line.split()[2] for line in lines[1:]}
    assert states == dict(_stored(key_dir))
    assert "PRIVATE" not in output
    assert '"d"' not in output


def test_keys_json_has_the_facts_and_the_emergency_epoch(issuing: Any, clock: FakeClock) -> None:
    run("jwt_guard_keygen")
    run("jwt_guard_rotate_keys", "--emergency")
    document = json.loads(run("jwt_guard_keys", "--json"))
    (key,) = document["keys"]
    assert key["state"] == "active"
    assert key["algorithm"] == "ES256"
    assert key["created_at"] == NOW
    assert set(key) == {"kid", "algorithm", "state", "created_at", "activated_at", "retired_at"}
    assert document["emergency_epoch"] == int(NOW)
    assert "last emergency" not in run("jwt_guard_keys", "--json")
    assert "last emergency rotation: " in run("jwt_guard_keys")


def test_keys_on_an_empty_store_says_so(issuing: Any) -> None:
    assert "no keys yet" in run("jwt_guard_keys")


@pytest.mark.parametrize(
    "command", [["jwt_guard_keygen"], ["jwt_guard_rotate_keys"], ["jwt_guard_keys"]]
)
def test_a_bad_setting_is_a_command_error_naming_the_key(issuing: Any, command: list[str]) -> None:
    issuing(ROTATION_INTERVAL=-5)
    with pytest.raises(CommandError) as info:
        run(*command)
    assert "JWT_GUARD['ISSUING']['ROTATION_INTERVAL']" in str(info.value)


def test_a_missing_passphrase_is_a_command_error(
    issuing: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JWT_GUARD_KEY_PASSPHRASE")
    with pytest.raises(CommandError) as info:
        run("jwt_guard_keygen")
    assert "JWT_GUARD['ISSUING']['PASSPHRASE_ENV']" in str(info.value)


def test_an_unreachable_redis_store_is_a_command_error(issuing: Any) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    issuing(KEY_DIR=None, REDIS_URL=f"redis://127.0.0.1:{port}/0")
    with pytest.raises(CommandError, match="key store error"):
        run("jwt_guard_keys")
