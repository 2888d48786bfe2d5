"""The adapters' key, revocation and session commands, declared once.

``manage.py jwt_guard_keygen | jwt_guard_rotate_keys | jwt_guard_keys |
jwt_guard_revoke | jwt_guard_sessions`` and ``flask jwt-guard keygen |
rotate | keys | revoke | sessions ...`` are built from :data:`COMMANDS` and
:data:`SESSION_COMMANDS`: each entry names its options and their help, the
option checks run before any store is opened, what the command opens (the
key manager or the session services) and what it runs
(:mod:`jwt_guard_core.admin`). An adapter spells the options for argparse or
click, opens what is asked, and shows :func:`failure` texts as its errors.
"""

from __future__ import annotations

from argparse import ArgumentParser
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from . import admin
from .admin import Line, UsageError
from .errors import ConfigurationError, StateUnavailable

__all__ = [
    "COMMANDS",
    "LIMIT_RANGE",
    "RECORD_VIEWS",
    "SESSIONS_HELP",
    "SESSION_COMMANDS",
    "TIME_LABELS",
    "Command",
    "Failed",
    "Option",
    "RecordView",
    "add_arguments",
    "named",
    "run",
    "run_each",
]

#: The values ``--limit`` accepts.
LIMIT_RANGE = (1, 10_000)


@dataclass(frozen=True)
class Option:
    """``--flag`` (or the positional ``flag``) of a command; its value is passed as :attr:`dest`.

    ``kind`` is ``"text"``, ``"switch"`` (a flag without value), ``"time"``
    (a Unix time, a float) or ``"limit"`` (a number in :data:`LIMIT_RANGE`).
    ``exclusive`` options are one mutually exclusive group.
    """

    flag: str
    help: str = ""
    kind: str = "text"
    default: Any = None
    exclusive: bool = False

    @property
    def dest(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")

    @property
    def positional(self) -> bool:
        return not self.flag.startswith("-")


@dataclass(frozen=True)
class Command:
    """One command: ``run(opened, program, **options)`` after ``check(**options)``.

    ``opens`` is ``"keys"`` (the key manager) or ``"sessions"`` (the session
    services, a :class:`~jwt_guard_core.settings.sides.SessionSide`);
    ``program`` is how the adapter spells its commands (``"flask jwt-guard "``),
    for texts naming another one. ``help`` names the settings as ``{issuing}``
    and ``{sessions}``; ``one_required``: exactly one exclusive option is given.
    """

    name: str
    help: str
    opens: str
    run: Callable[..., list[Line]]
    options: tuple[Option, ...] = ()
    check: Callable[..., None] | None = None
    one_required: bool = False


class Failed(Exception):
    """A command failed for a reason its operator can fix; the message says which.

    ``usage``: the options do not go together (a usage error, exit 2).
    """

    def __init__(self, message: str, *, usage: bool = False) -> None:
        super().__init__(message)
        self.usage = usage


def run(
    command: Command, opener: Callable[[str], Any], program: str, given: Mapping[str, Any]
) -> list[Line]:
    """Check the options ``given`` (by :attr:`Option.dest`), open, run; the lines to show.

    Raises:
        Failed: a usage, configuration, key store or session store error.
    """
    # Imported here: building the commands must not load the signing side.
    from .signing.errors import KeyStoreError

    options = {o.dest: given.get(o.dest, o.default) for o in command.options}
    try:
        if command.check is not None:
            command.check(**options)
        return command.run(opener(command.opens), program, **options)
    except UsageError as exc:
        raise Failed(str(exc), usage=True) from None
    except ConfigurationError as exc:
        raise Failed(f"configuration error: {exc}") from None
    except KeyStoreError as exc:
        raise Failed(f"key store error: {exc}") from None
    except StateUnavailable as exc:
        raise Failed(f"the session store is unavailable: {exc}") from None


def run_each(verb: str, values: Iterable[Any], opener: Callable[[str], Any]) -> Iterator[Line]:
    """Run the sessions command ``verb`` on each distinct value in turn (an admin action).

    Raises:
        Failed: as :func:`run`, after the lines of the values before.
    """
    command = named("sessions", {"verb": verb})
    for value in dict.fromkeys(values):
        yield from run(command, opener, "", {command.options[0].dest: value})


def _check_limit(limit: int | None = None, **_: Any) -> None:
    low, high = LIMIT_RANGE
    if limit is not None and not low <= limit <= high:
        raise UsageError(f"--limit is a number from {low} to {high}")


_LIMIT = Option("--limit", "how many rows at most", kind="limit", default=admin.LISTING_LIMIT)


def _verb(name: str, help: str, *options: Option) -> Command:
    def operate(side: Any, program: str, **given: Any) -> list[Line]:
        return admin.sessions_verb(side, name, **given)

    return Command(name, help, "sessions", operate, options, _check_limit)


#: ``manage.py jwt_guard_sessions COMMAND`` and ``flask jwt-guard sessions COMMAND``.
SESSION_COMMANDS = (
    _verb(
        "list",
        "List sessions (refresh-token families) not yet expired, newest first",
        Option("--subject", "only this subject's sessions"),
        _LIMIT,
    ),
    _verb("revocations", "List the revocation rules in force", _LIMIT),
    _verb(
        "revoke-family",
        "Revoke one session by its id (the sid claim): its refresh and access tokens",
        Option("session", "the session id (the sid claim)"),
    ),
    _verb(
        "logout-subject",
        "Log a subject out everywhere: every session, every access token issued before now",
        Option("subject", "whom to log out (the sub claim)"),
    ),
    _verb("failed-attempts", "List clients with failed attempts in the rate-limit window", _LIMIT),
    _verb(
        "clear-attempts",
        "Forget a client's failed attempts (an address, or a key as listed)",
        Option("client", "a client address, or its key as listed"),
    ),
)


def _revoke(side: Any, program: str, **options: Any) -> list[Line]:
    return [admin.revoke(side.revocation, side.refresh_tokens, **options)]


#: The commands, by their Flask name (``jwt_guard_<name>`` for Django, but
#: ``rotate`` is ``jwt_guard_rotate_keys``).
COMMANDS = {
    c.name: c
    for c in (
        Command(
            "keygen",
            "Create the first signing key in the store configured by {issuing}. Does nothing "
            "when the store already holds keys (rotate replaces the signing key), so it is "
            "safe to run on every deployment.",
            "keys",
            lambda keys, program: admin.keygen(keys),
        ),
        Command(
            "rotate",
            "Rotate the signing key configured by {issuing}. Without options a new key signs "
            "from now on and the old one stays published until its tokens expire. --emergency "
            "(for a leaked key) removes every old key from the JWKS at once: every token "
            "issued before now stops verifying. --scheduled does only what the rotation "
            "schedule says is due (run it from cron when AUTO_ROTATE is off).",
            "keys",
            lambda keys, program, **options: admin.rotate(keys, **options),
            (
                Option(
                    "--emergency",
                    "drop every previous key now and invalidate every token issued before now",
                    kind="switch",
                    exclusive=True,
                ),
                Option(
                    "--scheduled",
                    "only run what the schedule says is due (publish, activate, drop)",
                    kind="switch",
                    exclusive=True,
                ),
                Option("--reason", "why, for the security event of an emergency rotation"),
            ),
            admin.check_rotate_options,
        ),
        Command(
            "keys",
            "List the signing keys of the store configured by {issuing}: kid, algorithm, "
            "state (next, active, retired) and times. Never prints key material.",
            "keys",
            lambda keys, program, json: admin.list_keys(
                keys, as_json=json, keygen_command=f"{program}keygen"
            ),
            (Option("--json", "print JSON (times as Unix time)", kind="switch"),),
        ),
        Command(
            "revoke",
            "Revoke access tokens and sessions in the store configured by {sessions}: one "
            "token by jti, one session by its sid, or every session and token of a subject "
            "(log out everywhere). Every verifier sharing the store refuses them at once.",
            "sessions",
            _revoke,
            (
                Option("--jti", "the jti claim of one access token", exclusive=True),
                Option(
                    "--session", "a session id (the sid claim; a refresh family)", exclusive=True
                ),
                Option(
                    "--subject", "a subject (sub): all of its sessions and tokens", exclusive=True
                ),
                Option(
                    "--expires-at",
                    "with --jti: the token's exp (Unix time), so the entry expires with it; "
                    "without it the entry is kept a year",
                    kind="time",
                ),
            ),
            admin.check_revoke_options,
            one_required=True,
        ),
    )
}

#: The help of the ``sessions`` command (group).
SESSIONS_HELP = (
    "Operate the sessions of {sessions} (any backend): list sessions, revocation rules and "
    "failed attempts; revoke a session, log a subject out everywhere, clear a client's "
    "failed attempts."
)


def named(name: str, options: Mapping[str, Any]) -> Command:
    """The command ``name`` runs: for ``sessions``, the one ``options["verb"]`` names."""
    if name != "sessions":
        return COMMANDS[name]
    return next(c for c in SESSION_COMMANDS if c.name == options["verb"])


def add_arguments(parser: ArgumentParser, name: str) -> None:
    """Spell the command ``name`` (``sessions``: a subcommand per verb) for ``argparse``."""
    if name == "sessions":
        verbs = parser.add_subparsers(dest="verb", required=True, metavar="COMMAND")
        for command in SESSION_COMMANDS:
            verb = verbs.add_parser(command.name, help=command.help, description=command.help)
            _add_options(verb, command)
    else:
        _add_options(parser, COMMANDS[name])


def _add_options(parser: ArgumentParser, command: Command) -> None:
    # The exclusive options are an argparse group: it refuses two of them
    # (and, when one is required, none) before the command's own checks.
    group: Any = parser
    if any(option.exclusive for option in command.options):
        group = parser.add_mutually_exclusive_group(required=command.one_required)
    types = {"time": float, "limit": int}
    for option in command.options:
        target = group if option.exclusive else parser
        if option.kind == "switch":
            target.add_argument(option.flag, action="store_true", help=option.help)
        else:
            kind = types.get(option.kind, str)
            target.add_argument(option.flag, type=kind, default=option.default, help=option.help)


# -- what an operator's pages show of the session tables (the Django admin)

#: The time fields of the session tables and their labels; a time shows as ISO 8601 UTC.
TIME_LABELS = {
    "created_at": "started",
    "issued_at": "issued",
    "expires_at": "expires",
    "revoked_at": "revoked",
    "spent_at": "spent",
    "value": "until (jti, sid, kid) / before (subject, epoch)",
    "at": "at",
}


@dataclass(frozen=True)
class RecordView:
    """A read-only page of one table of :mod:`jwt_guard_core.sessions.rows`.

    ``columns`` (space-separated) are shown in order, times by
    :data:`TIME_LABELS`. Rows are searched by the exact value of ``exact``
    and by a substring of ``search``, sorted by ``order`` (``-``:
    descending) and filtered by the value of ``choices`` and by ``state``:
    ``(time field, filter name, (value, label) while unset, (value, label)
    once set)``. ``actions`` are ``(name, text, sessions command, field)``:
    the command runs on the field of each selected row. ``secret_key``: the
    primary key is a secret (a token hash), never put in a URL.
    """

    table: str
    doc: str
    columns: str
    exact: tuple[str, ...] = ()
    search: tuple[str, ...] = ()
    order: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()
    state: tuple[str, str, tuple[str, str], tuple[str, str]] | None = None
    actions: tuple[tuple[str, str, str, str], ...] = ()
    secret_key: bool = False

    def unset_wanted(self, choice: str | None) -> bool | None:
        """Whether the ``state`` filter's ``choice`` asks for rows whose time is unset
        (``True``) or set (``False``); ``None``: no such choice, every row."""
        if self.state is None:
            return None
        return {self.state[2][0]: True, self.state[3][0]: False}.get(choice or "")


#: The pages of sessions, refresh tokens, revocation rules and failed attempts.
RECORD_VIEWS = (
    RecordView(
        "family",
        "Sessions: one per login, every refresh token rotated from it.",
        "family_id subject created_at expires_at revoked_at",
        exact=("family_id",),
        search=("subject",),
        order=("-created_at",),
        state=("revoked_at", "state", ("live", "live"), ("revoked", "revoked")),
        actions=(
            ("revoke_sessions", "Revoke the selected sessions", "revoke-family", "family_id"),
            ("log_subjects_out", "Log their subjects out everywhere", "logout-subject", "subject"),
        ),
    ),
    RecordView(
        "token",
        "Refresh tokens by session; the stored hash is never shown.",
        "family_id subject scopes issued_at expires_at spent_at",
        exact=("family_id",),
        search=("subject",),
        order=("-issued_at",),
        state=("spent_at", "spent", ("no", "unspent"), ("yes", "spent")),
        secret_key=True,
    ),
    RecordView(
        "rule",
        "Revocation rules: denied tokens (jti), sessions (sid), keys (kid); subjects; the epoch.",
        "kind key value",
        search=("key",),
        order=("kind", "key"),
        choices=("kind",),
    ),
    RecordView(
        "failure",
        "Failed attempts counted by the rate limiter, by client key.",
        "client at",
        search=("client",),
        order=("-at",),
        actions=(
            (
                "clear_attempts",
                "Clear the failed attempts of the selected clients",
                "clear-attempts",
                "client",
            ),
        ),
    ),
)
