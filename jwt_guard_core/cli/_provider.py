"""``jwt-guard provider NAME --param k=v``: print what a provider profile expands to."""

from __future__ import annotations

import argparse

from ..errors import ConfigurationError
from ..providers import PROFILES, provider_settings
from ._output import EXIT_OK, Terminal

__all__ = ["add_parser"]


def _cmd(args: argparse.Namespace, io: Terminal) -> int:
    params: dict[str, str] = {}
    for item in args.param or ():
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigurationError("--param", f"{item!r} is not KEY=VALUE")
        params[key.strip()] = value
    settings = provider_settings(args.name, **params)
    if args.flask:
        settings = {f"JWT_GUARD_{key}": value for key, value in settings.items()}
    io.say_json(settings)
    return EXIT_OK


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    provider = commands.add_parser(
        "provider",
        help=f"print the settings a provider profile expands to ({', '.join(PROFILES)})",
    )
    provider.add_argument("name", help="the provider: " + ", ".join(PROFILES))
    provider.add_argument(
        "--param",
        action="append",
        metavar="KEY=VALUE",
        help="a profile parameter, e.g. --param domain=example.eu.auth0.com (repeatable)",
    )
    provider.add_argument(
        "--flask", action="store_true", help="print the Flask spelling (JWT_GUARD_...)"
    )
    provider.set_defaults(handler=_cmd)
