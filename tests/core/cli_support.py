"""What the ``jwt-guard`` command-line tests share besides fixtures (those are in cli_fixtures)."""

from __future__ import annotations

from collections.abc import Callable

# run(*argv, stdin="") -> (exit code, stdout, stderr)
Run = Callable[..., tuple[int, str, str]]

PASSPHRASE = "cli store passphrase 0123456789"
