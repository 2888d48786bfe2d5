"""The vectors are read in place beside the checkout, and their absence is an error."""

from __future__ import annotations

import pytest

from tests.vectors._support import REPO_ROOT, VECTORS, vectors_dir


def test_vectors_are_read_from_shared_beside_the_repository() -> None:
    assert REPO_ROOT.parent / "shared" / "vectors" == VECTORS
    assert (REPO_ROOT / "pyproject.toml").is_file()
    assert vectors_dir("README.md").is_file()
    # Nothing of the vectors lives inside the project.
    assert not VECTORS.resolve().is_relative_to(REPO_ROOT.resolve())


def test_a_missing_vector_file_fails_loudly_instead_of_skipping() -> None:
    with pytest.raises(FileNotFoundError, match=r"read in place from <repo>/\.\./shared/vectors"):
        vectors_dir("wycheproof", "no_such_test.json")
