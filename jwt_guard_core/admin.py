"""What the adapters' key and revocation commands do and say, written once.

``manage.py jwt_guard_keygen | jwt_guard_rotate_keys | jwt_guard_keys |
jwt_guard_revoke`` and ``flask jwt-guard keygen | rotate | keys | revoke``
parse their options and print :class:`Line` objects these functions
return; a bad combination of options raises :class:`UsageError` with the
text to show. Key material is never part of a line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .sessions import RefreshTokenService, RevocationService
    from .signing import KeyManager

__all__ = [
    "Line",
    "UsageError",
    "check_revoke_options",
    "check_rotate_options",
    "iso",
    "keygen",
    "list_keys",
    "revoke",
    "rotate",
]


class UsageError(ValueError):
    """Options that do not go together; the message says which."""


@dataclass(frozen=True)
class Line:
    """One line of a command's output; ``tone`` is ``"success"``, ``"warning"`` or ``""``."""

    text: str
    tone: str = ""


def iso(value: float | None) -> str:
    """A Unix time as ``2026-01-31T12:00:00Z`` (``-`` for none)."""
    if value is None:
        return "-"
    return datetime.fromtimestamp(value, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def keygen(keys: KeyManager) -> list[Line]:
    """Create the first signing key; nothing when the store already holds keys."""
    existing = keys.list_keys()
    if existing:
        active = next((k for k in existing if k.state == "active"), None)
        where = f"; active key {active.kid} ({active.algorithm})" if active else ""
        return [
            Line(f"the key store already holds {len(existing)} key(s){where}; nothing generated")
        ]
    outcome = keys.maybe_rotate()
    info = keys.active_key()
    verb = "created" if outcome.created == info.kid else "found"
    return [Line(f"{verb} signing key {info.kid} ({info.algorithm})", "success")]


def rotate(
    keys: KeyManager, *, emergency: bool = False, scheduled: bool = False, reason: str | None = None
) -> list[Line]:
    """Rotate now, in an emergency (every older key dropped), or as the schedule says."""
    check_rotate_options(emergency=emergency, scheduled=scheduled, reason=reason)
    if emergency:
        from .cli._store import emergency_summary

        removed = [k.kid for k in keys.list_keys()]
        info = keys.emergency_rotate(reason=reason)
        return [Line(emergency_summary(keys, info, removed), "warning")]
    if scheduled:
        outcome = keys.maybe_rotate()
        if not outcome:
            return [Line("nothing due")]
        steps = (
            ("created", outcome.created),
            ("published", outcome.published),
            ("activated", outcome.activated),
            ("retired", outcome.retired),
        )
        lines = [Line(f"{label} {kid}") for label, kid in steps if kid]
        return lines + [Line(f"dropped {kid}") for kid in outcome.dropped]
    previous = keys.active_key() if keys.list_keys() else None
    info = keys.rotate()
    text = f"rotated: {info.kid} ({info.algorithm}) signs from now on"
    if previous is not None:
        text += f"; {previous.kid} is retired and stays published for its tokens"
    return [Line(text, "success")]


def check_rotate_options(*, emergency: bool, scheduled: bool, reason: str | None) -> None:
    """The option checks of :func:`rotate`, before any store is opened."""
    if emergency and scheduled:
        raise UsageError("--emergency and --scheduled cannot be combined")
    if reason is not None and not emergency:
        raise UsageError("--reason is only used with --emergency")


def list_keys(keys: KeyManager, *, as_json: bool, keygen_command: str) -> list[Line]:
    """Kids, algorithms, states and times (never key material), as a table or JSON."""
    from .cli import key_rows, key_table

    infos = keys.list_keys()
    epoch = keys.emergency_epoch
    if as_json:
        document: dict[str, Any] = {"keys": key_rows(infos), "emergency_epoch": epoch}
        return [Line(json.dumps(document, indent=2))]
    if not infos:
        return [Line(f"no keys yet; run {keygen_command}")]
    return [Line(text) for text in key_table(infos, epoch)]


def revoke(
    revocation: RevocationService,
    refresh_tokens: RefreshTokenService,
    *,
    jti: str | None = None,
    session: str | None = None,
    subject: str | None = None,
    expires_at: float | None = None,
) -> Line:
    """Revoke one access token (``jti``), one session, or every token of a subject."""
    check_revoke_options(jti=jti, session=session, subject=subject, expires_at=expires_at)
    if jti is not None:
        revocation.revoke_jti(jti, expires_at=expires_at)
        return Line(f"revoked token {jti}")
    if session is not None:
        refresh_tokens.revoke_family(session)
        return Line(f"revoked session {session}")
    assert subject is not None
    count = refresh_tokens.revoke_subject(subject)
    return Line(f"revoked every token of {subject} ({count} session(s) ended)")


def check_revoke_options(
    *, jti: str | None, session: str | None, subject: str | None, expires_at: float | None
) -> None:
    """The option checks of :func:`revoke`, before any store is opened."""
    given = [v for v in (jti, session, subject) if v]
    if len(given) != 1:
        raise UsageError("give exactly one of --jti, --session, --subject")
    if expires_at is not None and jti is None:
        raise UsageError("--expires-at goes with --jti")
