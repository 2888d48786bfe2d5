"""A real SoftHSM2 token for the PKCS#11 tests, initialised in a temporary folder.

SoftHSM reads ``SOFTHSM2_CONF`` once, when the module is first initialised
in a process, and lists only the tokens that existed then: the fixture
writes the configuration and initialises every token the tests use before
any test loads the module. Nothing is read outside the checkout and the
temporary folder except the installed module library.
"""

from __future__ import annotations

import itertools
import os
import secrets
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.tools import missing, require_module

MODULE = "/usr/lib/softhsm/libsofthsm2.so"
TOKEN = "jwt-guard-tests"
#: A token no test logs in to: a wrong PIN is only checked by a token without a login.
NO_LOGIN_TOKEN = "jwt-guard-wrong-pin"
PIN_ENV = "JWT_GUARD_TEST_HSM_PIN"

_prefixes = itertools.count(1)


@dataclass(frozen=True)
class SoftHSM:
    module: str
    conf: Path
    pin: str
    directory: Path

    def env(self) -> dict[str, str]:
        """The environment a child process needs to reach the same tokens."""
        return {**os.environ, "SOFTHSM2_CONF": str(self.conf), PIN_ENV: self.pin}


@pytest.fixture(scope="session")
def softhsm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SoftHSM]:
    require_module("pkcs11", "the hsm extra (python-pkcs11) is not installed")
    util = shutil.which("softhsm2-util")
    if util is None or not os.path.exists(MODULE):
        missing("SoftHSM2 is not installed (apt-get install softhsm2)")
    directory = tmp_path_factory.mktemp("softhsm")
    tokens = directory / "tokens"
    tokens.mkdir(mode=0o700)
    conf = directory / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n"
    )
    pin = secrets.token_hex(8)
    env = {**os.environ, "SOFTHSM2_CONF": str(conf)}
    for label in (TOKEN, NO_LOGIN_TOKEN):
        subprocess.run(
            [util, "--init-token", "--free", "--label", label, "--pin", pin,
             "--so-pin", secrets.token_hex(8)],
            env=env, check=True, capture_output=True, timeout=60,
        )  # fmt: skip
    previous = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    try:
        yield SoftHSM(module=MODULE, conf=conf, pin=pin, directory=directory)
    finally:
        if previous is None:
            os.environ.pop("SOFTHSM2_CONF", None)
        else:
            os.environ["SOFTHSM2_CONF"] = previous


@pytest.fixture
def make_hsm_store(
    softhsm: SoftHSM, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., Any]]:
    """``make_hsm_store(**options)``: a Pkcs11KeyStore on the test token, closed afterwards.

    Each test gets its own ring (prefix) and lock file; stores made by one
    test share both, as instances of one service would.
    """
    from jwt_guard_core.signing.pkcs11_store import Pkcs11KeyStore

    monkeypatch.setenv(PIN_ENV, softhsm.pin)
    prefix = f"test-{os.getpid()}-{next(_prefixes)}"
    opened: list[Pkcs11KeyStore] = []

    def _make(**options: Any) -> Pkcs11KeyStore:
        options.setdefault("token_label", TOKEN)
        if "pin_file" not in options:
            options.setdefault("pin_env", PIN_ENV)
        options.setdefault("prefix", prefix)
        options.setdefault("lock_file", tmp_path / "hsm.lock")
        store = Pkcs11KeyStore(softhsm.module, **options)
        opened.append(store)
        return store

    yield _make
    for store in opened:
        store.close()


@pytest.fixture
def hsm_store(make_hsm_store: Callable[..., Any]) -> Any:
    return make_hsm_store()
