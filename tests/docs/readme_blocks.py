"""Fenced blocks of the docs and READMEs, with the HTML comment that marks each for testing.

A block is marked by an HTML comment on the line before its opening fence
(GitHub and MkDocs show nothing of it), for example::

    <!-- example-test: server -->
    ```sh
    gunicorn --bind 127.0.0.1:8000 orders_api.wsgi:application
    ```

:func:`blocks` returns every block of a file with its language, its marker
(the comment's text, ``None`` when there is none) and the line it starts on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_FENCE = re.compile(r"^(?P<indent> *)```(?P<info>[^`]*)$")
_MARKER = re.compile(r"^\s*<!--\s*(?P<text>[a-z-]+:.*?)\s*-->\s*$")


@dataclass(frozen=True)
class Block:
    """One fenced block: ``language`` and ``title`` from its info string, ``code`` dedented."""

    path: Path
    line: int
    language: str
    title: str | None
    marker: str | None
    code: str

    @property
    def where(self) -> str:
        return f"{self.path.name}:{self.line}"


def blocks(path: Path) -> list[Block]:
    """Every fenced block of the Markdown file ``path``, in order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    index = 0
    while index < len(lines):
        fence = _FENCE.match(lines[index])
        if fence is None:
            index += 1
            continue
        indent = len(fence["indent"])
        info = fence["info"].strip()
        language = info.split(" ", 1)[0]
        title = re.search(r'title="([^"]+)"', info)
        end = index + 1
        while not lines[end].strip().startswith("```"):
            end += 1
        previous = lines[index - 1] if index > 0 else ""
        marker = _MARKER.match(previous)
        code = "\n".join(line[indent:] for line in lines[index + 1 : end]) + "\n"
        found.append(
            Block(
                path=path,
                line=index + 1,
                language=language,
                title=title.group(1) if title else None,
                marker=marker["text"] if marker else None,
                code=code,
            )
        )
        index = end + 1
    return found
