"""Every ```python block of README.md and docs/*.md runs as written.

Each block runs in a fresh namespace, in a temporary working directory
(top-level ``await`` allowed, as in an async REPL). An HTML comment on the
line before the fence says what a block needs:

* ``<!-- test: setup=NAME -->`` (or ``setup=A,B``): the setups of
  :mod:`tests.docs.code_setups` provide the names the block uses but does not
  define (``raw_token``, a running ``LocalIssuer``, a Flask ``app``, the
  names of a Django settings module ...) and check what it built afterwards;
* ``<!-- test: skip REASON -->``: not run, for the reason given (an API
  signature listing, a block that needs a service the suite does not run).
  Skips are rare, each says why, and the run lists them;
* no comment: the block runs on its own.

Blocks with a ``title="path"`` are the files of the example test suites in
docs/testing.md: tests/testing/test_docs_examples.py writes them to a
project and runs it with pytest.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
from pathlib import Path

import pytest

from .code_setups import SETUPS, Context
from .readme_blocks import Block, blocks

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# How many blocks are skipped: raise it only with a reason in the block's marker.
MAX_SKIPS = 8


def _python_blocks() -> list[Block]:
    return [b for doc in DOCUMENTS for b in blocks(doc) if b.language == "python"]


def _runnable() -> list[Block]:
    return [b for b in _python_blocks() if b.title is None and not _skip_reason(b)]


def _skip_reason(block: Block) -> str | None:
    if block.marker and block.marker.startswith("test: skip"):
        return block.marker.removeprefix("test: skip").strip()
    return None


def _setups(block: Block) -> list[str]:
    if block.marker and block.marker.startswith("test: setup="):
        return block.marker.removeprefix("test: setup=").split(",")
    return []


def _run(code: str, ns: dict[str, object], filename: str) -> None:
    compiled = compile(code, filename, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    if compiled.co_flags & inspect.CO_COROUTINE:
        asyncio.run(eval(compiled, ns))
    else:
        exec(compiled, ns)


@pytest.mark.parametrize("block", _runnable(), ids=lambda b: b.where)
def test_the_block_runs_as_written(
    block: Block, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    ctx = Context(
        ns={"__name__": "docs_example"},
        tmp_path=tmp_path,
        monkeypatch=monkeypatch,
        code=block.code,
    )
    with ctx.stack:
        generators = []
        for name in _setups(block):
            assert name in SETUPS, f"{block.where}: unknown setup {name!r}"
            generator = SETUPS[name](ctx)
            next(generator)
            generators.append(generator)
        _run(ctx.code, ctx.ns, str(block.path))
        for generator in reversed(generators):
            with pytest.raises(StopIteration):
                next(generator)


def test_skips_are_rare_and_each_says_why(capsys: pytest.CaptureFixture[str]) -> None:
    skipped = [(b.where, _skip_reason(b)) for b in _python_blocks() if _skip_reason(b) is not None]
    with capsys.disabled():
        print(f"\n{len(skipped)} docs code blocks skipped:")
        for where, reason in skipped:
            print(f"  {where}: {reason}")
    assert all(reason for _, reason in skipped), "a skip must say why"
    assert len(skipped) <= MAX_SKIPS
    assert len(_runnable()) >= 3 * len(skipped)


def test_titled_blocks_are_the_example_suites_of_the_testing_page() -> None:
    titled = [b for b in _python_blocks() if b.title is not None]
    assert titled
    for block in titled:
        assert block.path.name == "testing.md", f"{block.where}: titled blocks run nowhere else"
        heading = [
            line
            for line in block.path.read_text(encoding="utf-8").splitlines()[: block.line]
            if line.startswith("## ")
        ][-1]
        assert heading.startswith("## Example: "), f"{block.where} is under {heading!r}"
