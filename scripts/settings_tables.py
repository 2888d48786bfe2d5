"""Render the settings tables of docs/django.md and docs/flask.md from the core's schema.

Every setting is declared once, in :mod:`jwt_guard_core.settings.schema`;
the tables between ``<!-- settings-table: NAME -->`` and
``<!-- end settings-table -->`` are this script's output, never edited by
hand. ``python3 scripts/settings_tables.py`` rewrites them;
``--check`` exits 1 when a document differs (tests/test_settings_docs.py
runs it).
"""

from __future__ import annotations

import re
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from jwt_guard_core.settings.schema import SETTINGS, Adapter, Setting, by_name  # noqa: E402

#: document -> table name -> (adapter, rows)
DOCUMENTS = {
    "docs/django.md": ("django", ("main", "issuing", "sessions")),
    "docs/flask.md": ("flask", ("main",)),
    # The keys of a dict setting, the same in both adapters (issue 16).
    "docs/introspection.md": ("django", ("introspection",)),
    "docs/jwe.md": ("django", ("jwe",)),
}
#: Dict settings whose keys are a table of their own: table name -> the module holding KEYS.
DICT_TABLES = {
    "introspection": "jwt_guard_core.settings.introspection",
    "jwe": "jwt_guard_core.settings.jwe",
}
_TABLE = re.compile(
    r"(<!-- settings-table: (?P<name>[a-z]+) -->\n)(?P<body>.*?)(<!-- end settings-table -->)",
    re.DOTALL,
)


def _rows(adapter: Adapter, table: str) -> list[Setting]:
    if adapter == "flask":
        return [s for s in SETTINGS if s.flask]
    if table == "main":
        return [s for s in SETTINGS if s.django and "." not in s.name]
    return [s for s in SETTINGS if s.django and s.name.startswith(f"{table}.")]


def _key(adapter: Adapter, setting: Setting) -> str:
    if adapter == "django" and "." in setting.name:
        return f'{setting.group.upper()}["{setting.django}"]'
    return str(setting.key(adapter))


def _default(adapter: Adapter, setting: Setting) -> str:
    value: Any = setting.default_for(adapter)
    if adapter == "flask":
        return f"`{value!r}`"
    if setting.name == "algorithms":
        return "*required*"
    if isinstance(value, timedelta):
        return f"`timedelta(days={value.days})`"
    return "`" + repr(value).replace("'", '"') + "`"


def _doc(adapter: Adapter, setting: Setting) -> str:
    def spelled(match: re.Match[str]) -> str:
        return f"`{by_name(match.group(1)).key(adapter)}`"

    text = re.sub(r"\{([a-z_.]+)\}", spelled, setting.doc)
    if adapter == "flask" and setting.group in ("issuing", "sessions"):
        text = f"{setting.group}: {text}"
    return text


def render(adapter: Adapter, table: str) -> str:
    """One table, header included."""
    if table in DICT_TABLES:
        import importlib

        keys = importlib.import_module(DICT_TABLES[table]).KEYS
        lines = ["| key | meaning |", "| --- | --- |"]
        lines += [f"| `{key}` | {meaning} |" for key, meaning in keys.items()]
        return "\n".join(lines) + "\n"
    lines = ["| key | default | meaning |", "| --- | --- | --- |"]
    for setting in _rows(adapter, table):
        meaning = _doc(adapter, setting)
        lines.append(f"| `{_key(adapter, setting)}` | {_default(adapter, setting)} | {meaning} |")
    return "\n".join(lines) + "\n"


def rendered(document: str, text: str) -> str:
    """``text`` of ``document`` with its settings tables rendered from the schema."""
    adapter, tables = DOCUMENTS[document]

    def replace(match: re.Match[str]) -> str:
        name = match.group("name")
        if name not in tables:
            raise SystemExit(f"{document}: unknown settings table {name!r}")
        return match.group(1) + render(adapter, name) + match.group(4)  # type: ignore[arg-type]

    return _TABLE.sub(replace, text)


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for document in DOCUMENTS:
        path = ROOT / document
        text = path.read_text(encoding="utf-8")
        new = rendered(document, text)
        if new != text:
            stale.append(document)
            if not check:
                path.write_text(new, encoding="utf-8")
    if check and stale:
        print("settings tables differ from the schema: " + ", ".join(stale), file=sys.stderr)
        print("run: python3 scripts/settings_tables.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
