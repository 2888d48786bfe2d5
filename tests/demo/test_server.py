"""Starting and stopping the demo: loopback only, the printed facts, Ctrl-C, a missing Flask."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest

from jwt_guard_core import ConfigurationError
from jwt_guard_demo import check_host, main, serve

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_loopback_hosts_are_accepted(host: str) -> None:
    assert check_host(host) == host


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "example.com", ""])
def test_other_hosts_are_refused(host: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        check_host(host)
    assert caught.value.setting == "--host"
    assert "loopback" in str(caught.value)


def test_serve_refuses_a_public_host_before_touching_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    assert serve("0.0.0.0", 0, str(data)) == 2
    assert "not a loopback address" in capsys.readouterr().err
    assert not data.exists()


def test_serve_says_so_when_the_port_is_taken(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert serve("127.0.0.1", port, str(tmp_path / "data"), out=io.StringIO()) == 2
    assert "cannot listen on http://127.0.0.1:" in capsys.readouterr().err


def test_an_impossible_port_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--port", "70000"])
    assert caught.value.code == 2
    assert "--port 70000 is not a TCP port" in capsys.readouterr().err


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}


def _banner(process: subprocess.Popen[str]) -> dict[str, str]:
    """The facts the demo printed, read until "Press Ctrl-C" (the process is killed after 60 s)."""
    assert process.stdout is not None
    facts: dict[str, str] = {}
    watchdog = threading.Timer(60, process.kill)
    watchdog.start()
    try:
        for line in process.stdout:
            if line.startswith("Press Ctrl-C"):
                return facts
            name, _, value = line.strip().partition(" ")
            facts[name] = value.strip()
    finally:
        watchdog.cancel()
    raise AssertionError(f"the demo ended early: {process.stderr.read() if process.stderr else ''}")


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(["-m", "jwt_guard_demo"], id="python -m jwt_guard_demo"),
        # What the README's main command runs: jwt-guard demo --serve.
        pytest.param(["-m", "jwt_guard_core.cli", "demo", "--serve"], id="jwt-guard demo --serve"),
    ],
)
def test_the_demo_runs_prints_where_to_go_and_stops_on_ctrl_c(
    tmp_path: Path, command: list[str]
) -> None:
    password = ""
    process = subprocess.Popen(
        [sys.executable, *command, "--port", "0"],
        cwd=tmp_path,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        facts = _banner(process)
        url = facts["open"].split()[0]
        assert url.startswith("http://127.0.0.1:")
        assert facts["user"] == "demo"
        password = facts["password"].split()[0]
        # The default data folder, in the current folder, private.
        data = tmp_path / "jwt-guard-demo-data"
        assert facts["data"].split()[0] == str(data)
        assert stat.S_IMODE(data.stat().st_mode) == 0o700

        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        login = urllib.request.Request(
            url + "auth/token",
            data=json.dumps({"username": "demo", "password": password}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with opener.open(login, timeout=10) as response:
            assert response.status == 200
            assert any("access_token=" in c for c in response.headers.get_all("Set-Cookie"))
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "jwt-guard demo: stopped." in out
    assert "Traceback" not in err
    # The terminal shows the server's security events, as an operator's log would.
    assert "security event INFO: login_succeeded" in err
    assert password not in err


def test_without_flask_the_import_error_says_what_to_install() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import sys; sys.modules['flask'] = None; import jwt_guard_demo"],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert "ImportError: the jwt-guard demo runs on Flask: pip install 'jwt-guard[flask]'" in (
        done.stderr
    )


def test_cli_demo_serve_refuses_a_public_host(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "jwt_guard_core.cli", "demo", "--serve", "--host", "0.0.0.0"],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "is not a loopback address" in done.stderr
    assert not (tmp_path / "jwt-guard-demo-data").exists()
