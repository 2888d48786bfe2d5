"""The demo's data folder: created private, refused when others can open it, reused on restart."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

from jwt_guard_core import ConfigurationError
from jwt_guard_demo import DemoServer, DemoUser, prepare_data_dir
from jwt_guard_flask import get_key_manager
from tests.factories import FakeClock

from .demo_fixtures import log_in, open_demo


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_data_folder_and_every_file_in_it_are_private(demo: DemoServer, browser: Any) -> None:
    assert log_in(browser, demo).status_code == 200  # the session store is opened on first use
    root = demo.data.root
    assert mode(root) == 0o700
    assert mode(demo.data.key_dir) == 0o700
    assert mode(root / "key-passphrase") == 0o600
    assert mode(demo.data.sessions_path) == 0o600
    for path in [*root.iterdir(), *demo.data.key_dir.iterdir()]:
        assert mode(path) == (0o700 if path.is_dir() else 0o600), path
    # The banner says where the data lives.
    assert str(root) in demo.banner()


def test_folder_is_created_0700_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        data = prepare_data_dir(tmp_path / "fresh")
    finally:
        os.umask(old)
    assert mode(data.root) == 0o700
    assert mode(data.root / "key-passphrase") == 0o600


def test_folder_others_can_open_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "shared"
    root.mkdir()
    root.chmod(0o755)
    with pytest.raises(ConfigurationError) as caught:
        prepare_data_dir(root)
    assert caught.value.setting == "--data-dir"
    assert "0755" in str(caught.value)
    assert "chmod 700" in str(caught.value)


def test_a_file_is_not_a_data_folder(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(ConfigurationError, match="not a directory"):
        prepare_data_dir(target)


def test_passphrase_file_others_can_read_is_refused(tmp_path: Path) -> None:
    data = prepare_data_dir(tmp_path / "data")
    (data.root / "key-passphrase").chmod(0o644)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        prepare_data_dir(data.root)


def test_passphrase_file_that_is_a_link_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "data"
    root.mkdir(mode=0o700)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_text("a passphrase of more than sixteen characters\n")
    (root / "key-passphrase").symlink_to(elsewhere)
    with pytest.raises(ConfigurationError, match="cannot read"):
        prepare_data_dir(root)


def test_a_restart_reuses_the_keys_and_sessions_of_the_folder(
    tmp_path: Path, demo_clock: FakeClock
) -> None:
    first = open_demo(tmp_path, demo_clock)
    kid = get_key_manager(first.app).active_key().kid
    first.close()
    second = open_demo(tmp_path, demo_clock)
    try:
        assert get_key_manager(second.app).active_key().kid == kid
        # A new password at every start.
        assert second.password != first.password
    finally:
        second.close()


def test_the_demo_user_checks_its_password_and_keeps_only_a_hash() -> None:
    user, password = DemoUser.generate()
    assert user.check("demo", password)
    assert not user.check("demo", password + "x")
    assert not user.check("someone", password)
    assert password not in repr(user)
    assert password.encode() not in user.password_hash
