"""The documentation builds, every page is reachable, and every pointer to it lands.

* ``mkdocs build --strict`` (mkdocs.yml): a broken link, a missing anchor or
  a page left out of the nav is a warning, and a warning fails the build;
* every ``docs/<page>.md`` an error message, a check hint or a docstring in
  the packages names is a page that exists and is in the nav (an anchor,
  when given, is a heading of that page);
* the relative links of README.md and the example projects' READMEs (read
  on GitHub and PyPI, outside the site) point at files that exist;
* the source distribution ships the docs and the site configuration.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from markdown.extensions.toc import slugify

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PACKAGES = ("jwt_guard_core", "jwt_guard_django", "jwt_guard_flask", "jwt_guard_demo")
READMES = (
    "README.md",
    "example_projects/django_api/README.md",
    "example_projects/flask_api/README.md",
)
DOCS_REFERENCE = re.compile(r"docs/([A-Za-z0-9_.-]+\.md)(#[A-Za-z0-9_-]+)?")
MARKDOWN_LINK = re.compile(r"\]\(([^)\s]+)\)")


def _nav_pages(entries: object) -> list[str]:
    if isinstance(entries, str):
        return [entries]
    if isinstance(entries, dict):
        return [page for value in entries.values() for page in _nav_pages(value)]
    if isinstance(entries, list):
        return [page for entry in entries for page in _nav_pages(entry)]
    return []


def _config() -> dict[str, object]:
    # mkdocs.yml is plain YAML (no !!python tags), so safe_load reads it.
    return dict(yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8")))


def _anchors(page: Path) -> set[str]:
    """The heading ids mkdocs gives ``page`` (the toc extension's slugs)."""
    headings = re.findall(r"^#{1,6}\s+(.+?)\s*$", page.read_text(encoding="utf-8"), re.M)
    return {slugify(re.sub(r"[`*_]", "", h), "-") for h in headings}


def _package_references() -> list[tuple[str, str, str]]:
    """``(file, page, anchor)`` for every ``docs/....md`` named in the packages' code."""
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            for match in DOCS_REFERENCE.finditer(text):
                found.append(
                    (str(path.relative_to(ROOT)), match.group(1), (match.group(2) or "")[1:])
                )
    return found


def test_the_site_builds_with_warnings_as_errors(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stderr, result.stderr
    for page in DOCS.glob("*.md"):
        built = tmp_path / ("index.html" if page.stem == "index" else f"{page.stem}/index.html")
        assert built.is_file(), f"{page.name} was not built"


def test_every_docs_page_is_in_the_nav_and_every_nav_entry_exists() -> None:
    nav = _nav_pages(_config()["nav"])
    pages = sorted(p.name for p in DOCS.glob("*.md"))
    assert sorted(nav) == pages
    assert len(set(nav)) == len(nav), "a page is listed twice"


def test_the_packages_point_only_at_pages_that_exist_in_the_nav() -> None:
    references = _package_references()
    # The checks' hints and error messages do point at the docs: the test
    # reads real references, not an empty list.
    assert any(file.startswith("jwt_guard_django/checks") for file, _, _ in references)
    nav = set(_nav_pages(_config()["nav"]))
    missing = []
    for file, page, anchor in references:
        target = DOCS / page
        if not target.is_file() or page not in nav:
            missing.append(f"{file}: docs/{page} (not a page in the nav)")
        elif anchor and anchor not in _anchors(target):
            missing.append(f"{file}: docs/{page}#{anchor} (no such heading)")
    assert not missing, "\n".join(missing)


@pytest.mark.parametrize("readme", READMES)
def test_readme_links_point_at_files_that_exist(readme: str) -> None:
    source = ROOT / readme
    broken = []
    for target in MARKDOWN_LINK.findall(source.read_text(encoding="utf-8")):
        if target.startswith(("http://", "https://", "mailto:", "#")):
            continue
        path, _, anchor = target.partition("#")
        resolved = (source.parent / path).resolve()
        if not resolved.exists():
            broken.append(target)
            continue
        if anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved):
            broken.append(target)
    assert not broken, f"{readme} links to missing files or headings: {broken}"


# That the sdist ships every docs page and mkdocs.yml is checked by
# tests/test_packaging.py, which builds it the way pip does (isolated, with
# the setuptools pyproject.toml asks for).
