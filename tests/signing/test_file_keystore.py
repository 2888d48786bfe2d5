"""FileKeyStore: encrypted at rest, 0600 files, refuses loose permissions and wrong passphrases."""

from __future__ import annotations

import json
import os
import stat
import threading
from pathlib import Path

import pytest

from jwt_guard_core import ConfigurationError
from jwt_guard_core.signing import FileKeyStore, KeyManager, KeyRing, KeyStore, KeyStoreError
from tests.factories import named
from tests.signing.conftest import PASSPHRASE, assert_no_secret, verifier_from_jwks


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path, follow_symlinks=False).st_mode)


def _materials(store: FileKeyStore) -> list[object]:
    return [k.material.reveal() for k in store.load().keys]


def test_file_store_is_a_key_store(file_store):
    assert isinstance(file_store, KeyStore)


def test_new_directory_is_created_0700_and_every_file_0600(key_dir, manager):
    manager.active_key()
    manager.rotate()
    assert _mode(key_dir) == 0o700
    names = sorted(p.name for p in key_dir.iterdir())
    assert "keyring.json" in names
    assert "keystore.json" in names
    assert sum(name.endswith(".key") for name in names) == 2
    for path in key_dir.iterdir():
        assert _mode(path) == 0o600, path.name


def test_files_are_0600_even_with_a_permissive_umask(key_dir, clock):
    old = os.umask(0)
    try:
        store = FileKeyStore(key_dir, passphrase=PASSPHRASE)
        KeyManager(store, clock=clock).active_key()
    finally:
        os.umask(old)
    assert _mode(key_dir) == 0o700
    assert all(_mode(p) == 0o600 for p in key_dir.iterdir())


@pytest.mark.parametrize("alg", ["ES256", "RS256", "EdDSA"])
def test_key_files_hold_no_readable_private_key(key_dir, make_manager, file_store, alg):
    manager = make_manager(algorithm=alg)
    manager.active_key()
    manager.rotate()
    secrets_on_disk = _materials(file_store)
    assert len(secrets_on_disk) == 2
    for path in key_dir.iterdir():
        data = path.read_bytes()
        assert b"BEGIN" not in data
        assert_no_secret(data, secrets_on_disk)


def test_hmac_secret_is_encrypted_at_rest(key_dir, make_manager, file_store):
    make_manager(algorithm="HS256", allow_hmac=True).active_key()
    secrets_on_disk = _materials(file_store)
    assert len(secrets_on_disk[0]) == 32
    for path in key_dir.iterdir():
        assert_no_secret(path.read_bytes(), secrets_on_disk)


def test_keys_survive_a_restart_with_the_same_passphrase(key_dir, manager, issuer, clock):
    token = issuer.issue_access_token("user-1")
    kid = manager.active_key().kid

    reopened = KeyManager(FileKeyStore(key_dir, passphrase=PASSPHRASE), clock=clock)
    assert reopened.active_key().kid == kid
    assert reopened.jwks() == manager.jwks()
    assert verifier_from_jwks(reopened, clock).verify(token).kid == kid


def test_wrong_passphrase_is_refused_at_start_up_with_a_clear_error(key_dir, manager):
    manager.active_key()
    with pytest.raises(ConfigurationError) as info:
        FileKeyStore(key_dir, passphrase="not the right passphrase at all")
    message = str(info.value)
    assert info.value.setting == "passphrase"
    assert "wrong passphrase" in message
    assert str(key_dir) in message
    assert "not the right passphrase" not in message
    assert PASSPHRASE not in message


def test_passphrase_is_read_from_the_environment(key_dir, monkeypatch, clock):
    monkeypatch.setenv("JWT_GUARD_KEY_PASSPHRASE", PASSPHRASE)
    kid = KeyManager(FileKeyStore(key_dir), clock=clock).active_key().kid
    reopened = FileKeyStore(key_dir, passphrase=PASSPHRASE)
    assert reopened.load().active.kid == kid


def test_passphrase_environment_variable_name_is_configurable(key_dir, monkeypatch):
    monkeypatch.setenv("MY_SIGNING_PASSPHRASE", PASSPHRASE)
    FileKeyStore(key_dir, passphrase_env="MY_SIGNING_PASSPHRASE")
    assert FileKeyStore(key_dir, passphrase=PASSPHRASE).revision() == 0


def test_missing_passphrase_names_the_environment_variable(key_dir, monkeypatch):
    monkeypatch.delenv("JWT_GUARD_KEY_PASSPHRASE", raising=False)
    with pytest.raises(ConfigurationError) as info:
        FileKeyStore(key_dir)
    assert info.value.setting == "passphrase"
    assert "JWT_GUARD_KEY_PASSPHRASE" in str(info.value)
    assert not key_dir.exists()


@pytest.mark.parametrize("passphrase", ["", "short", "fifteen-chars!!"])
def test_short_passphrase_is_refused(key_dir, passphrase):
    with pytest.raises(ConfigurationError) as info:
        FileKeyStore(key_dir, passphrase=passphrase)
    assert info.value.setting == "passphrase"
    assert "at least 16" in str(info.value)


@pytest.mark.parametrize("mode", [0o750, 0o740, 0o705, 0o755, 0o770, 0o777, 0o701], ids=oct)
def test_directory_accessible_to_group_or_others_is_refused(key_dir, mode):
    key_dir.mkdir()
    os.chmod(key_dir, mode)
    with pytest.raises(ConfigurationError) as info:
        FileKeyStore(key_dir, passphrase=PASSPHRASE)
    message = str(info.value)
    assert info.value.setting == "key_store"
    assert str(key_dir) in message
    assert f"{mode:04o}" in message
    assert "chmod 700" in message


def test_existing_private_directory_is_accepted(key_dir):
    key_dir.mkdir(mode=0o700)
    os.chmod(key_dir, 0o700)
    assert FileKeyStore(key_dir, passphrase=PASSPHRASE).revision() == 0


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660], ids=oct)
def test_key_file_readable_by_others_is_refused(key_dir, manager, mode):
    manager.active_key()
    key_file = next(key_dir.glob("*.key"))
    os.chmod(key_file, mode)
    with pytest.raises(ConfigurationError) as info:
        FileKeyStore(key_dir, passphrase=PASSPHRASE)
    assert str(key_file) in str(info.value)
    assert f"{mode:04o}" in str(info.value)


def test_loosened_key_file_is_refused_when_the_running_store_reads_it(
    key_dir, file_store, make_manager
):
    make_manager().active_key()
    os.chmod(next(key_dir.glob("*.key")), 0o644)
    with pytest.raises(ConfigurationError) as info:
        make_manager().jwks()
    assert "0644" in str(info.value)


def test_symbolic_link_in_the_key_directory_is_refused(key_dir, manager, tmp_path):
    manager.active_key()
    target = tmp_path / "elsewhere"
    target.write_bytes(b"x")
    os.chmod(target, 0o600)
    (key_dir / "planted.key").symlink_to(target)
    with pytest.raises(ConfigurationError, match="symbolic link"):
        FileKeyStore(key_dir, passphrase=PASSPHRASE)


def test_path_that_is_a_file_is_refused(tmp_path):
    path = tmp_path / "not-a-dir"
    path.write_text("x")
    with pytest.raises(ConfigurationError, match="not a directory"):
        FileKeyStore(path, passphrase=PASSPHRASE)


def test_tampered_key_file_is_a_key_store_error(key_dir, manager, make_manager):
    manager.active_key()
    key_file = next(key_dir.glob("*.key"))
    data = bytearray(key_file.read_bytes())
    data[-1] ^= 0x01
    key_file.write_bytes(bytes(data))
    with pytest.raises(KeyStoreError, match="does not decrypt"):
        make_manager(store=FileKeyStore(key_dir, passphrase=PASSPHRASE)).jwks()


def test_key_files_swapped_between_kids_do_not_decrypt(key_dir, manager, make_manager):
    manager.active_key()
    manager.rotate()
    first, second = sorted(key_dir.glob("*.key"))
    a, b = first.read_bytes(), second.read_bytes()
    first.write_bytes(b)
    second.write_bytes(a)
    with pytest.raises(KeyStoreError, match="does not decrypt"):
        make_manager(store=FileKeyStore(key_dir, passphrase=PASSPHRASE)).jwks()


def test_missing_key_file_is_a_key_store_error(key_dir, manager, make_manager):
    manager.active_key()
    next(key_dir.glob("*.key")).unlink()
    with pytest.raises(KeyStoreError, match="missing"):
        make_manager(store=FileKeyStore(key_dir, passphrase=PASSPHRASE)).jwks()


def test_corrupt_key_ring_is_a_key_store_error(key_dir, manager, file_store):
    manager.active_key()
    (key_dir / "keyring.json").write_text("{not json")
    with pytest.raises(KeyStoreError, match="not valid JSON"):
        file_store.load()


@pytest.mark.parametrize("kid", ["../../etc/passwd", "a/b/c/d/e/f", "short", ""])
def test_kid_that_is_not_a_safe_file_name_is_refused(key_dir, manager, file_store, kid):
    manager.active_key()
    path = key_dir / "keyring.json"
    doc = json.loads(path.read_text())
    doc["keys"][0]["kid"] = kid
    path.write_text(json.dumps(doc))
    with pytest.raises(KeyStoreError, match="safe identifier"):
        file_store.load()


def test_save_with_a_stale_revision_is_refused(file_store, manager):
    manager.active_key()
    stale = file_store.load()
    manager.active_key()
    manager.rotate()
    with pytest.raises(KeyStoreError, match="changed while it was being updated"):
        file_store.save(stale, expected_revision=stale.revision)


def test_save_refuses_a_ring_with_two_active_keys(file_store, manager):
    manager.active_key()
    manager.rotate()
    ring = file_store.load()
    active = ring.active
    doubled = KeyRing(keys=(active, active), revision=ring.revision)
    with pytest.raises(KeyStoreError, match="same kid twice"):
        file_store.save(doubled, expected_revision=ring.revision)


def test_lock_is_exclusive_between_store_objects_on_one_directory(key_dir, file_store):
    other = FileKeyStore(key_dir, passphrase=PASSPHRASE)
    with file_store.lock() as held:
        assert held is True
        with other.lock(blocking=False) as second:
            assert second is False
    with other.lock(blocking=False) as second:
        assert second is True


def test_lock_is_not_reentrant_within_a_thread(file_store):
    with file_store.lock(), pytest.raises(KeyStoreError, match="not reentrant"):  # noqa: SIM117
        with file_store.lock():
            pass


def test_two_managers_on_one_directory_rotate_once_when_due(
    key_dir, make_manager, clock, recorded_events
):
    first = make_manager(store=FileKeyStore(key_dir, passphrase=PASSPHRASE))
    second = make_manager(store=FileKeyStore(key_dir, passphrase=PASSPHRASE))
    old = first.active_key().kid
    clock.advance(first.rotation_interval)
    barrier = threading.Barrier(2)
    outcomes = []

    def run(manager: KeyManager) -> None:
        barrier.wait()
        outcomes.append(manager.maybe_rotate())

    threads = [threading.Thread(target=run, args=(m,)) for m in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Due and published for 0 s: one instance publishes; neither may activate
    # yet (the successor must be in caches for jwks_max_age first).
    assert sum(bool(o) for o in outcomes) == 1
    assert len(named(recorded_events, "key_published")) == 1
    clock.advance(first.jwks_max_age)
    outcomes.clear()
    threads = [threading.Thread(target=run, args=(m,)) for m in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(bool(o) for o in outcomes) == 1
    assert len(named(recorded_events, "key_rotated")) == 1
    assert first.active_key().kid == second.active_key().kid != old
    assert first.jwks() == second.jwks()
