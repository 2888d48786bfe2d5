"""``flask jwt-guard keygen | rotate | keys | revoke | check | sessions ...``.

Thin shells over the core ``KeyManager`` configured by the app's
``JWT_GUARD_ISSUING_*`` keys and the session services of
``JWT_GUARD_SESSIONS_*`` (``sessions list | revocations | revoke-family |
logout-subject | failed-attempts | clear-attempts``). Added to ``app.cli`` by ``JWTGuard.init_app``
and by registering :data:`~jwt_guard_flask.blueprint.issuing_blueprint`
(or call :func:`register_cli` yourself). Key material is never printed.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

import click
from flask import Flask
from flask.cli import AppGroup

from jwt_guard_core import ConfigurationError, StateUnavailable, admin
from jwt_guard_core.admin import Line

from ._sessions import get_sessions
from .issuing import get_key_manager

if TYPE_CHECKING:
    from jwt_guard_core.signing import KeyManager

__all__ = ["jwt_guard_cli", "register_cli"]

F = TypeVar("F", bound=Callable[..., Any])

jwt_guard_cli = AppGroup(
    "jwt-guard",
    help="Manage the signing keys (JWT_GUARD_ISSUING_*) and sessions (JWT_GUARD_SESSIONS_*).",
)


def register_cli(app: Flask) -> None:
    """Add the ``jwt-guard`` command group to ``app.cli`` (once)."""
    if jwt_guard_cli.name not in app.cli.commands:
        app.cli.add_command(jwt_guard_cli)


def _errors_as_click(command: F) -> F:
    """A bad setting or a store failure is a one-line error and exit 1, not a traceback."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        # Imported when a command runs: registering the commands must not
        # load the signing side.
        from jwt_guard_core.signing import KeyStoreError

        try:
            return command(*args, **kwargs)
        except ConfigurationError as exc:
            raise click.ClickException(f"configuration error: {exc}") from None
        except KeyStoreError as exc:
            raise click.ClickException(f"key store error: {exc}") from None
        except admin.UsageError as exc:
            raise click.UsageError(str(exc)) from None

    return wrapper  # type: ignore[return-value]


def _echo(lines: list[Line]) -> None:
    for line in lines:
        click.echo(line.text)


def _keys() -> KeyManager:
    return get_key_manager()


@jwt_guard_cli.command("keygen")
@_errors_as_click
def keygen() -> None:
    """Create the first signing key; does nothing when the store already holds keys."""
    _echo(admin.keygen(_keys()))


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
    admin.check_rotate_options(emergency=emergency, scheduled=scheduled, reason=reason)
    _echo(admin.rotate(_keys(), emergency=emergency, scheduled=scheduled, reason=reason))


@jwt_guard_cli.command("keys")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (times as Unix time).")
@_errors_as_click
def list_keys(as_json: bool) -> None:
    """List kids, algorithms, states and times (never key material)."""
    _echo(admin.list_keys(_keys(), as_json=as_json, keygen_command="flask jwt-guard keygen"))


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
    options: dict[str, Any] = {
        "jti": jti,
        "session": session,
        "subject": subject,
        "expires_at": expires_at,
    }
    admin.check_revoke_options(**options)
    try:
        sessions = get_sessions()
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        _echo([admin.revoke(sessions.revocation, sessions.refresh_tokens, **options)])
    except StateUnavailable as exc:
        raise click.ClickException(f"the session store is unavailable: {exc}") from None


@jwt_guard_cli.command("check")
def check() -> None:
    """Report what is wrong or risky, fetching every remote key set now; exit 1 on an error.

    The start-up checks of Django's ``manage.py check --deploy`` for a
    Flask app: the settings, every route (one demanding DPoP while
    ``JWT_GUARD_DPOP`` is off), and each remote key set (a discovery
    document for another issuer, a JWKS URL that is not a key set, a
    provider that cannot be reached).
    """
    from flask import current_app

    from jwt_guard_core.settings import findings
    from jwt_guard_core.startup import key_set_findings

    from ._startup import check_routes
    from .config import read

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    guard = app.extensions.get("jwt_guard")
    if guard is None:
        raise click.ClickException("jwt-guard is not registered on this app (JWTGuard(app))")
    parsed = read(app.config)
    found = findings(parsed) + check_routes(app, parsed)
    found += key_set_findings(parsed, guard.verifier(app).config)
    for finding in found:
        click.echo(f"{'ERROR' if finding.error else 'WARNING'}: {finding.message}")
        if finding.hint:
            click.echo(f"    {finding.hint}")
    errors = sum(1 for f in found if f.error)
    if errors:
        raise click.ClickException(f"{errors} error(s) found")
    click.echo(f"jwt-guard: no errors ({len(found)} warning(s))")


# -- flask jwt-guard sessions ... (what each prints: jwt_guard_core.admin)


@jwt_guard_cli.group("sessions")
def sessions_cli() -> None:
    """Operate sessions: list them, revoke one, log a subject out, clear failed attempts."""


def _operate(verb: str, **arguments: Any) -> None:
    """Run the core's ``verb`` on the app's session services; errors as one line, exit 1."""
    try:
        sessions = get_sessions()
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        _echo(admin.sessions_verb(sessions.side, verb, **arguments))
    except StateUnavailable as exc:
        raise click.ClickException(f"the session store is unavailable: {exc}") from None


_LIMIT = click.option(
    "--limit", type=click.IntRange(1, 10_000), default=admin.LISTING_LIMIT, show_default=True
)


@sessions_cli.command("list")
@click.option("--subject", help="Only this subject's sessions.")
@_LIMIT
@_errors_as_click
def sessions_list(subject: str | None, limit: int) -> None:
    """List sessions (refresh-token families) not yet expired, newest first."""
    _operate("list", subject=subject, limit=limit)


@sessions_cli.command("revocations")
@_LIMIT
@_errors_as_click
def sessions_revocations(limit: int) -> None:
    """List the revocation rules in force (denied tokens, sessions, keys; subjects; epoch)."""
    _operate("revocations", limit=limit)


@sessions_cli.command("revoke-family")
@click.argument("session")
@_errors_as_click
def sessions_revoke_family(session: str) -> None:
    """Revoke one session by its id (the sid claim): its refresh and access tokens."""
    _operate("revoke-family", session=session)


@sessions_cli.command("logout-subject")
@click.argument("subject")
@_errors_as_click
def sessions_logout_subject(subject: str) -> None:
    """Log a subject out everywhere: every session and every access token issued before now."""
    _operate("logout-subject", subject=subject)


@sessions_cli.command("failed-attempts")
@_LIMIT
@_errors_as_click
def sessions_failed_attempts(limit: int) -> None:
    """List clients with failed attempts in the rate-limit window."""
    _operate("failed-attempts", limit=limit)


@sessions_cli.command("clear-attempts")
@click.argument("client")
@_errors_as_click
def sessions_clear_attempts(client: str) -> None:
    """Forget a client's failed attempts (an address, or a key as listed)."""
    _operate("clear-attempts", client=client)
