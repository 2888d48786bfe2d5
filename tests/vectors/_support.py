"""Access to the external test vectors copied into ``tests/vectors/data``.

The vectors are data written by others (Project Wycheproof, the RFC 7520
cookbook), copied unchanged with their licences; ``data/PROVENANCE.md`` says
from which repository and commit, ``data/SHA256SUMS`` pins every byte. The
tests read nothing outside the checkout. A missing file is an error, not a
skip: a vector suite that silently runs nothing would prove nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jwt_guard_core import GuardConfig, StaticKeySet, Verifier
from jwt_guard_core.algorithms import ALGORITHMS, ASYMMETRIC_ALGORITHMS, min_token_bytes

REPO_ROOT = Path(__file__).resolve().parents[2]
VECTORS = Path(__file__).resolve().parent / "data"


def vectors_dir(*parts: str) -> Path:
    """The vectors directory (or a file in it); raises when it is missing."""
    path = VECTORS.joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(
            f"test vector {path} not found: the vectors live in tests/vectors/data "
            "(see its PROVENANCE.md for where each file comes from)"
        )
    return path


@cache
def load_json(*parts: str) -> Any:
    """Parse one vector file, once per test session."""
    return json.loads(vectors_dir(*parts).read_text(encoding="utf-8"))


def wycheproof(name: str) -> Mapping[str, Any]:
    """A Wycheproof file from ``wycheproof/``, e.g. ``json_web_key_test.json``."""
    data = load_json("wycheproof", name)
    assert isinstance(data, dict)
    return data


@dataclass(frozen=True)
class Case:
    """One Wycheproof test with the index of its group."""

    file: str
    group_index: int
    group: Mapping[str, Any]
    test: Mapping[str, Any]

    @property
    def tc_id(self) -> int:
        return int(self.test["tcId"])

    @property
    def result(self) -> str:
        return str(self.test["result"])

    @property
    def id(self) -> str:
        comment = str(self.test.get("comment") or self.group.get("comment") or "")
        slug = "".join(c if c.isalnum() else "_" for c in comment)[:40].strip("_")
        return f"tc{self.tc_id}-{slug}" if slug else f"tc{self.tc_id}"


def cases(name: str) -> Iterator[Case]:
    """Every test of a Wycheproof file, in file order."""
    for index, group in enumerate(wycheproof(name)["testGroups"]):
        for test in group["tests"]:
            yield Case(name, index, group, test)


def signature_verifier(keys: StaticKeySet) -> Verifier:
    """A verifier for ``verify_signature_only`` with the widest allowlist the keys permit.

    Every algorithm GuardConfig accepts for this key set is allowed, so a
    rejection comes from the key binding, header checks or signature, never
    from a conveniently narrow allowlist.
    """
    algorithms = sorted(ALGORITHMS if keys.allows_hmac else ASYMMETRIC_ALGORITHMS)
    # ML-DSA-87 tokens need more than the default 8 KiB (config.py refuses less).
    size = max(8192, *(min_token_bytes(alg) for alg in algorithms))
    return Verifier(
        GuardConfig(
            algorithms=algorithms,
            keys=keys,
            verify_issuer=False,
            verify_audience=False,
            max_token_bytes=size,
        )
    )
