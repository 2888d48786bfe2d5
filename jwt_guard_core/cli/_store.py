"""``jwt-guard rotate | jwks | keys --store DIR``: an application's file key store.

The commands drive the application's own :class:`~jwt_guard_core.signing.KeyManager`
over its :class:`~jwt_guard_core.signing.FileKeyStore`, imposing none of
their own defaults. :func:`key_rows` and :func:`key_table` also format the
Django and Flask key-listing commands.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError
from ..signing import FileKeyStore, KeyInfo, KeyManager
from ._output import EXIT_OK, Clock, Refused, Terminal

__all__ = ["add_parsers", "emergency_summary", "key_rows", "key_table", "store_manager", "utc"]


def key_rows(infos: Sequence[KeyInfo]) -> list[dict[str, Any]]:
    """Each key's public facts (kid, algorithm, state, Unix times) for JSON output.

    Shared by ``jwt-guard keys --json`` and the adapters' key-listing commands.
    A :class:`KeyInfo` holds no key material, so none can be printed.
    """
    return [
        {
            "kid": i.kid,
            "algorithm": i.algorithm,
            "state": i.state,
            "created_at": i.created_at,
            "activated_at": i.activated_at,
            "retired_at": i.retired_at,
        }
        for i in infos
    ]


def key_table(infos: Sequence[KeyInfo], emergency_epoch: int | None = None) -> list[str]:
    """Lines of an aligned table of keys (UTC times), then the last emergency, if any."""
    rows = [("KID", "ALG", "STATE", "CREATED", "ACTIVATED", "RETIRED")]
    rows += [
        (i.kid, i.algorithm, i.state, utc(i.created_at), utc(i.activated_at), utc(i.retired_at))
        for i in infos
    ]
    widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    if emergency_epoch is not None:
        lines.append(f"last emergency rotation: {utc(emergency_epoch)}")
    return lines


def utc(value: float | None) -> str:
    """Unix time as ``YYYY-MM-DDTHH:MM:SSZ``; ``-`` for none."""
    if value is None:
        return "-"
    return datetime.fromtimestamp(value, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def emergency_summary(keys: KeyManager, info: KeyInfo, removed: Sequence[str]) -> str:
    """What an emergency rotation did, saying no more than it did.

    Shared by ``jwt-guard rotate --emergency`` and the adapters' commands.
    Without a revocation store the removed keys only leave the JWKS: a
    verifier that still caches them accepts tokens a thief signs (with any
    ``iat``) until it refetches, so the line does not claim otherwise.
    """
    head = f"emergency rotation: {info.kid} ({info.algorithm}) is the only key"
    kids = ", ".join(removed) or "none"
    if keys.revocation is not None:
        return (
            f"{head}; removed keys ({kids}) are denied in the revocation store: every verifier "
            f"reading it refuses their tokens now, and every token issued before "
            f"{utc(keys.emergency_epoch)}"
        )
    return (
        f"{head}; removed keys ({kids}) left the JWKS: verifiers refuse their tokens once they "
        "refetch it (within its max-age). No revocation store was written, so a verifier still "
        "caching them accepts tokens signed with them until then; verifiers reading this key "
        f"store refuse tokens issued before {utc(keys.emergency_epoch)}"
    )


def store_manager(
    directory: str,
    passphrase_env: str,
    clock: Clock,
    *,
    allow_hmac: bool = False,
    auto_rotate: bool = True,
    revocation: Any = None,
) -> KeyManager:
    """The manager of the file store in ``directory``, imposing none of its own defaults.

    ``algorithm=None`` keeps the stored keys' algorithm, and the retention
    the application recorded in the ring protects its retired keys from
    this tool's shorter default.
    """
    if not Path(directory).is_dir():
        # FileKeyStore would create it: a typo must not start an empty store.
        raise ConfigurationError(
            "--store",
            f"{directory} is not a directory (the application creates it, or mkdir -m 700)",
        )
    store = FileKeyStore(directory, passphrase_env=passphrase_env)
    return KeyManager(
        store,
        algorithm=None,
        allow_hmac=allow_hmac,
        auto_rotate=auto_rotate,
        revocation=revocation,
        clock=clock,
    )


def _manager(args: argparse.Namespace, io: Terminal, revocation: Any = None) -> KeyManager:
    return store_manager(
        args.store, args.passphrase_env, io.clock, allow_hmac=args.allow_hmac, revocation=revocation
    )


def _revocation_store(args: argparse.Namespace) -> Any:
    """The session store ``--revocation-sqlite`` or ``--revocation-redis`` names, or ``None``."""
    path, url = args.revocation_sqlite, args.revocation_redis
    if path is not None and url is not None:
        raise ConfigurationError("--revocation-sqlite", "give it or --revocation-redis, not both")
    if (path is not None or url is not None) and not args.emergency:
        raise ConfigurationError(
            "--revocation-sqlite" if path is not None else "--revocation-redis",
            "only used with --emergency",
        )
    if path is not None:
        if not Path(path).is_file():
            # SQLiteSessionStore would create it: a typo must not write to a new file.
            raise ConfigurationError("--revocation-sqlite", f"{path} is not the application's file")
        from ..sessions import SQLiteSessionStore

        return SQLiteSessionStore(path)
    if url is not None:
        from ..sessions.redis import RedisSessionStore

        return RedisSessionStore(url, prefix=args.revocation_prefix)
    return None


def _cmd_rotate(args: argparse.Namespace, io: Terminal) -> int:
    if args.reason is not None and not args.emergency:
        raise ConfigurationError("--reason", "only used with --emergency")
    store = _revocation_store(args)
    if args.emergency:
        from ..sessions import RevocationService

        revocation = None if store is None else RevocationService(store, clock=io.clock)
        keys = _manager(args, io, revocation)
        removed = [k.kid for k in keys.list_keys()]
        try:
            info = keys.emergency_rotate(reason=args.reason)
        finally:
            close = getattr(store, "close", None)
            if close is not None:
                close()
        io.say(emergency_summary(keys, info, removed))
        return EXIT_OK
    keys = _manager(args, io)
    previous = keys.active_key() if keys.list_keys() else None
    info = keys.rotate()
    line = f"rotated: {info.kid} ({info.algorithm}) signs from now on"
    if previous is not None:
        line += f"; {previous.kid} is retired and stays published for its tokens"
    io.say(line)
    return EXIT_OK


def _cmd_jwks(args: argparse.Namespace, io: Terminal) -> int:
    keys = _manager(args, io)
    if not keys.list_keys():
        # jwks() would create the first key: a read command must not.
        raise Refused(f"{args.store} holds no keys yet; create one with jwt-guard rotate")
    io.say_json(keys.jwks())
    return EXIT_OK


def _cmd_keys(args: argparse.Namespace, io: Terminal) -> int:
    keys = _manager(args, io)
    infos = keys.list_keys()
    if args.json:
        io.say_json({"keys": key_rows(infos), "emergency_epoch": keys.emergency_epoch})
        return EXIT_OK
    if not infos:
        io.say("no keys yet; create one with jwt-guard rotate")
        return EXIT_OK
    for line in key_table(infos, keys.emergency_epoch):
        io.say(line)
    return EXIT_OK


def _add_store_arguments(parser: argparse.ArgumentParser) -> None:
    """``--store DIR``, ``--passphrase-env VAR`` and ``--allow-hmac``, shared by the commands."""
    parser.add_argument("--store", required=True, metavar="DIR", help="the FileKeyStore directory")
    parser.add_argument(
        "--passphrase-env",
        default="JWT_GUARD_KEY_PASSPHRASE",
        metavar="VAR",
        help="the variable holding the store passphrase (default JWT_GUARD_KEY_PASSPHRASE)",
    )
    parser.add_argument(
        "--allow-hmac", action="store_true", help="the store holds HMAC secrets (HS256/384/512)"
    )


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    rotate = commands.add_parser(
        "rotate",
        help="rotate the signing key of a key store directory",
        description="Make a new key active in the FileKeyStore in DIR (the first key of an "
        "empty store); the old one stays published until its tokens expire. --emergency, for "
        "a leaked key, removes every other key from the JWKS at once; with --revocation-sqlite "
        "or --revocation-redis (the application's session store) the removed keys are also "
        "denied there, so verifiers reading it refuse their tokens now, even with the old JWKS "
        "cached. The passphrase is read from $JWT_GUARD_KEY_PASSPHRASE (--passphrase-env).",
    )
    _add_store_arguments(rotate)
    rotate.add_argument(
        "--emergency", action="store_true", help="drop every previous key now (a leaked key)"
    )
    rotate.add_argument(
        "--revocation-sqlite",
        metavar="PATH",
        help="with --emergency: deny the removed keys in this session SQLite file",
    )
    rotate.add_argument(
        "--revocation-redis",
        metavar="URL",
        help="with --emergency: deny the removed keys in this session Redis (redis://...)",
    )
    rotate.add_argument(
        "--revocation-prefix",
        default="jwt_guard:sessions",
        metavar="PREFIX",
        help="the session store's Redis key prefix (default jwt_guard:sessions)",
    )
    rotate.add_argument("--reason", help="why, for the emergency rotation's security event")
    rotate.set_defaults(handler=_cmd_rotate)

    jwks = commands.add_parser(
        "jwks",
        help="print the public JWKS of a key store directory",
        description="Print the JWKS (public keys only) the application serves from the "
        "FileKeyStore in DIR.",
    )
    _add_store_arguments(jwks)
    jwks.set_defaults(handler=_cmd_jwks)

    keys = commands.add_parser(
        "keys",
        help="list the keys of a key store directory (kids and states, no key material)",
    )
    _add_store_arguments(keys)
    keys.add_argument("--json", action="store_true", help="print JSON (times as Unix time)")
    keys.set_defaults(handler=_cmd_keys)
