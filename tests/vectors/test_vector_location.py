"""The vectors live inside the checkout, unchanged, and their absence is an error."""

from __future__ import annotations

import hashlib

import pytest

from tests.vectors._support import REPO_ROOT, VECTORS, vectors_dir

# Files that describe the copies rather than being copies themselves.
NOTES = {"PROVENANCE.md", "SHA256SUMS"}


def _pinned() -> dict[str, str]:
    """``SHA256SUMS`` as {relative path: hex digest}."""
    pinned: dict[str, str] = {}
    for line in vectors_dir("SHA256SUMS").read_text(encoding="utf-8").splitlines():
        digest, name = line.split(maxsplit=1)
        pinned[name] = digest
    return pinned


def test_vectors_are_read_from_inside_the_checkout() -> None:
    assert (REPO_ROOT / "pyproject.toml").is_file()
    assert VECTORS.resolve().is_relative_to(REPO_ROOT.resolve())
    assert vectors_dir("PROVENANCE.md").is_file()
    assert vectors_dir("wycheproof", "LICENSE").is_file()
    assert vectors_dir("rfc7520", "LICENSE").is_file()


def test_every_vector_file_is_pinned_and_unchanged() -> None:
    pinned = _pinned()
    present = {
        path.relative_to(VECTORS).as_posix()
        for path in VECTORS.rglob("*")
        if path.is_file() and path.name not in NOTES
    }
    assert present == set(pinned)
    for name, digest in pinned.items():
        assert hashlib.sha256(vectors_dir(name).read_bytes()).hexdigest() == digest, name


def test_every_vector_file_is_named_in_the_provenance_note() -> None:
    provenance = vectors_dir("PROVENANCE.md").read_text(encoding="utf-8")
    for name in _pinned():
        basename = name.rsplit("/", 1)[-1]
        assert f"`{name}`" in provenance or f"`{basename}`" in provenance, name


def test_a_missing_vector_file_fails_loudly_instead_of_skipping() -> None:
    with pytest.raises(FileNotFoundError, match=r"the vectors live in tests/vectors/data"):
        vectors_dir("wycheproof", "no_such_test.json")
