"""docs/django.md documents every JWT_GUARD key with its default, and every check id."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from jwt_guard_django.conf import DEFAULTS

DOC = Path(__file__).resolve().parents[2] / "docs" / "django.md"
CHECKS = Path(__file__).resolve().parents[2] / "jwt_guard_core" / "system_checks.py"


def _settings_rows() -> dict[str, str]:
    rows = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        match = re.match(r"\| `([A-Z_]+)` \| (.+?) \|", line)
        if match:
            rows[match.group(1)] = match.group(2)
    return rows


@pytest.mark.parametrize("key", sorted(DEFAULTS))
def test_every_setting_is_in_the_table_with_its_default(key):
    rows = _settings_rows()
    assert key in rows
    default = DEFAULTS[key]
    shown = "`" + repr(default).replace("'", '"') + "`"
    expected = "*required*" if key == "ALGORITHMS" else shown
    assert rows[key] == expected


def test_the_table_has_no_key_the_code_does_not_know():
    assert set(_settings_rows()) == set(DEFAULTS)


def test_every_check_id_is_documented():
    in_code = set(re.findall(r"jwt_guard\.[EW]\d{3}", CHECKS.read_text(encoding="utf-8")))
    in_docs = set(re.findall(r"\| `(jwt_guard\.[EW]\d{3})` \|", DOC.read_text(encoding="utf-8")))
    assert in_code == in_docs
    # + W009 DPoP; E012, W010, W011 users; W030-W032 claims; E013, E014, E021, W012 remote
    # key sets; E015 routes; E018, W017, W018 Redis breakers and the shared JWKS cache;
    # W021 async sessions; E020, W019 revocation mirror; E016, E017, W015, W016
    # introspection and JWE; E022, E023 DRF view attributes
    assert len(in_code) == 43
