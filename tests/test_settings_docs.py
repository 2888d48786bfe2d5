"""The settings tables of the docs are the schema's: rendered by scripts/settings_tables.py."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _script():
    spec = importlib.util.spec_from_file_location(
        "settings_tables", ROOT / "scripts" / "settings_tables.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "document", ["docs/django.md", "docs/flask.md", "docs/introspection.md", "docs/jwe.md"]
)
def test_settings_tables_match_the_schema(document):
    script = _script()
    text = (ROOT / document).read_text(encoding="utf-8")
    assert "<!-- settings-table:" in text
    assert script.rendered(document, text) == text, "run: python3 scripts/settings_tables.py"


def test_a_changed_default_makes_the_check_fail():
    script = _script()
    text = (ROOT / "docs/flask.md").read_text(encoding="utf-8")
    edited = text.replace("| `JWT_GUARD_LEEWAY` | `10` |", "| `JWT_GUARD_LEEWAY` | `11` |")
    assert edited != text
    assert script.rendered("docs/flask.md", edited) != edited


def test_every_setting_has_a_one_line_doc_and_a_known_group():
    from jwt_guard_core.settings.schema import GROUPS, SETTINGS

    names = [s.name for s in SETTINGS]
    assert len(names) == len(set(names))
    for setting in SETTINGS:
        assert setting.group in GROUPS
        assert setting.doc
        assert "\n" not in setting.doc
        assert setting.django or setting.flask
