"""The example projects' READMEs work as written: their marked commands run and answer as shown.

Each README (example_projects/*/README.md) marks three ``sh`` blocks with an
HTML comment before the fence (see :mod:`tests.docs.readme_blocks`):

* ``<!-- example-test: setup -->``: run to completion by bash (``set -eu``)
  in a copy of the project in a temporary directory; the variables it
  exports are the environment of the next two;
* ``<!-- example-test: server -->``: one command, started in the
  background and waited for until ``/healthz`` answers;
* ``<!-- example-test: client -->``: requests, one per (``\\``-continued)
  line, each ending with a comment that starts with the HTTP status it
  answers (``# 200, your claims``). Each is run by bash with real curl and
  its status line checked; only when curl is not installed is the same
  request made from Python (``JWT_GUARD_TEST_WITHOUT_CURL=1`` forces that
  path, to test it).

``jwt-guard`` and ``gunicorn`` run this checkout's code with the test's
interpreter, and port 8000 becomes a free port. The READMEs' requirements
files install the example without the test tools.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.e2e.servers import ROOT, _wait_until_serving, free_port

from .readme_blocks import Block, blocks

EXAMPLES = ("django_api", "flask_api")
README_PORT = "8000"
TEST_TOOLS = {"pytest", "ruff", "mypy", "hypothesis", "trustme", "pytest-django", "test"}
_STATUS = re.compile(r"\s#\s*(?P<status>\d{3})\b[^\n]*$")


def _marked(readme: Path) -> dict[str, Block]:
    found: dict[str, Block] = {}
    for block in blocks(readme):
        if block.marker and block.marker.startswith("example-test:"):
            role = block.marker.split(":", 1)[1].strip()
            assert role not in found, f"{readme}: two '{role}' blocks"
            assert block.language == "sh", f"{block.where}: a marked block is sh"
            found[role] = block
    assert set(found) == {"setup", "server", "client"}, f"{readme}: marked blocks {set(found)}"
    return found


def _logical_lines(code: str) -> list[str]:
    """The commands of a block: continued lines joined, blank lines and comments dropped."""
    commands: list[str] = []
    current = ""
    for line in code.splitlines():
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        current += line
        if current.strip() and not current.lstrip().startswith("#"):
            commands.append(current.strip())
        current = ""
    return commands


def _shims(directory: Path) -> Path:
    """``jwt-guard`` and ``gunicorn`` that run this checkout with this interpreter."""
    directory.mkdir()
    for name, module in (("jwt-guard", "jwt_guard_core.cli"), ("gunicorn", "gunicorn")):
        shim = directory / name
        shim.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m {module} "$@"\n')
        shim.chmod(0o755)
    return directory


def _python_request(command: str, env: dict[str, str]) -> int:
    """The status of ``curl ...`` made with httpx (only when curl is not installed)."""
    # $NAME is expanded from the block's environment, as bash would.
    words = [
        re.sub(r"\$(\w+)", lambda m: env.get(m.group(1), ""), word) for word in shlex.split(command)
    ]
    assert words[0] == "curl", command
    method, headers, body, url = "GET", {}, None, None
    args = iter(words[1:])
    for word in args:
        if word == "-X":
            method = next(args)
        elif word == "-H":
            name, _, value = next(args).partition(":")
            headers[name.strip()] = value.strip()
        elif word == "-d":
            body = next(args)
            method = "POST" if method == "GET" else method
        elif not word.startswith("-"):
            url = word
    assert url is not None, command
    return httpx.request(method, url, headers=headers, content=body, timeout=10).status_code


@pytest.fixture(params=EXAMPLES)
def example(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, Path]:
    """``(name, copy)``: a copy of the example project, as a user's checkout would be."""
    copy = tmp_path / request.param
    shutil.copytree(
        ROOT / "example_projects" / request.param,
        copy,
        ignore=shutil.ignore_patterns("__pycache__", "keys"),
    )
    return request.param, copy


def test_the_readme_commands_serve_the_api_and_answer_as_shown(
    example: tuple[str, Path], tmp_path: Path
) -> None:
    name, project = example
    marked = _marked(project / "README.md")
    port = str(free_port())

    def on_our_port(code: str) -> str:
        return code.replace(f"127.0.0.1:{README_PORT}", f"127.0.0.1:{port}")

    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("JWT_GUARD", "DJANGO"))}
    env = {
        **inherited,
        "PATH": f"{_shims(tmp_path / 'bin')}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(ROOT),
    }

    # setup: its exports become the environment of the server and the requests.
    env_file = tmp_path / "env"
    script = (
        f"set -eu\n{on_our_port(marked['setup'].code)}\nenv -0 > {shlex.quote(str(env_file))}\n"
    )
    setup = subprocess.run(
        ["bash", "-c", script], cwd=project, env=env, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    assert setup.returncode == 0, setup.stdout + setup.stderr
    env = dict(item.split("=", 1) for item in env_file.read_text().split("\0") if "=" in item)
    assert env.get("TOKEN", "").count(".") == 2, "the setup block exports a token"

    (server_command,) = _logical_lines(on_our_port(marked["server"].code))
    log_path = tmp_path / "server.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            ["bash", "-c", f"exec {server_command}"], cwd=project, env=env, stdout=log, stderr=log
        )
    try:
        _wait_until_serving(server, f"http://127.0.0.1:{port}", log_path)
        answered = _run_requests(on_our_port(marked["client"].code), project, env)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()

    for command, expected, status in answered:
        assert status == expected, (
            f"{name}: {command}\nanswered {status}, the README says {expected}"
        )
    # The README shows the point of the example: the minted token opens the
    # protected endpoint, and no token does not.
    me = [(c, e) for c, e, _ in answered if c.rstrip().endswith("/api/me")]
    assert any("$TOKEN" in c and e == 200 for c, e in me)
    assert any("Authorization" not in c and e == 401 for c, e in me)


def _run_requests(code: str, project: Path, env: dict[str, str]) -> list[tuple[str, int, int]]:
    """``(command, status the README shows, status answered)`` of each request line."""
    curl = shutil.which("curl", path=env["PATH"])
    if os.environ.get("JWT_GUARD_TEST_WITHOUT_CURL") == "1":  # to exercise the fallback
        curl = None
    answered = []
    for command in _logical_lines(code):
        shown = _STATUS.search(command)
        assert shown is not None, f"no '# <status>' comment on: {command}"
        command = command[: shown.start()].rstrip()
        if curl is None:
            answered.append((command, int(shown["status"]), _python_request(command, env)))
            continue
        result = subprocess.run(
            ["bash", "-c", command], cwd=project, env=env, capture_output=True, text=True,
            timeout=30, check=False,
        )  # fmt: skip
        assert result.returncode == 0, f"{command}\n{result.stderr}"
        status_line = result.stdout.splitlines()[0]
        match = re.match(r"HTTP/[\d.]+ (\d{3})", status_line)
        assert match is not None, f"{command}: {status_line!r} (the README's curl needs -i)"
        answered.append((command, int(shown["status"]), int(match.group(1))))
    return answered


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_requirements_install_the_example_without_the_test_tools(name: str) -> None:
    project = ROOT / "example_projects" / name
    lines = [
        line.split("#", 1)[0].strip()
        for line in (project / "requirements.txt").read_text(encoding="utf-8").splitlines()
    ]
    requirements = [line for line in lines if line]
    extra = "drf" if name.startswith("django") else "flask"  # the Django example uses DRF
    # The checkout itself, with the adapter's extra only.
    assert f"-e ../..[{extra}]" in requirements
    assert (project / "../../pyproject.toml").resolve() == ROOT / "pyproject.toml"
    names = {re.split(r"[<>=\[ ]", r.removeprefix("-e "), maxsplit=1)[0] for r in requirements}
    assert "gunicorn" in names
    assert not names & TEST_TOOLS
    assert "test" not in requirements[0].split("[", 1)[1]
    assert "requirements.txt" in (project / "README.md").read_text(encoding="utf-8")
