"""The ``jwt-guard`` command line: keys, tokens, a demo and the key store.

Every command is a thin shell over the library: ``verify`` builds a
:class:`~jwt_guard_core.GuardConfig`, a key source and a
:class:`~jwt_guard_core.Verifier` and reports what the verifier decided; it
has no verification logic of its own. ``inspect`` decodes with the same
strict decoder the verifier uses and says plainly that nothing was verified.

One module per command group, each adding its own subcommands to the parser:
``_keys`` (keygen), ``_inspect``, ``_verify``, ``_demo``, ``_store`` (rotate,
jwks, keys), ``_token`` (development tokens); ``_output`` holds what they
share (exit codes, the terminal).

Exit codes: 0 success; 1 the token was rejected or could not be decoded, or
keygen refused to overwrite a file; 2 a usage or configuration error; 141
standard output was closed before everything was written (``| head -1``).

This package is the program's user interface, so unlike the rest of the
library it writes to standard output and standard error.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from ..errors import ConfigurationError
from ..signing import KeyStoreError
from . import _demo, _inspect, _keys, _provider, _store, _token, _verify
from ._inspect import token_warnings
from ._keys import GeneratedKey, generate_key, jwk_thumbprint, write_key
from ._output import (
    EXIT_BROKEN_PIPE,
    EXIT_CONFIG,
    EXIT_REJECTED,
    Clock,
    Refused,
    Terminal,
    discard_stdout,
    distribution_version,
)
from ._store import key_rows, key_table

__all__ = [
    "GeneratedKey",
    "generate_key",
    "jwk_thumbprint",
    "key_rows",
    "key_table",
    "main",
    "token_warnings",
    "write_key",
]


class _VersionAction(argparse.Action):
    """``--version``: the installed distribution's version, looked up only when asked."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        print(f"{parser.prog} {distribution_version()}", file=sys.stdout)
        parser.exit()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jwt-guard",
        description="Generate keys, inspect and verify JSON Web Tokens.",
        epilog="Exit codes: 0 success, 1 token rejected or malformed (or a file exists), "
        "2 usage or configuration error, 141 standard output was closed early.",
    )
    parser.add_argument(
        "--version", action=_VersionAction, help="print the installed version and exit"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _keys.add_parser(commands)
    _inspect.add_parser(commands)
    _verify.add_parser(commands)
    _demo.add_parser(commands)
    _store.add_parsers(commands)
    _token.add_parser(commands)
    _provider.add_parser(commands)
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    clock: Clock | None = None,
    stdin: TextIO | None = None,
) -> int:
    """Run the ``jwt-guard`` command line and return its exit code.

    ``clock`` and ``stdin`` are injectable for tests; by default the real
    time and standard input are used.
    """
    io = Terminal(
        out=sys.stdout,
        err=sys.stderr,
        stdin=stdin if stdin is not None else sys.stdin,
        clock=clock if clock is not None else time.time,
    )
    try:
        code = _run(argv, io)
        # Written now, so a reader that went away shows here, not as a
        # traceback when the interpreter flushes at exit.
        io.out.flush()
    except BrokenPipeError:
        # `jwt-guard jwks ... | head -1`: the reader has what it wanted.
        discard_stdout()
        return EXIT_BROKEN_PIPE
    return code


def _run(argv: Sequence[str] | None, io: Terminal) -> int:
    """Parse ``argv`` and run the command, turning its refusals into exit codes."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        # argparse exits 2 on usage errors and 0 for --help and --version.
        return exc.code if isinstance(exc.code, int) else EXIT_CONFIG
    handler: Callable[[argparse.Namespace, Terminal], int] = args.handler
    try:
        return handler(args, io)
    except ConfigurationError as exc:
        io.warn(f"configuration error: {exc}")
        return EXIT_CONFIG
    except Refused as exc:
        io.warn(f"refused: {exc}")
        return EXIT_REJECTED
    except KeyStoreError as exc:
        io.warn(f"key store error: {exc}")
        return EXIT_REJECTED
    except BrokenPipeError:
        raise  # not a file error: main stops quietly
    except OSError as exc:
        io.warn(f"error: {exc.filename or ''}: {exc.strerror}")
        return EXIT_REJECTED
