"""What ``pip install jwt-guard`` gets: the sdist and the wheel, built as a release would be.

``python -m build`` builds the sdist, then the wheel from that sdist (so a file
the sdist forgets fails here too), in isolated build environments that
install ``[build-system] requires`` exactly as a user's pip would.
"""

from __future__ import annotations

import configparser
import re
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from email.message import Message
from email.parser import HeaderParser
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("jwt_guard_core", "jwt_guard_django", "jwt_guard_flask", "jwt_guard_demo")


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(REPO_ROOT)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return out


@pytest.fixture(scope="module")
def sdist_names(dist: Path) -> set[str]:
    (sdist,) = dist.glob("jwt_guard-*.tar.gz")
    with tarfile.open(sdist) as archive:
        # Without the leading "jwt_guard-0.1.0/".
        return {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}


@pytest.fixture(scope="module")
def wheel(dist: Path) -> Iterator[zipfile.ZipFile]:
    (path,) = dist.glob("jwt_guard-*-py3-none-any.whl")
    with zipfile.ZipFile(path) as archive:
        yield archive


@pytest.fixture(scope="module")
def metadata(wheel: zipfile.ZipFile) -> Message:
    (name,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    return HeaderParser().parsestr(wheel.read(name).decode("utf-8"))


def test_the_sdist_carries_the_licence_docs_tests_and_vectors(sdist_names: set[str]) -> None:
    assert {"LICENSE", "README.md", "CHANGELOG.md", "pyproject.toml", "PKG-INFO"} <= sdist_names
    # The docs site's configuration ships with its pages (mkdocs build works from the sdist).
    assert "mkdocs.yml" in sdist_names
    docs = {f"docs/{path.name}" for path in (REPO_ROOT / "docs").iterdir()}
    assert docs
    assert docs <= sdist_names
    assert {
        "tests/vectors/data/PROVENANCE.md",
        "tests/vectors/data/wycheproof/LICENSE",
        "tests/vectors/data/rfc7520/LICENSE",
        "example_projects/django_api/requirements.txt",
        "example_projects/flask_api/requirements.txt",
    } <= sdist_names
    assert not [name for name in sdist_names if "__pycache__" in name or ".venv" in name]
    # The npm packages interop tests install into the working copy are never shipped.
    assert not [name for name in sdist_names if "node_modules" in name]


def test_the_licence_is_an_spdx_expression_with_its_file(metadata: Message) -> None:
    assert metadata["License-Expression"] == "Apache-2.0"
    assert metadata.get_all("License-File") == ["LICENSE"]
    # The deprecated free-text field and licence classifiers are gone (PEP 639).
    assert metadata["License"] is None
    assert not [c for c in metadata.get_all("Classifier", []) if c.startswith("License ::")]


def test_the_wheel_holds_the_typed_packages_the_demo_page_and_the_licence(
    wheel: zipfile.ZipFile,
) -> None:
    names = wheel.namelist()
    top_level = {name.split("/", 1)[0] for name in names} - {
        name.split("/", 1)[0] for name in names if ".dist-info/" in name
    }
    assert top_level == set(PACKAGES)
    for package in PACKAGES:
        assert f"{package}/py.typed" in names
        assert f"{package}/__init__.py" in names
    # The demo page ships with its package (no build step, nothing fetched).
    for asset in ("index.html", "demo.js", "demo.css"):
        assert f"jwt_guard_demo/static/{asset}" in names
    assert [name for name in names if name.endswith(".dist-info/licenses/LICENSE")]
    licence = next(name for name in names if name.endswith(".dist-info/licenses/LICENSE"))
    assert wheel.read(licence) == (REPO_ROOT / "LICENSE").read_bytes()


def _extra(metadata: Message, extra: str) -> set[str]:
    """The requirement names an extra adds, lower-case, without versions."""
    marker = re.compile(rf"""extra\s*==\s*["']{re.escape(extra)}["']""")
    names = set()
    for requirement in metadata.get_all("Requires-Dist", []):
        if marker.search(requirement):
            names.add(re.split(r"[\s;<>=!~\[(]", requirement, maxsplit=1)[0].lower())
    return names


def test_the_extras_install_what_their_names_say(metadata: Message) -> None:
    extras = {"django", "drf", "flask", "redis", "otel", "hsm", "docs", "all", "bench", "test"}
    assert set(metadata.get_all("Provides-Extra", [])) == extras
    assert _extra(metadata, "django") == {"django"}
    assert _extra(metadata, "drf") == {"jwt-guard", "djangorestframework"}
    assert _extra(metadata, "flask") == {"flask"}
    assert _extra(metadata, "redis") == {"redis"}
    assert _extra(metadata, "otel") == {"opentelemetry-api"}
    assert _extra(metadata, "hsm") == {"python-pkcs11"}
    assert _extra(metadata, "docs") == {"mkdocs"}
    assert _extra(metadata, "all") == {"jwt-guard"}
    assert "build" in _extra(metadata, "test")
    requires = metadata.get_all("Requires-Dist", [])
    assert 'jwt-guard[django]; extra == "drf"' in requires
    assert 'jwt-guard[drf,flask,hsm,otel,redis]; extra == "all"' in requires


def test_the_project_urls_and_the_console_script(metadata: Message, wheel: zipfile.ZipFile) -> None:
    urls = dict(url.split(", ", 1) for url in metadata.get_all("Project-URL", []))
    assert set(urls) == {"Documentation", "Changelog", "Source", "Issues"}
    assert all(url.startswith("https://github.com/jwt-guard/jwt-guard") for url in urls.values())
    (entry_points,) = [n for n in wheel.namelist() if n.endswith(".dist-info/entry_points.txt")]
    text = wheel.read(entry_points).decode()
    assert "jwt-guard = jwt_guard_core.cli:main" in text
    # The test kit's opt-in pytest plugin, under the module's own name.
    assert "[pytest11]" in text
    assert "jwt_guard_core.testing.pytest_plugin = jwt_guard_core.testing.pytest_plugin" in text


def _expand(pattern: str) -> list[str]:
    """tox's brace expansion: ``py3{10,11}-django42`` -> two names."""
    match = re.search(r"\{([^{}]*)\}", pattern)
    if match is None:
        return [pattern]
    head, tail = pattern[: match.start()], pattern[match.end() :]
    return [name for part in match[1].split(",") for name in _expand(head + part.strip() + tail)]


def _tox_envs() -> list[str]:
    config = configparser.ConfigParser(interpolation=None)
    config.read(REPO_ROOT / "tox.ini", encoding="utf-8")
    patterns = [line.strip() for line in config["tox"]["env_list"].splitlines()]
    return [name for pattern in patterns if pattern for name in _expand(pattern)]


def test_the_classifiers_name_exactly_what_tox_tests(metadata: Message) -> None:
    envs = _tox_envs()
    pythons = {f"3.{m[1]}" for env in envs if (m := re.match(r"py3(\d+)", env))}
    djangos = {f"{m[1]}.{m[2]}" for env in envs if (m := re.search(r"django(\d)(\d+)", env))}
    classifiers = metadata.get_all("Classifier", [])
    assert pythons == {
        c.rsplit(" :: ", 1)[1] for c in classifiers if re.fullmatch(r".*Python :: 3\.\d+", c)
    }
    assert djangos == {
        c.rsplit(" :: ", 1)[1] for c in classifiers if re.fullmatch(r"Framework :: Django :: .+", c)
    }
    assert metadata["Requires-Python"] == f">={min(pythons, key=lambda v: int(v[2:]))}"
    assert "Framework :: Flask" in classifiers
