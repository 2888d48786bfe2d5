"""What every command shares: exit codes, the terminal and the refusal.

This package is the program's user interface, so unlike the rest of the
library it writes to standard output and standard error, through
:class:`Terminal` only.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_CONFIG = 2
# The reader of standard output went away (``jwt-guard jwks ... | head -1``):
# 128 + SIGPIPE, what a shell reports for a program that a closed pipe stopped.
EXIT_BROKEN_PIPE = 141

Clock = Callable[[], float]


class Refused(Exception):
    """The command refused to act (exit 1), e.g. a file already exists."""


@dataclass
class Terminal:
    """Where a command reads and writes, and its clock: all injectable for tests."""

    out: TextIO
    err: TextIO
    stdin: TextIO
    clock: Clock

    def say(self, text: str = "") -> None:
        _print(text, self.out)

    def warn(self, text: str) -> None:
        _print(text, self.err)

    def say_json(self, value: Any) -> None:
        """Indented JSON, readable non-ASCII when the terminal can show it."""
        text = json.dumps(value, indent=2, ensure_ascii=False)
        try:
            text.encode(getattr(self.out, "encoding", None) or "utf-8")
        except (UnicodeEncodeError, LookupError):
            # A lone surrogate ("\ud800" in the token's JSON) or a narrow
            # terminal encoding: fall back to escapes, still valid JSON.
            text = json.dumps(value, indent=2)
        self.say(text)


def _print(text: str, stream: TextIO) -> None:
    try:
        print(text, file=stream)
    except UnicodeEncodeError:
        encoding = getattr(stream, "encoding", None) or "utf-8"
        print(text.encode(encoding, "backslashreplace").decode(encoding), file=stream)


def read_token(value: str, stdin: TextIO) -> str:
    """The TOKEN argument; ``-`` reads it from standard input."""
    # "-" keeps the token out of shell history and the process list.
    if value == "-":
        return stdin.read().strip()
    return value


def discard_stdout() -> None:
    """Point standard output at the null device, after its reader closed the pipe.

    As the Python documentation recommends for SIGPIPE: the output still in
    the buffer is flushed again when the interpreter exits, and would fail
    again with a traceback, unless it has somewhere harmless to go.
    """
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, ValueError, OSError):
        return  # not a real file (a test's capture): nothing will be flushed to a pipe
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def distribution_version(distribution: str = "jwt-guard") -> str:
    """The installed version of ``distribution``, or a plain note when it is not installed."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return f"(version unknown: the {distribution} distribution is not installed)"
