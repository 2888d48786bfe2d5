"""``flask jwt-guard keygen | rotate [--emergency | --scheduled] | keys``.

Thin shells over the core ``KeyManager`` configured by the app's
``JWT_GUARD_ISSUING_*`` keys. Added to ``app.cli`` by ``JWTGuard.init_app``
and by registering :data:`~jwt_guard_flask.blueprint.issuing_blueprint`
(or call :func:`register_cli` yourself). Key material is never printed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone
from functools import wraps
from typing import Any, TypeVar

import click
from flask import Flask
from flask.cli import AppGroup

from jwt_guard_core import ConfigurationError, StateUnavailable
from jwt_guard_core.cli import key_rows, key_table
from jwt_guard_core.signing import KeyManager, KeyStoreError

from ._sessions import get_sessions
from .issuing import get_key_manager

__all__ = ["jwt_guard_cli", "register_cli"]

F = TypeVar("F", bound=Callable[..., Any])

jwt_guard_cli = AppGroup(
    "jwt-guard", help="Manage the signing keys configured by JWT_GUARD_ISSUING_*."
)


def register_cli(app: Flask) -> None:
    """Add the ``jwt-guard`` command group to ``app.cli`` (once)."""
    if jwt_guard_cli.name not in app.cli.commands:
        app.cli.add_command(jwt_guard_cli)


def _errors_as_click(command: F) -> F:
    """A bad setting or a store failure is a one-line error and exit 1, not a traceback."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ConfigurationError as exc:
            raise click.ClickException(f"configuration error: {exc}") from None
        except KeyStoreError as exc:
            raise click.ClickException(f"key store error: {exc}") from None

    return wrapper  # type: ignore[return-value]


def _iso(value: float | None) -> str:
    if value is None:
        return "-"
    return datetime.fromtimestamp(value, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _keys() -> KeyManager:
    return get_key_manager()


@jwt_guard_cli.command("keygen")
@_errors_as_click
def keygen() -> None:
    """Create the first signing key; does nothing when the store already holds keys."""
    keys = _keys()
    existing = keys.list_keys()
    if existing:
        active = next((k for k in existing if k.state == "active"), None)
        where = f"; active key {active.kid} ({active.algorithm})" if active else ""
        click.echo(f"the key store already holds {len(existing)} key(s){where}; nothing generated")
        return
    keys.maybe_rotate()
    info = keys.active_key()
    click.echo(f"created signing key {info.kid} ({info.algorithm})")


@jwt_guard_cli.command("rotate")
@click.option(
    "--emergency",
    is_flag=True,
    help="Drop every previous key now; every token issued before now stops verifying.",
)
@click.option(
    "--scheduled",
    is_flag=True,
    help="Only run what the rotation schedule says is due (for cron, AUTO_ROTATE off).",
)
@click.option("--reason", help="Why, for the security event of an emergency rotation.")
@_errors_as_click
def rotate(emergency: bool, scheduled: bool, reason: str | None) -> None:
    """Rotate the signing key; the old one stays published until its tokens expire."""
    if emergency and scheduled:
        raise click.UsageError("--emergency and --scheduled cannot be combined")
    if reason is not None and not emergency:
        raise click.UsageError("--reason is only used with --emergency")
    keys = _keys()
    if emergency:
        info = keys.emergency_rotate(reason=reason)
        click.echo(
            f"emergency rotation: {info.kid} ({info.algorithm}) is the only key; every token "
            f"issued before {_iso(keys.emergency_epoch)} is invalid"
        )
        return
    if scheduled:
        outcome = keys.maybe_rotate()
        if not outcome:
            click.echo("nothing due")
            return
        for label, kid in (
            ("created", outcome.created),
            ("published", outcome.published),
            ("activated", outcome.activated),
            ("retired", outcome.retired),
        ):
            if kid:
                click.echo(f"{label} {kid}")
        for kid in outcome.dropped:
            click.echo(f"dropped {kid}")
        return
    previous = keys.active_key() if keys.list_keys() else None
    info = keys.rotate()
    line = f"rotated: {info.kid} ({info.algorithm}) signs from now on"
    if previous is not None:
        line += f"; {previous.kid} is retired and stays published for its tokens"
    click.echo(line)


@jwt_guard_cli.command("keys")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (times as Unix time).")
@_errors_as_click
def list_keys(as_json: bool) -> None:
    """List kids, algorithms, states and times (never key material)."""
    keys = _keys()
    infos = keys.list_keys()
    epoch = keys.emergency_epoch
    if as_json:
        click.echo(json.dumps({"keys": key_rows(infos), "emergency_epoch": epoch}, indent=2))
        return
    if not infos:
        click.echo("no keys yet; run flask jwt-guard keygen")
        return
    for line in key_table(infos, epoch):
        click.echo(line)


@jwt_guard_cli.command("revoke")
@click.option("--jti", help="The jti claim of one access token.")
@click.option("--session", help="A session id (the sid claim; a refresh-token family).")
@click.option("--subject", help="A subject (sub): all of its sessions and tokens.")
@click.option(
    "--expires-at",
    type=float,
    help="With --jti: the token's exp (Unix time), so the entry expires with it.",
)
@_errors_as_click
def revoke(
    jti: str | None, session: str | None, subject: str | None, expires_at: float | None
) -> None:
    """Revoke one access token, one session or every token of a subject (log out everywhere)."""
    given = [
        name
        for name, value in (("--jti", jti), ("--session", session), ("--subject", subject))
        if value
    ]
    if len(given) != 1:
        raise click.UsageError("give exactly one of --jti, --session, --subject")
    if expires_at is not None and jti is None:
        raise click.UsageError("--expires-at goes with --jti")
    try:
        sessions = get_sessions()
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        if jti is not None:
            sessions.revocation.revoke_jti(jti, expires_at=expires_at)
            click.echo(f"revoked token {jti}")
        elif session is not None:
            sessions.refresh_tokens.revoke_family(session)
            click.echo(f"revoked session {session}")
        else:
            assert subject is not None
            count = sessions.refresh_tokens.revoke_subject(subject)
            click.echo(f"revoked every token of {subject} ({count} session(s) ended)")
    except StateUnavailable as exc:
        raise click.ClickException(f"the session store is unavailable: {exc}") from None
